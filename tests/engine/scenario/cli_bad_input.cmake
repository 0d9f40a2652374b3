# Runs `orchsim SUBCOMMAND CASE.json` in the bad-input corpus and requires exit
# status 2, stderr "orchsim SUBCOMMAND: <CASE.expected>" and, for `run`, that
# nothing was written to the output folder.
# Usage: cmake -DORCHSIM=... -DSUBCOMMAND=validate|run -DCORPUS=... -DCASE=... -DOUT=... -P this
foreach(var ORCHSIM SUBCOMMAND CORPUS CASE OUT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "cli_bad_input.cmake: -D${var}=... is required")
  endif()
endforeach()
file(REMOVE_RECURSE "${OUT}")
set(args ${SUBCOMMAND} ${CASE}.json)
if(SUBCOMMAND STREQUAL "run")
  list(APPEND args --out "${OUT}" --quiet)
endif()
execute_process(COMMAND "${ORCHSIM}" ${args}
                WORKING_DIRECTORY "${CORPUS}"
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
file(READ "${CORPUS}/${CASE}.expected" expected)
string(STRIP "${expected}" expected)
string(STRIP "${err}" err)
if(NOT status EQUAL 2)
  message(FATAL_ERROR "orchsim ${SUBCOMMAND} ${CASE}.json: exit status ${status}, expected 2\n${err}")
endif()
if(NOT err STREQUAL "orchsim ${SUBCOMMAND}: ${expected}")
  message(FATAL_ERROR "stderr was:\n${err}\nexpected:\norchsim ${SUBCOMMAND}: ${expected}")
endif()
if(EXISTS "${OUT}")
  message(FATAL_ERROR "orchsim ${SUBCOMMAND} ${CASE}.json created ${OUT}")
endif()
