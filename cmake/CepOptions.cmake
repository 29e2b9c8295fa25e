# Build options and compiler settings shared by every target.
option(CEP_BUILD_TESTS "Build the unit tests and register the golden tests" ON)
option(CEP_SANITIZE "Build with AddressSanitizer and UndefinedBehaviorSanitizer" OFF)
option(CEP_TSAN "Build with ThreadSanitizer (the tsan preset; `make tsan`)" OFF)
option(CEP_FUZZ "Build libFuzzer targets (needs clang)" OFF)
option(CEP_WERROR "Treat compiler warnings as errors" OFF)

find_program(CEP_CCACHE ccache)
if(CEP_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CEP_CCACHE})
endif()

# Every cep target links this for warnings and sanitizer flags.
add_library(cep_options INTERFACE)
target_compile_options(cep_options INTERFACE -Wall -Wextra -Wno-unused-parameter)
if(CEP_WERROR)
  target_compile_options(cep_options INTERFACE -Werror)
endif()
if(CEP_SANITIZE)
  target_compile_options(cep_options INTERFACE -fsanitize=address,undefined -fno-omit-frame-pointer
                                               -fno-sanitize-recover=undefined)
  target_link_options(cep_options INTERFACE -fsanitize=address,undefined)
endif()
if(CEP_TSAN)
  if(CEP_SANITIZE)
    message(FATAL_ERROR "CEP_TSAN and CEP_SANITIZE (AddressSanitizer) cannot be combined")
  endif()
  target_compile_options(cep_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer -g)
  target_link_options(cep_options INTERFACE -fsanitize=thread)
endif()
if(CEP_FUZZ)
  # Instrument everything for coverage; the fuzz targets add -fsanitize=fuzzer (with main).
  target_compile_options(cep_options INTERFACE -fsanitize=fuzzer-no-link,address,undefined
                                               -fno-omit-frame-pointer -g)
  target_link_options(cep_options INTERFACE -fsanitize=address,undefined)
endif()
