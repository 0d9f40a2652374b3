# Builds the core alone (ORCHSIM_CORE_ONLY: no Boost, Eigen or GoogleTest),
# installs it, builds tests/consumer against the install tree with
# find_package(orchsim) and runs it on a shipped preset.
# Usage: cmake -DSOURCE=<repo> -DWORK=<scratch dir> [-DCXX=<compiler>] -P run_consumer.cmake
foreach(var SOURCE WORK)
  if(NOT ${var})
    message(FATAL_ERROR "run_consumer.cmake: -D${var}=... is required")
  endif()
endforeach()
set(core_build ${WORK}/core-build)
set(prefix ${WORK}/install)
set(consumer_build ${WORK}/consumer-build)
file(REMOVE_RECURSE ${prefix} ${consumer_build})
set(launcher "")
find_program(CCACHE ccache)
if(CCACHE)
  set(launcher -DCMAKE_CXX_COMPILER_LAUNCHER=${CCACHE})
endif()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run(${CMAKE_COMMAND} -S ${SOURCE} -B ${core_build} -DORCHSIM_CORE_ONLY=ON
    -DCMAKE_BUILD_TYPE=Release ${launcher})
run(${CMAKE_COMMAND} --build ${core_build} -j 2)
run(${CMAKE_COMMAND} --install ${core_build} --prefix ${prefix})
# Only the core's headers are installed: nothing of the simulator.
if(EXISTS ${prefix}/include/engine OR NOT EXISTS ${prefix}/include/policies/config/preset_loader.h)
  message(FATAL_ERROR "the install tree holds the wrong headers")
endif()
run(${CMAKE_COMMAND} -S ${SOURCE}/tests/consumer -B ${consumer_build} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=Release ${launcher})
run(${CMAKE_COMMAND} --build ${consumer_build})
run(${consumer_build}/consumer ${SOURCE}/scenarios/policies/tuned.json)
message("${last_output}")
