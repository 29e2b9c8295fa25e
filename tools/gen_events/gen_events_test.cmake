# Tests of gen-events, run by ctest as `cmake -DMODE=... -P gen_events_test.cmake` (see
# tools/CMakeLists.txt). Each mode fails with a message saying what went wrong.
#
#   MODE=same-seed    GEN WORK ARGS            two runs with ARGS give identical bytes; another
#                                              seed gives different ones
#   MODE=reproduce    GEN WORK ARGS EXAMPLE    ARGS regenerate EXAMPLE/events.jsonl and
#                                              labels.jsonl byte for byte, and EXAMPLE/README.md
#                                              documents exactly that command
#   MODE=check        GEN WORK ARGS PYTHON CHECKER CHECK_ARGS
#                                              a run with ARGS passes check_labels.py CHECK_ARGS
#   MODE=command-line GEN                      --help works; bad arguments exit 2 with one line
#                                              naming the argument
#
# ARGS and CHECK_ARGS are space-separated.
cmake_minimum_required(VERSION 3.25)

separate_arguments(args UNIX_COMMAND "${ARGS}")
separate_arguments(check_args UNIX_COMMAND "${CHECK_ARGS}")

function(generate events labels)
  execute_process(COMMAND ${GEN} ${ARGN} -o ${events} --labels ${labels}
                  RESULT_VARIABLE result ERROR_VARIABLE error)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "gen-events ${ARGN} failed (${result}): ${error}")
  endif()
endfunction()

function(expect_same_file a b)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${a} ${b} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${a} and ${b} differ")
  endif()
endfunction()

if(DEFINED WORK)
  file(REMOVE_RECURSE ${WORK})
  file(MAKE_DIRECTORY ${WORK})
endif()

if(MODE STREQUAL "same-seed")
  generate(${WORK}/first.jsonl ${WORK}/first.labels.jsonl ${args})
  generate(${WORK}/second.jsonl ${WORK}/second.labels.jsonl ${args})
  expect_same_file(${WORK}/first.jsonl ${WORK}/second.jsonl)
  expect_same_file(${WORK}/first.labels.jsonl ${WORK}/second.labels.jsonl)
  generate(${WORK}/other.jsonl ${WORK}/other.labels.jsonl ${args} --seed 987654321)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK}/first.jsonl
                          ${WORK}/other.jsonl RESULT_VARIABLE result)
  if(result EQUAL 0)
    message(FATAL_ERROR "a different --seed gave the same events")
  endif()
  # The stream on stdout is the same as the one written with -o.
  execute_process(COMMAND ${GEN} ${args} OUTPUT_FILE ${WORK}/stdout.jsonl RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "gen-events ${args} (to stdout) failed (${result})")
  endif()
  expect_same_file(${WORK}/first.jsonl ${WORK}/stdout.jsonl)

elseif(MODE STREQUAL "reproduce")
  generate(${WORK}/events.jsonl ${WORK}/labels.jsonl ${args})
  expect_same_file(${WORK}/events.jsonl ${EXAMPLE}/events.jsonl)
  expect_same_file(${WORK}/labels.jsonl ${EXAMPLE}/labels.jsonl)
  set(documented "gen-events ${ARGS} -o examples/fraud/events.jsonl --labels examples/fraud/labels.jsonl")
  file(READ ${EXAMPLE}/README.md readme)
  string(FIND "${readme}" "${documented}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "${EXAMPLE}/README.md does not document the command `${documented}`")
  endif()

elseif(MODE STREQUAL "check")
  generate(${WORK}/events.jsonl ${WORK}/labels.jsonl ${args})
  execute_process(COMMAND ${PYTHON} ${CHECKER} ${WORK}/events.jsonl ${WORK}/labels.jsonl
                          ${check_args} RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "check_labels.py found problems in the output of gen-events ${ARGS}")
  endif()

elseif(MODE STREQUAL "command-line")
  execute_process(COMMAND ${GEN} --help RESULT_VARIABLE result OUTPUT_VARIABLE help)
  if(NOT result EQUAL 0 OR NOT help MATCHES "Usage: gen-events")
    message(FATAL_ERROR "gen-events --help failed (${result})")
  endif()
  # Each case: the arguments (`|` between them) and the option the error must name.
  set(cases
      "--seed|x=--seed"
      "--events|-1=--events"
      "--events=abc=--events"
      "--rate|0=--rate"
      "--rate|fast=--rate"
      "--start|2026-02-30T00:00:00Z=--start"
      "--disorder|2x=--disorder"
      "--cards|0=--cards"
      "--users|100000=--users"
      "--velocity|-2=--velocity"
      "--time-format|iso=--time-format"
      "--events=--events"
      "--bogus=--bogus"
      "stray=stray"
      "--cards|1|--rate|100|--events|20000=--cards")
  foreach(case IN LISTS cases)
    string(REGEX MATCH "^(.*)=([^=]*)$" ignored "${case}")
    set(expected "${CMAKE_MATCH_2}")
    string(REPLACE "|" ";" case_args "${CMAKE_MATCH_1}")
    execute_process(COMMAND ${GEN} ${case_args} RESULT_VARIABLE result OUTPUT_VARIABLE out
                    ERROR_VARIABLE error)
    string(STRIP "${error}" error)
    if(NOT result EQUAL 2)
      message(FATAL_ERROR "gen-events ${case_args}: exit ${result}, expected 2")
    endif()
    if(error MATCHES "\n" OR NOT error MATCHES "^gen-events: .*${expected}")
      message(FATAL_ERROR "gen-events ${case_args}: expected one line naming ${expected}, "
                          "got: ${error}")
    endif()
    if(NOT out STREQUAL "")
      message(FATAL_ERROR "gen-events ${case_args}: wrote events despite the bad argument")
    endif()
  endforeach()

else()
  message(FATAL_ERROR "unknown MODE `${MODE}`")
endif()
