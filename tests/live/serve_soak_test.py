#!/usr/bin/env python3
"""Soak of the live proxy (issue 19, item 9): `orchsim serve` in front of
`orchsim mock-upstream` whose health flaps, under steady load, with a
preset reload every 10 s.

Usage: serve_soak_test.py ORCHSIM SECONDS [--rss]

tests/live/soak-upstream.json's "odds" upstream answers in 2-8 ms, fails 2%
of calls (500) and flaps between healthy (mean 3 s), degraded (mean 2 s,
latency x4, more errors) and down (mean 1 s, 503). serve runs a preset with
cache (2 s TTL), coalescing, retries, a breaker and a bucket; every 10 s the
preset file is rewritten (the cache TTL alternates 2 s / 3 s) and serve gets
SIGHUP, so a new core generation takes over while requests are in flight.
8 client threads send keys from a pool of 400 on keep-alive connections for
SECONDS, then serve gets SIGTERM. Then, exactly:
  - serve exits 0 with its "stopped" line, accepted == answered, and the
    answers the clients read (+ the test's GET /metrics) == answered (none
    lost, none twice: each
    answer's body names its own key, so a doubled answer would shift the
    bodies of a keep-alive connection);
  - the core's outcomes sum to what it completed, == submitted;
  - serve's upstream calls (orchsim_upstream_calls_total) == the calls the
    mock counted (/_mock/stats), so no call was lost between them;
  - every reload succeeded (reloads_ok == reloads sent, none failed);
  - the mock's health did flap (it answered some 503s) and the breaker saw it;
  - with --rss (the 10-minute soak): serve's RSS over the last minute is
    within 10% of its RSS over the second minute (the first fills the cache).
The 30-second version runs in the README test command, also in the clang
AddressSanitizer + UndefinedBehaviorSanitizer pass (a sanitizer report ends
serve with a non-zero status, which fails the test).
Every wait is bounded.
"""

import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_process as sp  # noqa: E402

CLIENTS = 8
KEYS = 400
RELOAD_EVERY_S = 10.0


def preset(ttl):
    return {
        "default_api": {"bucket": {"enabled": True, "rate_per_s": 2000, "burst": 200},
                        "quota": {"enabled": False}},
        "queue": {"capacity": 500, "escalation_enabled": True},
        "coalescer": {"enabled": True},
        "batcher": {"enabled": False},
        "cache": {"enabled": True, "default_ttl": ttl, "stale_if_error": True},
        "prefetch": {"enabled": False},
        "breaker": {"enabled": True, "trigger": "consecutive_failures", "failure_threshold": 5,
                    "open_wait": "1s"},
        "retry": {"enabled": True, "max_attempts": 2},
        "retry_budget": {"enabled": True},
        "concurrency": {"enabled": True, "max_in_flight": 64},
        "timeouts": {"enabled": True, "per_attempt": "1s", "overall": "3s"},
        "health": {"enabled": False},
    }


class Client(threading.Thread):
    """Sends keys from the pool on a keep-alive connection until `stop`."""

    def __init__(self, index, port, stop):
        super().__init__(daemon=True)
        self.port = port
        self.stop = stop
        self.random = random.Random(index)
        self.answers = 0
        self.outcomes = {}
        self.errors = []

    def run(self):
        connection = None
        deadline = time.monotonic() + 3600
        while not self.stop.is_set() and time.monotonic() < deadline:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
            key = f"k{self.random.randrange(KEYS)}"
            try:
                connection.request("GET", f"/odds/odds?key={key}")
                response = connection.getresponse()
                body = response.read().decode(errors="replace")
            except (OSError, http.client.HTTPException) as error:
                self.errors.append(f"{type(error).__name__}: {error}")
                connection.close()
                connection = None
                continue
            self.answers += 1
            outcome = response.getheader("X-Orchsim-Outcome")
            self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
            if response.status == 200 and key not in body:
                self.errors.append(f"{key} answered with {body[:120]}")
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
                connection = None
            # About 8 x 250 = 2,000 requests/s when answers are immediate.
            time.sleep(0.004)
        if connection is not None:
            connection.close()


def rss_kb(pid):
    with open(f"/proc/{pid}/status", encoding="utf-8") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def metric(text, pattern):
    total = 0.0
    for match in re.finditer(pattern + r"\s+([0-9.e+]+)$", text, flags=re.M):
        total += float(match.group(1))
    return total


