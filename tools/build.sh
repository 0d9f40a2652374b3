#!/usr/bin/env bash
# Configures and builds orchsim (Release) into build/ with 2 parallel jobs.
# Usage: tools/build.sh [extra cmake -D options...]
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build build -j "${ORCHSIM_JOBS:-2}"
