#!/usr/bin/env python3
"""`orchsim mock-upstream` as a process: serves, answers on the scenario's
timeline, and stops cleanly on SIGTERM.

Usage: mock_upstream_cli_test.py ORCHSIM SCENARIO

Starts `ORCHSIM mock-upstream SCENARIO --api scores --listen 127.0.0.1:0`
twice (SCENARIO is breaker-outage-day: an outage of "scores" from 18:00Z,
8 h after its start): once at the scenario's start, where the first call is
answered 200 with the model's body after its latency, and once with
--start 8h, inside the outage, where it is answered 503. Each time
/_mock/stats must count the call, and SIGTERM must end the process with exit
status 0 and its summary line. Every wait is bounded.
"""

import http.client
import json
import re
import select
import signal
import subprocess
import sys
import time


def start(orchsim, scenario, extra):
    process = subprocess.Popen([orchsim, "mock-upstream", scenario, "--api", "scores",
                                "--listen", "127.0.0.1:0"] + extra,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ready, _, _ = select.select([process.stdout], [], [], 10)
    if not ready:
        process.kill()
        raise RuntimeError("mock-upstream printed nothing within 10 s")
    line = process.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        process.kill()
        raise RuntimeError("unexpected first line: " + line + process.stderr.read())
    return process, int(match.group(1))


def get(port, target):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", target)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response.status, dict(response.getheaders()), body


def stop(process):
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=10)
    return process.returncode, out, err


def main(orchsim, scenario):
    failures = []

    process, port = start(orchsim, scenario, [])
    try:
        sent = time.monotonic()
        status, headers, body = get(port, "/scores?key=2023_06_BAL_TEN")
        elapsed = time.monotonic() - sent
        if status != 200 or json.loads(body).get("key") != "2023_06_BAL_TEN":
            failures.append(f"at the start: {status} {body}")
        if headers.get("X-Orchsim-Versions") is None:
            failures.append("no X-Orchsim-Versions header on a 200")
        print(f"start: {status} after {elapsed * 1000:.0f} ms: {body}")
        stats = json.loads(get(port, "/_mock/stats")[2])
        if stats["calls"] != 1 or stats["api"] != "scores":
            failures.append(f"stats: {stats}")
    finally:
        code, out, err = stop(process)
    if code != 0 or "stopped after 1 calls" not in out:
        failures.append(f"SIGTERM: exit {code}, stdout {out!r}, stderr {err!r}")

    process, port = start(orchsim, scenario, ["--start", "8h"])
    try:
        status, _, body = get(port, "/scores?key=2023_06_BAL_TEN")
        print(f"outage: {status}: {body}")
        if status != 503:
            failures.append(f"inside the outage: {status} {body}")
        stats = json.loads(get(port, "/_mock/stats")[2])
        if stats["outage_answers"] != 1 or not stats["scenario_time"].startswith("2023-10-15T18:00"):
            failures.append(f"stats in the outage: {stats}")
    finally:
        code, out, err = stop(process)
    if code != 0:
        failures.append(f"SIGTERM: exit {code}, stderr {err!r}")

    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
