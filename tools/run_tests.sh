#!/usr/bin/env bash
# README Quick start, command 2 (and what CI runs): set up, build, check the
# formatting and the layering rules, run every test; then build the test
# suite once more with clang, AddressSanitizer + UndefinedBehaviorSanitizer
# (build-asan-clang/, -O0: instrumented optimisation triples compile time and
# CI must stay short; assertions on, no benchmarks) and run it there too.
# The sanitizer pass runs every unit and component test; whole-season and
# statistical runs and the CLI end-to-end runs (minutes each under -O0
# instrumentation, the same code paths as the unit tests) run in the normal
# pass only, so CI stays within its 15 minutes. The same pass compares
# compilers: its compare_builds_* tests run the focused scenarios and
# nfl-2023 with the clang build and with the GCC release build and require
# byte-identical result files (tests/cli/compare_builds.cmake).
# ORCHSIM_SKIP_SANITIZERS=1 skips that second pass (for quick local runs).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${ORCHSIM_JOBS:-2}"
tools/setup.sh
tools/build.sh
tools/check_format.sh
tools/check_layering.sh
ctest --test-dir build --output-on-failure -j "$jobs"

if [ "${ORCHSIM_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "run_tests: clang sanitizer pass (address,undefined) in build-asan-clang"
  CXX=clang++ cmake -S . -B build-asan-clang -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DORCHSIM_SANITIZE=address,undefined \
    -DORCHSIM_BUILD_BENCHMARKS=OFF -DORCHSIM_COMPARE_WITH="$PWD/build/orchsim" >/dev/null
  cmake --build build-asan-clang -j "$jobs"
  ASAN_OPTIONS=abort_on_error=1:detect_stack_use_after_return=1:strict_string_checks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    ctest --test-dir build-asan-clang --output-on-failure -j "$jobs" \
    -E 'Fidelity|Nfl2023|Season|Determinism|SeedTest|CommonRandomNumbers|RunnerTest|^cli_|^plot_|^scenario_schemas|^consumer_'
fi
