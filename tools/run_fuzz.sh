#!/usr/bin/env bash
# Builds a libFuzzer target with clang (-fsanitize=fuzzer,address,undefined)
# in build-fuzz/ and runs it for SECONDS seconds as one job.
#
# Usage: tools/run_fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   TARGET: scenario      (ParseScenario + presets + schedules, fuzz/scenario_fuzzer.cc)
#           schedule_csv  (ParseScheduleCsv, fuzz/schedule_csv_fuzzer.cc)
#           retry_after   (ParseRetryAfter/ParseHttpDate of the core, fuzz/retry_after_fuzzer.cc)
#           quota_headers (ParseQuotaHeaders + QuotaTracker, fuzz/quota_headers_fuzzer.cc)
#           serve_config  (orchsim serve's config + preset, then routing, fuzz/serve_config_fuzzer.cc)
#           trace_line    (the trace line parser against its writer, fuzz/trace_line_fuzzer.cc)
# Seeds: scenarios/*.json, scenarios/policies/*.json (alone and as the
# "#preset" part of a scenario), the bad-input corpus
# (tests/engine/scenario/bad/: its scenarios for "scenario", its schedules
# for "schedule_csv"), fuzz/corpus/<target>/ (retry_after: only that, the
# values of tests/policies/retry_after_test.cc; serve_config: also
# scenarios/serve/*.json; trace_line: also the first 200 lines of each
# scenarios/traces/*.jsonl). The growing corpus
# lives in build-fuzz/corpus/<target>/ and is kept between runs; crashes are
# written to build-fuzz/artifacts/<target>/ (turn each into a regression test
# under tests/engine/, then fix it). Exit status: libFuzzer's (0: no finding).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ $# -lt 2 ]; then
  echo "usage: tools/run_fuzz.sh scenario|schedule_csv|retry_after|quota_headers|serve_config|trace_line SECONDS [libFuzzer flags...]" >&2
  exit 2
fi
target="${1%_fuzzer}"
seconds="$2"
shift 2
case "$target" in
  scenario | schedule_csv | retry_after | quota_headers | serve_config | trace_line) ;;
  *)
    echo "run_fuzz: unknown target '$target' (expected scenario, schedule_csv, retry_after, quota_headers, serve_config or trace_line)" >&2
    exit 2
    ;;
esac
if ! command -v clang++ >/dev/null 2>&1; then
  echo "run_fuzz: clang++ not found; install Debian's clang (tools/setup.sh does)" >&2
  exit 1
fi

build=build-fuzz
# Debug keeps assert() on; -O1 keeps it fast enough to fuzz.
CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" \
  -DORCHSIM_BUILD_FUZZERS=ON -DORCHSIM_SANITIZE=address,undefined \
  -DORCHSIM_BUILD_TESTS=OFF -DORCHSIM_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "${ORCHSIM_JOBS:-2}" --target "${target}_fuzzer"

corpus="$build/corpus/$target"
seeds="$build/seeds/$target"
artifacts="$build/artifacts/$target"
mkdir -p "$corpus" "$artifacts"
rm -rf "$seeds"
mkdir -p "$seeds"
dict=()
if [ "$target" = scenario ]; then
  for f in scenarios/*.json scenarios/policies/*.json; do cp "$f" "$seeds/"; done
  # Each shipped scenario with each shipped preset as the fuzzed "fuzz" preset.
  for s in scenarios/*.json; do
    for p in scenarios/policies/*.json; do
      out="$seeds/$(basename "$s" .json)+$(basename "$p" .json)"
      sed 's/"preset": *"[a-z-]*"/"preset": "fuzz"/' "$s" >"$out"
      printf '\n#preset\n' >>"$out"
      cat "$p" >>"$out"
    done
  done
  # The quoted keys and words the readers look for, as a dictionary.
  grep -ohE '"[A-Za-z0-9_-]+"' engine/scenario/*.cc engine/world/*.cc policies/*.cc |
    sort -u | sed 's/^"\(.*\)"$/"\\"\1\\""/' >"$build/scenario.dict"
  dict=(-dict="$build/scenario.dict")
fi
bad=tests/engine/scenario/bad
if [ "$target" = scenario ]; then
  for f in "$bad"/*.json; do cp "$f" "$seeds/bad-$(basename "$f")"; done
elif [ "$target" = schedule_csv ]; then
  for f in "$bad"/schedules/*.csv; do cp "$f" "$seeds/bad-$(basename "$f")"; done
fi
if [ "$target" = serve_config ]; then
  for f in scenarios/serve/*.json; do cp "$f" "$seeds/"; done
elif [ "$target" = trace_line ]; then
  for f in scenarios/traces/*.jsonl; do head -n 200 "$f" >"$seeds/$(basename "$f")"; done
fi
if [ -d "fuzz/corpus/$target" ]; then cp "fuzz/corpus/$target"/* "$seeds/"; fi

echo "run_fuzz: $target for ${seconds}s; corpus $corpus, artifacts $artifacts"
exec "$build/fuzz/${target}_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
  -timeout=10 -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$artifacts/" "${dict[@]}" \
  "$@" "$corpus" "$seeds"
