# Fails when the binary linked with cep_loader_lean needs the shared libLLVM or carries ORC. Run
# as: cmake -DCLOSURES=<file> -DBINARY=<cep_loader_lean_tests> -DREADELF=<readelf> -DNM=<nm>
# -P this. Three checks:
#   1. the link closures of cep_loader_lean and cep_loader_lean_tests (link_closures.txt, written
#      at configure time) reach neither cep_llvm (the shared libLLVM) nor cep_loader;
#   2. the binary's dynamic section (readelf -d) names no libLLVM in its NEEDED entries;
#   3. the binary defines no ORC, JITLink or LoadHost symbol (nm -C).
cmake_minimum_required(VERSION 3.25)
foreach(var CLOSURES BINARY READELF NM)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_lean_binary.cmake: -D${var}=... is required")
  endif()
endforeach()
set(failures "")

file(STRINGS ${CLOSURES} lines)
foreach(line IN LISTS lines)
  string(REGEX MATCH "^([^:]+): (.*)$" _ "${line}")
  set(target ${CMAKE_MATCH_1})
  set(deps ${CMAKE_MATCH_2})
  if(target MATCHES "^cep_loader_lean")
    foreach(bad cep_llvm cep_loader LLVM)
      if(bad IN_LIST deps)
        string(APPEND failures "\n  ${target} links ${bad} (closure: ${deps})")
      endif()
    endforeach()
    message(STATUS "${target} links: ${deps}")
  endif()
endforeach()

execute_process(COMMAND ${READELF} -d ${BINARY} OUTPUT_VARIABLE dynamic RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "${READELF} -d ${BINARY} failed (${code})")
endif()
string(REGEX MATCHALL "\\(NEEDED\\)[^\n]*" needed "${dynamic}")
message(STATUS "${BINARY} needs: ${needed}")
foreach(entry IN LISTS needed)
  if(entry MATCHES "libLLVM")
    string(APPEND failures "\n  ${BINARY} needs the shared libLLVM: ${entry}")
  endif()
endforeach()

execute_process(COMMAND ${NM} -C --defined-only ${BINARY} OUTPUT_VARIABLE symbols
                RESULT_VARIABLE code)
if(NOT code EQUAL 0)
  message(FATAL_ERROR "${NM} ${BINARY} failed (${code})")
endif()
foreach(pattern "llvm::orc::" "llvm::jitlink::" "cep::compiler::jit::LoadHost::")
  string(FIND "${symbols}" "${pattern}" at)
  if(NOT at EQUAL -1)
    string(SUBSTRING "${symbols}" ${at} 160 context)
    string(REGEX REPLACE "\n.*" "" context "${context}")
    string(APPEND failures "\n  ${BINARY} defines ${pattern}... (${context})")
  endif()
endforeach()

if(failures)
  message(FATAL_ERROR "the lean loader reaches the shared libLLVM or ORC:${failures}")
endif()
message(STATUS "the lean loader needs neither the shared libLLVM nor ORC")
