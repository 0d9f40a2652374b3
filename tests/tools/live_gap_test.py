#!/usr/bin/env python3
"""The sim-to-live gap (issue 15) and the live round trip (issue 16, item 3)
on scenarios/live-gap.json, over real sockets on loopback.

Usage: live_gap_test.py ORCHSIM SOURCE_DIR [--keep DIR]

1. Simulation: `orchsim run scenarios/live-gap.json` (its one variant).
2. Live, the same demand and the same upstream on a shared timeline: the
   test picks a wall-clock instant T a few seconds ahead; `orchsim
   mock-upstream live-gap.json --api scores --origin T` serves the scenario's
   upstream with scenario start = T; `orchsim serve` runs the variant's preset
   and overrides in front of it (--record: the live trace); `orchsim load
   --begin T` sends the scenario's requests at their instants. Then serve's
   /metrics and the mock's /_mock/stats are read and both stopped.
3. Exact checks on the live run: every request the simulation submitted was
   sent and answered once; the replayer's outcome counts equal serve's
   orchsim_requests_total; the mock's call count equals serve's
   orchsim_upstream_calls_total; the trace holds one request line per
   request and one call line per call.
4. Sim vs live (issue 15): upstream calls, each outcome and breaker trips
   within the tolerances below; the gaps are printed.
5. Live round trip (issue 16): `orchsim calibrate` on the live trace, then a
   simulation with the trace as demand and the calibrated upstream; upstream
   calls, outcomes, breaker trips and latency percentiles against what the
   live run saw, within the tolerances below; the gaps are printed.

--keep DIR keeps the live trace, the calibrated upstreams and the summaries
(how scenarios/traces/live-gap.jsonl was made). Every wait is bounded; the
processes are started and stopped by the test.

Tolerances. The live run is the simulated one plus real time: the replayer
sends each request a little late (timer wake-up, a loaded machine: the
measured lag is printed), loopback and the proxy add about a millisecond to
each call, and the core's timers (breaker open wait, retry backoff) fire
when the event loop gets to them. Demand, latencies and failure draws are
the same (the mock draws them from the scenario's seeded streams in call
order), so a difference comes only from a request or a timer crossing a
boundary (the outage's start or end, a breaker's open-wait end) in one run
and not in the other. The outage's edges lie half a second from any poll
instant, so only a Poisson arrival or a breaker timer can cross one (runs
so far: no gap at all; README "Measured gaps"). One such crossing moves one request between outcomes
(served <-> rejected_circuit_open) and changes the calls by at most the
preset's 3 attempts, and can shift one later trip. Over this scenario's
boundaries (2 outage edges, 2 per trip) a handful of crossings is the
worst a loaded shared machine gives; hence:
  - upstream calls: |live - sim| <= max(6, 5% of sim);
  - each outcome: |live - sim| <= max(6, 5% of requests);
  - breaker trips: |live - sim| <= 1, and live >= 1.
The round trip adds the calibration's error: the outage is placed at the
first and last failure of a run of failures (an answer's worth, tens of ms,
inside the true window), error rates are estimated from a few hundred calls
(the 500s from about 4 of 140), and the replayed upstream draws its own
failures at those rates; the latency table is fitted from the same calls.
Hence, against the live run:
  - upstream calls and each outcome: within max(10, 8% of requests);
  - breaker trips: within 1;
  - end-to-end latency p50 within 10 ms + 25% and p99 within 100 ms + 50%
    (a p99 over ~230 requests is the second-largest answer: one retry more
    or less moves it by a backoff).
"""

import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
from serve_process import get, read_line  # noqa: E402




def metric_sum(text, name, **labels):
    """Sum of the samples of metric `name` whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^" + re.escape(name) + r"\{([^}]*)\}\s+(\S+)$", line)
        if not match:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(match.group(2))
    return total


def percentile(values, q):
    """Nearest rank, as the replayer and the simulator's histograms read it."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(1, min(len(ordered), int(-(-q * len(ordered) // 1))))
    return ordered[index - 1]


