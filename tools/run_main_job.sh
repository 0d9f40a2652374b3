#!/usr/bin/env bash
# README Quick start, command 1: set up, build (Release) and run the main job.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh
tools/build.sh
exec build/orchsim run scenarios/nfl-2023.json --out results/nfl-2023
