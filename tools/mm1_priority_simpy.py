#!/usr/bin/env python3
"""The M/M/1 queue with four non-preemptive priority classes in SimPy 3: the
model tests/bench/mm1_priority_bench.cc runs through orchsim's core, for
tools/bench_vs_simpy.sh (README "Measured").

Usage: tools/mm1_priority_simpy.py [CUSTOMERS] [--seed S] [--json]

The model (the same as the benchmark's): Poisson arrivals at 0.1, 0.2, 0.2
and 0.3 per second for classes 0..3 (0 most urgent: CRITICAL, HIGH, NORMAL,
LOW), one server, exponential service of mean 1 s drawn when service starts,
load 0.8; simpy.PriorityResource(capacity=1) with preempt=False, so a
request is ordered by (class, time of request) and the list sort is stable:
FIFO inside a class. CUSTOMERS (default 100000) arrivals in all, the first
10% a warm-up not counted in the mean waits (as in the benchmark). The wait
is the time in queue: from arrival to the grant of the server. Cobham's mean
waits for this model: 0.889, 1.270, 2.286, 8.000 s.

Prints customers per second (CPU time of the simulation, and wall time) and
the mean wait in queue per class; --json prints one JSON object instead.
The random numbers are Python's random.Random(S) (Mersenne Twister), so the
waits agree with the benchmark's statistically, not to the digit.

Needs SimPy 3 (Debian: apt-get install python3-simpy3). Run it with the
interpreter that has it, e.g. /usr/bin/python3: a pyenv or venv python3
first on PATH does not see Debian's packages. Exit status 2 without SimPy.
"""

import argparse
import json
import random
import sys
import time

RATES_PER_S = (0.1, 0.2, 0.2, 0.3)
MEAN_SERVICE_S = 1.0


def cobham_waits(rates, mean_service):
    """Mean wait in queue per class, non-preemptive priority M/M/1 (Cobham)."""
    w0 = sum(rate * 2 * mean_service**2 for rate in rates) / 2
    waits, before = [], 0.0
    for rate in rates:
        after = before + rate * mean_service
        waits.append(w0 / ((1 - before) * (1 - after)))
        before = after
    return waits


def run(simpy, customers, seed):
    """One run of CUSTOMERS arrivals; returns (measured, wait sums) per class."""
    env = simpy.Environment()
    server = simpy.PriorityResource(env, capacity=1)
    rng = random.Random(seed)
    warmup = customers // 10
    classes = len(RATES_PER_S)
    measured = [0] * classes
    wait_sums = [0.0] * classes
    arrivals = [0]

    def customer(k, counted):
        arrived = env.now
        with server.request(priority=k, preempt=False) as granted:
            yield granted
            if counted:
                measured[k] += 1
                wait_sums[k] += env.now - arrived
            yield env.timeout(rng.expovariate(1.0 / MEAN_SERVICE_S))

    def source(k):
        rate = RATES_PER_S[k]
        while True:
            yield env.timeout(rng.expovariate(rate))
            if arrivals[0] >= customers:
                return
            index = arrivals[0]
            arrivals[0] += 1
            env.process(customer(k, index >= warmup))

    for k in range(classes):
        env.process(source(k))
    env.run()
    return measured, wait_sums


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("customers", nargs="?", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = parser.parse_args()
    if args.customers < 10:
        parser.error("CUSTOMERS must be >= 10")
    try:
        import simpy  # pylint: disable=import-outside-toplevel
    except ImportError:
        sys.stderr.write(
            "mm1_priority_simpy.py: SimPy is not importable by %s; install it with\n"
            "  apt-get install python3-simpy3   (then run it with /usr/bin/python3)\n"
            % sys.executable)
        return 2

    cpu0, wall0 = time.process_time(), time.perf_counter()
    measured, wait_sums = run(simpy, args.customers, args.seed)
    cpu_s, wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    waits = [s / n if n else 0.0 for s, n in zip(wait_sums, measured)]
    result = {
        "simpy_version": getattr(simpy, "__version__", "?"),
        "python": sys.version.split()[0],
        "customers": args.customers,
        "warmup": args.customers // 10,
        "seed": args.seed,
        "cpu_s": cpu_s,
        "wall_s": wall_s,
        "ns_per_customer_cpu": cpu_s * 1e9 / args.customers,
        "customers_per_cpu_s": args.customers / cpu_s,
        "customers_per_wall_s": args.customers / wall_s,
        "measured": measured,
        "wait_s": waits,
        "cobham_wait_s": cobham_waits(RATES_PER_S, MEAN_SERVICE_S),
    }
    if args.json:
        print(json.dumps(result))
        return 0
    print("SimPy %s (Python %s): %d customers (%d warm-up), seed %d" %
          (result["simpy_version"], result["python"], args.customers, result["warmup"], args.seed))
    print("  %.0f customers per CPU second (%.0f ns each), %.0f per wall second" %
          (result["customers_per_cpu_s"], result["ns_per_customer_cpu"],
           result["customers_per_wall_s"]))
    for k, (wait, cobham) in enumerate(zip(waits, result["cobham_wait_s"])):
        print("  class %d: %7d measured, mean wait %.3f s (Cobham %.3f s)" %
              (k, measured[k], wait, cobham))
    return 0


if __name__ == "__main__":
    sys.exit(main())