def stop(process):
    if process is not None and process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def simulate(orchsim, scenario, out):
    run = subprocess.run([orchsim, "run", scenario, "--out", out, "--quiet", "--no-plots"],
                         capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise RuntimeError(f"orchsim run {scenario}: {run.returncode} {run.stderr}")
    with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
        return json.load(f)["variants"][0]


class SlowStart(RuntimeError):
    """The processes were not up before the shared begin instant."""


def live_run(orchsim, source, scenario_doc, scenario, folder, log, lead_s):
    """Runs mock-upstream + serve --record + load; returns what each saw."""
    variant = scenario_doc["variants"][0]
    begin = datetime.now(timezone.utc) + timedelta(seconds=lead_s)
    begin_text = begin.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    mock = subprocess.Popen([orchsim, "mock-upstream", scenario, "--api", "scores",
                             "--listen", "127.0.0.1:0", "--origin", begin_text],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    serve = None
    try:
        match = read_line(mock.stdout, r"http://127\.0\.0\.1:(\d+)/", 10, log)
        if not match:
            raise RuntimeError("mock-upstream did not start")
        mock_port = int(match.group(1))
        config = {
            "listen": "127.0.0.1:0",
            "preset": os.path.join(source, "scenarios", "policies", variant["preset"] + ".json"),
            "overrides": variant.get("overrides", {}),
            "variant": variant["name"],
            "seed": scenario_doc["seed"],
            "drain": "5s",
            "log_level": "info",
            "upstreams": {"scores": {
                "base_url": f"http://127.0.0.1:{mock_port}",
                "max_connections": 32,
                "routes": [{"path": "/scores", "endpoint": "scores", "key_params": ["key"]}]}},
        }
        config_path = os.path.join(folder, "serve.json")
        with open(config_path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        trace = os.path.join(folder, "live.jsonl")
        if os.path.exists(trace):  # from an attempt that started too slowly
            os.remove(trace)
        serve = subprocess.Popen([orchsim, "serve", "--config", config_path, "--record", trace],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        match = read_line(serve.stderr, r'"event":"listening".*"address":"127\.0\.0\.1:(\d+)"',
                          10, log)
        if not match:
            raise RuntimeError("serve did not start")
        port = int(match.group(1))
        if datetime.now(timezone.utc) > begin - timedelta(milliseconds=500):
            raise SlowStart(f"mock-upstream and serve took more than {lead_s - 0.5} s to start")
        load = subprocess.run([orchsim, "load", "--to", f"127.0.0.1:{port}", scenario,
                               "--begin", begin_text, "--json", "--timeout", "30s"],
                              capture_output=True, text=True, timeout=150)
        if load.returncode != 0:
            raise RuntimeError(f"orchsim load: exit {load.returncode}: {load.stderr}")
        answers = json.loads(load.stdout.strip().splitlines()[-1])
        metrics = get(port, "/metrics")[2]
        stats = json.loads(get(mock_port, "/_mock/stats")[2])
        serve.send_signal(signal.SIGTERM)
        code = serve.wait(timeout=20)
        if code != 0:
            raise RuntimeError(f"serve exited {code}")
        return answers, metrics, stats, trace
    finally:
        stop(serve)
        stop(mock)
        for process in (serve, mock):
            if process is not None:
                for stream in (process.stdout, process.stderr):
                    try:
                        log.extend(stream.readlines())
                    except (ValueError, OSError):
                        pass


def read_trace(path):
    requests, calls = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if record["type"] == "request":
                requests.append(record)
            elif record["type"] == "call":
                calls.append(record)
    return requests, calls


OUTCOMES = ["served", "cache_hit", "coalesced", "served_stale", "failed", "shed",
            "rejected_circuit_open", "rejected_quota", "timed_out", "cancelled",
            "rejected_throttled"]


class Comparison:
    def __init__(self, title):
        self.title = title
        self.rows = []
        self.failures = []

    def check(self, metric, reference, measured, tolerance, unit=""):
        gap = measured - reference
        ok = abs(gap) <= tolerance
        self.rows.append((metric, reference, measured, gap, tolerance, unit, ok))
        if not ok:
            self.failures.append(f"{self.title}: {metric}: {reference} vs {measured} "
                                 f"(gap {gap:+g}, tolerance {tolerance:g}{unit})")

    def print(self, left, right):
        print(f"\n{self.title}")
        print(f"  {'metric':28} {left:>10} {right:>10} {'gap':>9} {'tolerance':>10}")
        for metric, a, b, gap, tolerance, unit, ok in self.rows:
            print(f"  {metric:28} {a:>10g} {b:>10g} {gap:>+9g} {tolerance:>9g}{unit:1}"
                  f"{'' if ok else '  FAIL'}")


def main(orchsim, source, keep):
    source = os.path.abspath(source)
    scenario = os.path.join(source, "scenarios", "live-gap.json")
    with open(scenario, encoding="utf-8") as f:
        scenario_doc = json.load(f)
    failures = []
    log = []
    with tempfile.TemporaryDirectory() as folder:
        sim = simulate(orchsim, scenario, os.path.join(folder, "sim"))
        requests = sim["requests"]
        try:
            # The begin instant must leave time to start both processes; on
            # a machine too loaded for 4 s, once more with 15 s.
            try:
                answers, metrics, stats, trace = live_run(orchsim, source, scenario_doc,
                                                          scenario, folder, log, 4)
            except SlowStart as slow:
                print(f"{slow}; again with a 15 s lead")
                answers, metrics, stats, trace = live_run(orchsim, source, scenario_doc,
                                                          scenario, folder, log, 15)
        except Exception as error:  # pylint: disable=broad-except
            print("FAIL: live run:", error)
            print("log:\n" + "".join(log))
            return 1
        print(f"replayer: {json.dumps(answers)}")
        print(f"mock: {json.dumps(stats)}")
        lag_ms = answers["max_send_lag_us"] / 1000
        print(f"send lag max {lag_ms:.1f} ms")

        # 3. Exact: the same requests, each answered once, and the three
        # counts of the live run (replayer, serve, mock, trace) agree.
        live_calls = metric_sum(metrics, "orchsim_upstream_calls_total")
        live_trips = metric_sum(metrics, "orchsim_breaker_trips_total")
        if answers["sent"] != requests or answers["answered"] != requests:
            failures.append(f"sent {answers['sent']}, answered {answers['answered']}, "
                            f"the simulation submitted {requests}")
        for outcome in OUTCOMES:
            counted = answers["outcomes"].get(outcome, 0)
            served = metric_sum(metrics, "orchsim_requests_total", outcome=outcome)
            if counted != served:
                failures.append(f"{outcome}: the replayer counted {counted}, serve {served:g}")
        if sum(answers["outcomes"].values()) != requests:
            failures.append(f"outcomes {answers['outcomes']} do not add up to {requests}")
        if stats["calls"] != live_calls:
            failures.append(f"the mock counted {stats['calls']} calls, serve {live_calls:g}")
        recorded, recorded_calls = read_trace(trace)
        if len(recorded) != requests or len(recorded_calls) != stats["calls"]:
            failures.append(f"trace: {len(recorded)} requests, {len(recorded_calls)} calls")

        # 4. Sim vs live (issue 15).
        gap = Comparison("sim vs live (issue 15): scenarios/live-gap.json")
        gap.check("upstream calls", sim["calls_sent_by_core"], live_calls,
                  max(6, 0.05 * sim["calls_sent_by_core"]))
        for outcome in OUTCOMES:
            gap.check("outcome." + outcome, sim["outcomes"][outcome],
                      answers["outcomes"].get(outcome, 0), max(6, 0.05 * requests))
        gap.check("breaker trips", sim["breaker_trips"], live_trips, 1)
        if live_trips < 1:
            failures.append("the live run's breaker never tripped")
        gap.print("sim", "live")
        failures += gap.failures

        # 5. Live round trip (issue 16): calibrate, replay the trace, compare.
        upstreams = os.path.join(folder, "live.upstreams.json")
        calibrate = subprocess.run([orchsim, "calibrate", trace, "--out", upstreams],
                                   capture_output=True, text=True, timeout=60)
        print(calibrate.stdout)
        if calibrate.returncode != 0:
            failures.append(f"calibrate: {calibrate.returncode} {calibrate.stderr}")
        else:
            replay = {
                "name": "replay-live-gap",
                "seed": scenario_doc["seed"],
                "drain": scenario_doc["drain"],
                "upstreams": upstreams,
                "demand": [{"name": "recorded", "trace": {"file": trace}}],
                "variants": scenario_doc["variants"],
            }
            # Presets are found beside the scenario, in policies/.
            os.makedirs(os.path.join(folder, "policies"), exist_ok=True)
            for variant in scenario_doc["variants"]:
                name = variant["preset"] + ".json"
                with open(os.path.join(source, "scenarios", "policies", name), "rb") as f, \
                        open(os.path.join(folder, "policies", name), "wb") as g:
                    g.write(f.read())
            replay_path = os.path.join(folder, "replay-live-gap.json")
            with open(replay_path, "w", encoding="utf-8") as f:
                json.dump(replay, f, indent=2)
            again = simulate(orchsim, replay_path, os.path.join(folder, "replay"))
            live_outcomes = {o: sum(1 for r in recorded if r["outcome"] == o) for o in OUTCOMES}
            latencies_ms = [r["latency_us"] / 1000 for r in recorded]
            trip = Comparison("live round trip (issue 16): live trace -> calibrate -> replay")
            slack = max(10, 0.08 * requests)
            trip.check("requests", len(recorded), again["requests"], 0)
            trip.check("upstream calls", len(recorded_calls), again["calls_sent_by_core"], slack)
            for outcome in OUTCOMES:
                trip.check("outcome." + outcome, live_outcomes[outcome],
                           again["outcomes"][outcome], slack)
            trip.check("breaker trips", live_trips, again["breaker_trips"], 1)
            p50 = percentile(latencies_ms, 0.50)
            p99 = percentile(latencies_ms, 0.99)
            trip.check("latency p50 (ms)", round(p50, 1),
                       round(again["latency"]["all"]["p50_ms"], 1), 10 + 0.25 * p50)
            trip.check("latency p99 (ms)", round(p99, 1),
                       round(again["latency"]["all"]["p99_ms"], 1), 100 + 0.5 * p99)
            waits_ms = [r["queue_wait_us"] / 1000 for r in recorded]
            for priority in ("HIGH", "NORMAL"):
                live_wait = percentile([r["queue_wait_us"] / 1000 for r in recorded
                                        if r["priority"] == priority], 0.99)
                trip.check(f"wait p99 {priority} (ms)", round(live_wait, 1),
                           round(again["wait"][priority]["p99_ms"], 1), 10 + 0.5 * live_wait)
            print(f"live queue waits: max {max(waits_ms):.1f} ms over {len(waits_ms)} requests")
            trip.print("live", "replay")
            failures += trip.failures
        if keep:
            os.makedirs(keep, exist_ok=True)
            for name in ("live.jsonl", "live.upstreams.json", "serve.json"):
                if os.path.exists(os.path.join(folder, name)):
                    with open(os.path.join(folder, name), "rb") as f, \
                            open(os.path.join(keep, name), "wb") as g:
                        g.write(f.read())
            with open(os.path.join(keep, "load.json"), "w", encoding="utf-8") as f:
                json.dump(answers, f)
    for failure in failures:
        print("FAIL:", failure)
    if failures:
        print("log:\n" + "".join(log[-40:]))
    return 1 if failures else 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    keep_dir = None
    if "--keep" in arguments:
        at = arguments.index("--keep")
        keep_dir = arguments[at + 1]
        del arguments[at:at + 2]
    if len(arguments) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(arguments[0], arguments[1], keep_dir))
