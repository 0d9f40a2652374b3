#!/usr/bin/env bash
# Determinism across compilers (issue 9) for two release builds: the GCC
# build in build/ and a clang build of the CLI in build-clang/ run the same
# scenarios and must write byte-identical result files. CI does the same with
# its clang sanitizer build (the compare_builds_* tests of tools/run_tests.sh);
# both use tests/cli/compare_builds.cmake.
#
# Usage: tools/compare_compilers.sh [SCENARIO...]   (default: the focused scenarios)
# Exit status: 0 identical, 1 a difference (named), 2 set-up problem.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v clang++ >/dev/null 2>&1; then
  echo "compare_compilers: clang++ not found (tools/setup.sh installs Debian's clang)" >&2
  exit 2
fi
scenarios=("$@")
if [ ${#scenarios[@]} -eq 0 ]; then
  scenarios=(scenarios/breaker-outage-day.json scenarios/quota-crunch-month.json
             scenarios/kickoff-surge.json scenarios/tuning-example.json)
fi
jobs="${ORCHSIM_JOBS:-2}"
# Both builds configured now, so both stamp the same git commit into summary.json.
tools/build.sh >/dev/null
CXX=clang++ cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=Release -DORCHSIM_BUILD_TESTS=OFF \
  -DORCHSIM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build-clang -j "$jobs" --target orchsim >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0
for scenario in "${scenarios[@]}"; do
  name=$(basename "$scenario" .json)
  # pipefail: the status is compare_builds.cmake's.
  if ! cmake -DTHIS="$PWD/build-clang/orchsim" -DOTHER="$PWD/build/orchsim" -DSCENARIO="$scenario" \
       -DOUT="$out/$name" -P tests/cli/compare_builds.cmake 2>&1 | sed "s|^|compare_compilers: $name: |"; then
    status=1
  fi
done
exit $status
