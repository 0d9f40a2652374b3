# Runs a command and checks its exit status and output; used by CTest for CLI
# behaviour that WILL_FAIL cannot express (exit 1 versus 2, messages).
#   cmake -DCOMMAND="prog;arg;..." -DEXIT=2 [-DMATCH=regex] [-DEMPTY_DIR=path]
#         -P expect_exit.cmake
# MATCH must match stdout+stderr; EMPTY_DIR, when given, must not exist or be
# empty afterwards (nothing half-written); CLEAN_DIR is removed before the run.
if(DEFINED CLEAN_DIR)
  file(REMOVE_RECURSE "${CLEAN_DIR}")
endif()
execute_process(COMMAND ${COMMAND} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT "${status}" STREQUAL "${EXIT}")
  message(FATAL_ERROR "expected exit status ${EXIT}, got ${status}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(DEFINED MATCH AND NOT "${out}${err}" MATCHES "${MATCH}")
  message(FATAL_ERROR "output does not match '${MATCH}'\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(DEFINED EMPTY_DIR AND EXISTS "${EMPTY_DIR}")
  file(GLOB leftovers "${EMPTY_DIR}/*")
  if(leftovers)
    message(FATAL_ERROR "expected nothing written to ${EMPTY_DIR}, found: ${leftovers}")
  endif()
endif()
