# The artifacts the loader-only tests load (ctest fixture `loader_artifacts`), made by the real
# `cep compile`, and what the reference interpreter writes for the fraud example (the expected
# output of the first). Run as: cmake -DCEP=<cep> -DSRC=<source dir> -DOUT=<folder> -P this.
cmake_minimum_required(VERSION 3.25)
foreach(var CEP SRC OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "make_fixtures.cmake: -D${var}=... is required")
  endif()
endforeach()
file(MAKE_DIRECTORY ${OUT})

function(cep_step what)
  execute_process(COMMAND ${CEP} ${ARGN} RESULT_VARIABLE code ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "${what}: cep exited ${code}: ${err}")
  endif()
endfunction()

file(GLOB fraud_rules ${SRC}/examples/fraud/*.cep)
list(SORT fraud_rules)
cep_step("compile the fraud example" compile ${fraud_rules} -o ${OUT}/fraud.cepo)
cep_step("run the fraud example on the interpreter"
         run ${fraud_rules} --engine interp --max-delay 2s
         --input ${SRC}/examples/fraud/events.jsonl -o ${OUT}/fraud.expected.jsonl)
set(case ${SRC}/tests/golden/match/absence_same_deadline_pattern_order)
cep_step("compile a golden match case" compile ${case}/rules.cep -o ${OUT}/absence.cepo)
