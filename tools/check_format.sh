#!/usr/bin/env bash
# Fails when any C++ file differs from .clang-format. Fix with:
#   git ls-files '*.h' '*.cc' | xargs clang-format -i
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.h' '*.cc')
if [ ${#files[@]} -eq 0 ]; then echo "format: no files"; exit 0; fi
clang-format --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files match .clang-format"
