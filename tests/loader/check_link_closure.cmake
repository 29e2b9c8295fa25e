# Fails when a load-only library or the loader test binary reaches the front end or the code
# generator. Run as: cmake -DCLOSURES=<file> -DBINARY=<cep_loader_tests> -DNM=<nm>
# -DCXX=<compiler> -DSRC=<source dir> -P this. Three checks:
#   1. link closures (computed at configure time by tests/loader/CMakeLists.txt, one line per
#      library: "<target>: <dep>;<dep>;...") contain none of the forbidden targets;
#   2. the binary linked with cep_loader alone defines no front-end, PEGTL or codegen symbol;
#   3. the loader's public headers include no lang/, nfa/, codegen/, PEGTL or LLVM header.
cmake_minimum_required(VERSION 3.25)
foreach(var CLOSURES BINARY NM CXX SRC)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_link_closure.cmake: -D${var}=... is required")
  endif()
endforeach()
set(forbidden cep_lang cep_compiler cep_compiler_schema cep_interp cep_codegen cep_driver
              taocpp::pegtl)
set(failures "")

file(STRINGS ${CLOSURES} lines)
foreach(line IN LISTS lines)
  string(REGEX MATCH "^([^:]+): (.*)$" _ "${line}")
  set(target ${CMAKE_MATCH_1})
  set(deps ${CMAKE_MATCH_2})
  foreach(bad IN LISTS forbidden)
    if(bad IN_LIST deps)
      string(APPEND failures "\n  ${target} links ${bad} (closure: ${deps})")
    endif()
  endforeach()
  message(STATUS "${target} links: ${deps}")
endforeach()

execute_process(COMMAND ${NM} -C --defined-only ${BINARY} OUTPUT_VARIABLE symbols
                RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "${NM} ${BINARY} failed (${code})")
endif()
foreach(pattern "cep::lang::" "tao::pegtl::" "cep::compiler::codegen::" "cep::compiler::nfa::"
                "cep::compiler::driver::" "cep::compiler::jit::Jit::" "llvm::PassBuilder::")
  string(FIND "${symbols}" "${pattern}" at)
  if(NOT at EQUAL -1)
    string(SUBSTRING "${symbols}" ${at} 160 context)
    string(REGEX REPLACE "\n.*" "" context "${context}")
    string(APPEND failures "\n  ${BINARY} defines ${pattern}... (${context})")
  endif()
endforeach()

foreach(header compiler/artifact/load.hpp compiler/jit/load_host.hpp
               compiler/jit/host_symbols.hpp compiler/jit/verify_code.hpp
               compiler/jit/loaded_program.hpp compiler/jit/object_linker.hpp
               compiler/jit/elf_view.hpp compiler/jit/required_symbols.hpp
               service/serve_runtime.hpp)
  execute_process(COMMAND ${CXX} -std=c++20 -I${SRC} -M -x c++ ${SRC}/${header}
                  OUTPUT_VARIABLE deps ERROR_VARIABLE err RESULT_VARIABLE code)
  if(NOT code EQUAL 0)
    string(APPEND failures "\n  ${header} does not compile alone: ${err}")
  endif()
  foreach(pattern "/lang/" "/compiler/nfa/" "/compiler/codegen/" "pegtl" "/llvm/" "/llvm-c/")
    string(FIND "${deps}" "${pattern}" at)
    if(NOT at EQUAL -1)
      string(APPEND failures "\n  ${header} includes a ${pattern} header")
    endif()
  endforeach()
endforeach()

if(failures)
  message(FATAL_ERROR "loading reaches the front end or the code generator:${failures}")
endif()
message(STATUS "the loader links and includes neither the front end nor the code generator")
