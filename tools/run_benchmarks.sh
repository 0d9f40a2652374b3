#!/usr/bin/env bash
# Builds (Release) and runs every Google Benchmark program, writing JSON to
# results/bench/<name>.json (git-ignored). Extra arguments go to each program,
# e.g. tools/run_benchmarks.sh --benchmark_filter=Hold
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build.sh -DORCHSIM_BUILD_BENCHMARKS=ON
mkdir -p results/bench
for bench in build/tests/*_bench; do
  name=$(basename "$bench")
  echo "== $name"
  "$bench" --benchmark_out="results/bench/$name.json" --benchmark_out_format=json "$@"
done
