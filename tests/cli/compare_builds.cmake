# Runs one scenario with two builds of orchsim and requires byte-identical
# result files (issue 9: determinism across compilers and optimisation
# levels). Used by the compare_builds_* tests, which CMake adds when
# ORCHSIM_COMPARE_WITH names another build's orchsim.
#   cmake -DTHIS=prog -DOTHER=prog -DSCENARIO=file.json -DOUT=dir -P compare_builds.cmake
file(REMOVE_RECURSE "${OUT}")
foreach(side this other)
  string(TOUPPER "${side}" var)
  execute_process(COMMAND "${${var}}" run "${SCENARIO}" --quiet --no-plots --out "${OUT}/${side}"
                  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "${${var}} run ${SCENARIO} exited with ${status}\n${out}${err}")
  endif()
endforeach()
file(GLOB_RECURSE this_files RELATIVE "${OUT}/this" "${OUT}/this/*")
file(GLOB_RECURSE other_files RELATIVE "${OUT}/other" "${OUT}/other/*")
list(SORT this_files)
list(SORT other_files)
if(NOT this_files STREQUAL other_files)
  message(FATAL_ERROR "the two builds wrote different files:\n  ${THIS}: ${this_files}\n"
                      "  ${OTHER}: ${other_files}")
endif()
if(NOT this_files)
  message(FATAL_ERROR "no result files in ${OUT}/this")
endif()
set(differing "")
foreach(name ${this_files})
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files "${OUT}/this/${name}"
                          "${OUT}/other/${name}" RESULT_VARIABLE same)
  if(NOT same EQUAL 0)
    list(APPEND differing "${name}")
  endif()
endforeach()
if(differing)
  message(FATAL_ERROR "results of ${SCENARIO} differ between ${THIS} and ${OTHER}: ${differing}\n"
                      "(compare with: diff -r ${OUT}/this ${OUT}/other; builds configured at "
                      "different git commits stamp different commits into summary.json)")
endif()
list(LENGTH this_files count)
message(STATUS "${count} result files byte-identical")
