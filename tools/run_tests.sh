#!/usr/bin/env bash
# README Quick start, command 2 (and what CI runs): set up, build, check the
# formatting and the layering rules, run every test.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
tools/check_format.sh
tools/check_layering.sh
ctest --test-dir build --output-on-failure -j "${ORCHSIM_JOBS:-2}"
