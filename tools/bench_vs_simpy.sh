#!/bin/bash
# bench_vs_simpy.sh — orchsim's core against SimPy 3 on the same model, in the
# same sitting (README "Measured"; issue "Speed": goal >= 20x SimPy per
# customer). A benchmark, not a test: it prints figures and asserts nothing.
#
#   tools/bench_vs_simpy.sh [CUSTOMERS] [ROUNDS]
#
# The model: M/M/1, four non-preemptive priority classes (arrivals 0.1, 0.2,
# 0.2, 0.3 per s, mean service 1 s, load 0.8, FIFO inside a class), CUSTOMERS
# arrivals (default 200000; the first 10% a warm-up left out of the mean
# waits). The core runs it as build/tests/mm1_priority_bench
# (BM_MM1Priority/CUSTOMERS: the production Orchestrator, priority queue and a
# bulkhead of one call in flight, on the simulation kernel); SimPy runs it as
# tools/mm1_priority_simpy.py (PriorityResource, preempt=False). ROUNDS
# (default 3) alternate the two, one run each per round, so both see the
# same machine load; the figures are the medians over the rounds of CPU time
# per customer (the core's from Google Benchmark, SimPy's from
# time.process_time()). Then the mean waits per class of the last round,
# side by side with Cobham's formula.
#
# Needs SimPy 3 (Debian: apt-get install python3-simpy3); exit 2 without it.
# PYTHON=path overrides the interpreter (default: the first of /usr/bin/python3
# and python3 that imports simpy). MM1_BENCH=path overrides the benchmark
# binary; when build/tests/mm1_priority_bench is missing it is built (Release,
# benchmarks on, that target only).
set -euo pipefail
cd "$(dirname "$0")/.."
customers="${1:-200000}"
rounds="${2:-3}"
case "$customers$rounds" in *[!0-9]*)
  echo "usage: tools/bench_vs_simpy.sh [CUSTOMERS] [ROUNDS]" >&2; exit 2 ;;
esac
if [ "$customers" -lt 10 ] || [ "$rounds" -lt 1 ]; then
  echo "bench_vs_simpy: CUSTOMERS must be >= 10 and ROUNDS >= 1" >&2; exit 2
fi

python=""
for candidate in "${PYTHON:-}" /usr/bin/python3 python3; do
  [ -n "$candidate" ] || continue
  if "$candidate" -c 'import simpy' >/dev/null 2>&1; then python="$candidate"; break; fi
done
if [ -z "$python" ]; then
  echo "bench_vs_simpy: no Python with SimPy (tried ${PYTHON:+$PYTHON, }/usr/bin/python3, python3)." >&2
  echo "Install it with:  sudo apt-get install python3-simpy3   (Debian/Ubuntu; it lands in" >&2
  echo "/usr/bin/python3), or pip install 'simpy>=3,<4' and set PYTHON=that/python3." >&2
  exit 2
fi

bench="${MM1_BENCH:-build/tests/mm1_priority_bench}"
if [ ! -x "$bench" ]; then
  echo "== building $bench" >&2
  cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DORCHSIM_BUILD_BENCHMARKS=ON >/dev/null
  cmake --build build -j "${ORCHSIM_JOBS:-2}" --target mm1_priority_bench >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
for round in $(seq "$rounds"); do
  ORCHSIM_MM1_CUSTOMERS="$customers" "$bench" \
    --benchmark_filter="^BM_MM1Priority/$customers\$" --benchmark_format=json \
    >"$work/core-$round.json" 2>/dev/null
  "$python" tools/mm1_priority_simpy.py "$customers" --json >"$work/simpy-$round.json"
  echo "round $round/$rounds done (load $(cut -d' ' -f1 /proc/loadavg))"
done
echo "load average after:  $(cut -d' ' -f1-3 /proc/loadavg)"

"$python" - "$work" "$rounds" "$customers" <<'EOF'
import json, statistics, sys

work, rounds, customers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
core_ns, simpy_ns = [], []
for r in range(1, rounds + 1):
    with open("%s/core-%d.json" % (work, r)) as f:
        run = json.load(f)["benchmarks"][0]
    if run.get("error_occurred"):
        sys.exit("bench_vs_simpy: the benchmark failed: %s" % run.get("error_message"))
    core_ns.append(1e9 / run["items_per_second"])
    with open("%s/simpy-%d.json" % (work, r)) as f:
        simpy = json.load(f)
    simpy_ns.append(simpy["ns_per_customer_cpu"])
core, py = statistics.median(core_ns), statistics.median(simpy_ns)
print("M/M/1, 4 priority classes, load 0.8: %d customers per run, %d rounds "
      "(CPU time per customer, median; runs in brackets)" % (customers, rounds))
print("  orchsim core (mm1_priority_bench): %8.0f ns/customer  %5.2f M customers/s  [%s]" %
      (core, 1e3 / core, ", ".join("%.0f" % x for x in core_ns)))
print("  SimPy %s (Python %s):      %8.0f ns/customer  %5.3f M customers/s  [%s]" %
      (simpy["simpy_version"], simpy["python"], py, 1e3 / py,
       ", ".join("%.0f" % x for x in simpy_ns)))
print("  ratio: the core is %.1fx SimPy per customer (goal >= 20x)" % (py / core))
print()
print("Mean wait in queue per class, seconds (last round; core seed 1, SimPy seed %d):" %
      simpy["seed"])
print("  class      core     SimPy    Cobham")
names = ["CRITICAL", "HIGH", "NORMAL", "LOW"]
for k, name in enumerate(names):
    print("  %-8s %7.3f  %7.3f  %7.3f" %
          (name, run["wait_s_%d" % k], simpy["wait_s"][k], run["cobham_s_%d" % k]))
EOF
