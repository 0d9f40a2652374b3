#!/usr/bin/env bash
# Determinism across compilers (issue 9): builds the orchsim CLI with clang in
# build-clang/ (Release, no tests), runs the same scenarios with the GCC build
# (build/) and the clang build, and requires byte-identical result files.
#
# Usage: tools/compare_compilers.sh [SCENARIO...]   (default: the focused scenarios)
# Exit status: 0 identical, 1 a difference (listed), 2 set-up problem.
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
  build/orchsim run "$scenario" --quiet --no-plots --out "$out/gcc/$name" >/dev/null
  build-clang/orchsim run "$scenario" --quiet --no-plots --out "$out/clang/$name" >/dev/null
  if diff -r "$out/gcc/$name" "$out/clang/$name" >/dev/null; then
    echo "compare_compilers: $name: identical ($(ls "$out/gcc/$name" | wc -l) files)"
  else
    echo "compare_compilers: $name: GCC and clang results differ:"
    diff -rq "$out/gcc/$name" "$out/clang/$name" || true
    status=1
  fi
done
exit $status
