# Every dependency comes from a Debian bookworm package; nothing is vendored or downloaded.
# A missing one stops the configure with one line naming the package (scripts/setup installs it).

function(cep_missing package what)
  message(FATAL_ERROR "missing Debian package ${package} (${what}): run scripts/setup")
endfunction()

find_package(PkgConfig QUIET)
if(NOT PkgConfig_FOUND)
  cep_missing(pkg-config "pkg-config")
endif()

# LLVM 19: a bare find_package(LLVM) picks another installed LLVM; a bare "19" is rejected.
find_package(LLVM 19.1 QUIET CONFIG PATHS /usr/lib/llvm-19/lib/cmake/llvm NO_DEFAULT_PATH)
if(NOT LLVM_FOUND)
  cep_missing(llvm-19-dev "LLVM 19")
endif()
# Debian's LLVM is built with RTTI and without exceptions: never copy llvm-config --cxxflags.
add_library(cep_llvm INTERFACE)
target_include_directories(cep_llvm SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
separate_arguments(CEP_LLVM_DEFS NATIVE_COMMAND "${LLVM_DEFINITIONS}")
target_compile_options(cep_llvm INTERFACE ${CEP_LLVM_DEFS})
# The shared libLLVM-19.so, or for an executable with the property CEP_STATIC_LLVM set (the `cep`
# program: cli/CMakeLists.txt) the static archives of the components it uses. Loading the shared
# libLLVM costs every start of a process ~13 ms of CPU (its 366k relocations and its static
# constructors, bench/RESULTS.md "Compile time and start-up"); linked statically only the code
# used is mapped and relocated. Tests and tools keep the shared library (links in under a second).
# Off by default: the project's builds link the shared libLLVM (a link of `cep` against the static
# archives takes ~6 s on this 2-core machine); configure with -DCEP_STATIC_LLVM=ON for a binary
# to deploy, where every start counts (README "Installing").
option(CEP_STATIC_LLVM "Link the cep program against LLVM's static archives" OFF)
llvm_map_components_to_libnames(CEP_LLVM_STATIC_LIBS
  core support passes orcjit jitlink executionengine bitreader bitwriter object mc target
  ${LLVM_NATIVE_ARCH})
add_library(cep_llvm_static INTERFACE)
target_link_libraries(cep_llvm_static INTERFACE ${CEP_LLVM_STATIC_LIBS})
target_link_libraries(cep_llvm
  INTERFACE $<IF:$<BOOL:$<TARGET_PROPERTY:CEP_STATIC_LLVM>>,cep_llvm_static,LLVM>)
# LLVM's host CPU detection alone (llvm/TargetParser/Host.h), from the static archives by path,
# for cep_loader_lean (compiler/CMakeLists.txt), which must not load the shared libLLVM. Not the
# imported targets: LLVMSupport's would add libz3.so and others to every such binary.
add_library(cep_llvm_host_cpu INTERFACE)
target_include_directories(cep_llvm_host_cpu SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
target_link_libraries(cep_llvm_host_cpu INTERFACE
  ${LLVM_LIBRARY_DIR}/libLLVMTargetParser.a ${LLVM_LIBRARY_DIR}/libLLVMSupport.a
  ${LLVM_LIBRARY_DIR}/libLLVMDemangle.a)

find_package(pegtl 3 QUIET CONFIG)
if(NOT pegtl_FOUND)
  cep_missing(tao-pegtl-dev "PEGTL 3")
endif()

find_package(CLI11 2 QUIET CONFIG)
if(NOT CLI11_FOUND)
  cep_missing(libcli11-dev "CLI11")
endif()

find_package(simdjson QUIET CONFIG)
if(NOT simdjson_FOUND)
  cep_missing(libsimdjson-dev "simdjson")
endif()

find_package(fmt 9 QUIET CONFIG)
if(NOT fmt_FOUND)
  cep_missing(libfmt-dev "fmt")
endif()

find_package(RocksDB 7 QUIET CONFIG)
if(NOT RocksDB_FOUND)
  cep_missing(librocksdb-dev "RocksDB")
endif()

# Ed25519 signatures of .cepo artifacts (compiler/artifact/signing.hpp).
pkg_check_modules(SODIUM QUIET IMPORTED_TARGET libsodium>=1.0.18)
if(NOT SODIUM_FOUND)
  cep_missing(libsodium-dev "libsodium, for signing .cepo artifacts")
endif()

pkg_check_modules(RDKAFKA QUIET IMPORTED_TARGET rdkafka>=2.0)
if(NOT RDKAFKA_FOUND)
  cep_missing(librdkafka-dev "librdkafka")
endif()

# The admin HTTP endpoint of `cep serve` and its clients (service/). Debian builds the library
# with TLS, zlib and brotli support: its pkg-config flags must be used, they change the classes.
pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib>=0.11)
if(NOT HTTPLIB_FOUND)
  cep_missing(libcpp-httplib-dev "cpp-httplib, for the admin endpoint of cep serve")
endif()

if(CEP_BUILD_TESTS)
  find_package(Catch2 2 QUIET CONFIG)
  if(NOT Catch2_FOUND)
    cep_missing(catch2 "Catch2 2")
  endif()
endif()

find_package(Python3 3.9 QUIET COMPONENTS Interpreter)
if(NOT Python3_FOUND)
  cep_missing(python3 "Python 3 (runs the golden tests)")
endif()
