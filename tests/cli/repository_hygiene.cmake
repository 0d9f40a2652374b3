# Repository hygiene (issue 18, item 22): README.md links only to files of
# this repository (no web addresses, no absolute paths, no "../" leaving it,
# no missing targets), and the repository root holds no stray files.
#   cmake -DROOT=<source dir> -P repository_hygiene.cmake
file(READ "${ROOT}/README.md" readme)
# Square brackets group CMake list elements: mark link targets without them.
string(REPLACE "[" "<" readme "${readme}")
string(REPLACE "]" ">" readme "${readme}")
string(REPLACE ";" "," readme "${readme}")
string(REGEX MATCHALL ">\\([^)]*\\)" links "${readme}")
set(problems "")
foreach(link ${links})
  string(REGEX REPLACE "^>\\((.*)\\)$" "\\1" target "${link}")
  string(REGEX REPLACE "#.*$" "" path "${target}")
  if(path STREQUAL "")
    continue()  # an anchor inside the README
  endif()
  if(path MATCHES "^[a-z]+:" OR path MATCHES "^/" OR path MATCHES "(^|/)\\.\\.(/|$)")
    list(APPEND problems "README.md links outside the repository: ${target}")
  elseif(NOT EXISTS "${ROOT}/${path}")
    list(APPEND problems "README.md links to a missing file: ${target}")
  endif()
endforeach()
# Root files: the build's, the README, dot files and licence-like documents.
file(GLOB entries RELATIVE "${ROOT}" "${ROOT}/*")
foreach(entry ${entries})
  if(IS_DIRECTORY "${ROOT}/${entry}")
    continue()
  endif()
  if(NOT entry MATCHES "^(CMakeLists\\.txt|README\\.md|LICENSE.*|NOTICE.*|CONTRIBUTING.*|CHANGELOG.*|\\..*)$")
    list(APPEND problems "stray file at the repository root: ${entry}")
  endif()
endforeach()
if(problems)
  string(REPLACE ";" "\n" text "${problems}")
  message(FATAL_ERROR "${text}")
endif()