def main(orchsim, seconds, check_rss):
    here = os.path.dirname(os.path.abspath(__file__))
    failures = []
    with tempfile.TemporaryDirectory(prefix="orchsim-soak-") as folder:
        mock = subprocess.Popen([orchsim, "mock-upstream", os.path.join(here, "soak-upstream.json"),
                                 "--api", "odds", "--listen", "127.0.0.1:0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        serve = None
        try:
            mock_port = None
            end = time.monotonic() + 20
            while time.monotonic() < end:
                line = mock.stdout.readline()
                if not line:
                    break
                match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
                if match:
                    mock_port = int(match.group(1))
                    break
            if mock_port is None:
                raise RuntimeError("mock-upstream did not start: " + mock.stderr.read())
            config = {
                "drain": "5s",
                "log_level": "info",
                "upstreams": {"odds": {
                    "base_url": f"http://127.0.0.1:{mock_port}",
                    "max_connections": 32,
                    "routes": [{"path": "/odds", "endpoint": "odds", "key_params": ["key"]}]}},
            }
            serve = sp.Serve(orchsim, folder, config, preset=preset("2s"))
            stop = threading.Event()
            clients = [Client(i, serve.port, stop) for i in range(CLIENTS)]
            for client in clients:
                client.start()
            started = time.monotonic()
            reloads = 0
            rss = []  # (seconds since start, KB)
            next_reload = started + RELOAD_EVERY_S
            next_sample = started
            while time.monotonic() - started < seconds:
                now = time.monotonic()
                if now >= next_sample:
                    rss.append((now - started, rss_kb(serve.pid)))
                    next_sample += 5.0
                if now >= next_reload:
                    reloads += 1
                    with open(os.path.join(folder, "preset.json"), "w", encoding="utf-8") as f:
                        json.dump(preset("3s" if reloads % 2 else "2s"), f)
                    serve.process.send_signal(signal.SIGHUP)
                    next_reload += RELOAD_EVERY_S
                if serve.process.poll() is not None:
                    raise RuntimeError(f"serve ended during the soak: {serve.process.returncode}")
                time.sleep(0.05)
            stop.set()
            for client in clients:
                client.join(timeout=30)
            # Every reload applied before the counts are read.
            if not sp.wait_for(lambda: len(
                    [l for l in serve.lines() if '"event":"reload"' in l]) >= reloads, 20):
                failures.append("not every reload was applied within 20 s")
            _, _, metrics = sp.get(serve.port, "/metrics")
            _, _, stats_text = sp.get(mock_port, "/_mock/stats")
            stats = json.loads(stats_text)
            code = serve.terminate_and_wait(30)
            if code != 0:
                failures.append(f"exit status after SIGTERM: {code}")
            summary = serve.stopped_line()
            if summary is None:
                raise RuntimeError("no stopped line")

            answers = sum(c.answers for c in clients)
            errors = [e for c in clients for e in c.errors]
            outcomes = {}
            for c in clients:
                for k, v in c.outcomes.items():
                    outcomes[k] = outcomes.get(k, 0) + v
            calls = metric(metrics, r"orchsim_upstream_calls_total\{[^}]*\}")
            print(f"{seconds:.0f} s, {reloads} reloads: clients read {answers} answers "
                  f"({answers / seconds:.0f}/s), outcomes {outcomes}, "
                  f"{len(errors)} client errors")
            print("serve:", {k: summary[k] for k in ("accepted", "answered", "submitted",
                                                      "completed")},
                  f"upstream calls {calls:.0f}; mock: {json.dumps(stats)[:400]}")
            print("RSS (s, KB):", rss)
            if errors:
                failures.append(f"client errors: {sorted(set(errors))[:5]}")
            if summary["accepted"] != summary["answered"]:
                failures.append(f"accepted {summary['accepted']} != answered "
                                f"{summary['answered']}")
            # serve also answered the test's one GET /metrics.
            if answers + 1 != summary["answered"]:
                failures.append(f"the clients read {answers} answers (+1 /metrics), serve "
                                f"answered {summary['answered']}")
            core_outcomes = sum(summary["outcomes"].values())
            if not summary["submitted"] == summary["completed"] == core_outcomes:
                failures.append(f"submitted {summary['submitted']}, completed "
                                f"{summary['completed']}, outcomes {core_outcomes}")
            mock_calls = stats.get("calls")
            if mock_calls is None or int(mock_calls) != int(calls):
                failures.append(f"serve counted {calls:.0f} upstream calls, the mock {mock_calls}")
            reload_ok = metric(metrics, r'orchsim_config_reloads_total\{result="ok"\}')
            reload_error = metric(metrics, r'orchsim_config_reloads_total\{result="error"\}')
            if reload_ok != reloads or reload_error != 0:
                failures.append(f"reloads: sent {reloads}, ok {reload_ok:.0f}, "
                                f"failed {reload_error:.0f}")
            if reloads < 2 and seconds >= 25:
                failures.append(f"only {reloads} reloads in {seconds} s")
            status_503 = int(stats.get("statuses", {}).get("503", 0))
            if status_503 == 0:
                failures.append("the mock never answered 503: its health did not flap")
            if metric(metrics, r"orchsim_breaker_trips_total\{[^}]*\}") == 0:
                failures.append("the breaker never tripped: the flapping was not seen")
            if check_rss:
                second = [kb for t, kb in rss if 60 <= t < 120]
                last = [kb for t, kb in rss if t >= seconds - 60]
                if second and last:
                    a, b = sum(second) / len(second), sum(last) / len(last)
                    print(f"RSS: second minute {a:.0f} KB, last minute {b:.0f} KB "
                          f"({100 * (b - a) / a:+.1f}%)")
                    if abs(b - a) > 0.10 * a:
                        failures.append(f"RSS moved {100 * (b - a) / a:+.1f}% (limit 10%)")
                else:
                    failures.append("--rss needs at least 3 minutes")
        except RuntimeError as error:
            failures.append(str(error))
        finally:
            if serve is not None:
                serve.stop()
            if mock.poll() is None:
                mock.send_signal(signal.SIGTERM)
                try:
                    mock.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    mock.kill()
                    mock.wait()
    for failure in failures:
        print("FAIL:", failure)
    if failures and serve is not None:
        print("serve log:\n" + "".join(serve.lines()[-40:]))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or (len(sys.argv) == 4 and sys.argv[3] != "--rss"):
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], float(sys.argv[2]), len(sys.argv) == 4))
