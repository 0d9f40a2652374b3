#!/usr/bin/env python3
"""`orchsim serve` as a process in front of `orchsim mock-upstream`: the whole
loop over real sockets and real signals, on loopback.

Usage: serve_cli_test.py ORCHSIM SOURCE_DIR

Starts `ORCHSIM mock-upstream scenarios/breaker-outage-day.json --api scores`
and `ORCHSIM serve` (the tuned preset) in front of it, both on ephemeral
ports; a request is served (the model's body, X-Orchsim-Outcome: served), the
same one again is a cache hit, and the mock counted one call; /metrics
counts both; SIGHUP reloads (a "reload" log line); SIGTERM drains and ends
serve with exit status 0 and its "stopped" line; `serve --check` accepts
the config and refuses a broken one with exit status 2 and its JSON path.
Every wait is bounded.
"""

import json
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from serve_process import get, read_line  # noqa: E402


def main(orchsim, source):
    failures = []
    source = os.path.abspath(source)
    scenario = os.path.join(source, "scenarios", "breaker-outage-day.json")
    preset = os.path.join(source, "scenarios", "policies", "tuned.json")
    mock = subprocess.Popen([orchsim, "mock-upstream", scenario, "--api", "scores",
                             "--listen", "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    serve = None
    serve_log = []
    with tempfile.TemporaryDirectory() as folder:
        try:
            match = read_line(mock.stdout, r"http://127\.0\.0\.1:(\d+)/", 10, [])
            if not match:
                raise RuntimeError("mock-upstream did not start")
            mock_port = int(match.group(1))
            config = {
                "listen": "127.0.0.1:0",
                "preset": preset,
                "drain": "2s",
                "log_level": "info",
                "upstreams": {"scores": {
                    "base_url": f"http://127.0.0.1:{mock_port}",
                    "routes": [{"path": "/scores", "endpoint": "scores", "key_params": ["key"]}]}},
            }
            path = os.path.join(folder, "serve.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(config, f)

            check = subprocess.run([orchsim, "serve", "--config", path, "--check"],
                                   capture_output=True, text=True, timeout=30)
            if check.returncode != 0:
                failures.append(f"--check of a good config: {check.returncode} {check.stderr}")
            bad = dict(config, upstreams={"scores": dict(config["upstreams"]["scores"],
                                                         max_connections=0)})
            bad_path = os.path.join(folder, "bad.json")
            with open(bad_path, "w", encoding="utf-8") as f:
                json.dump(bad, f)
            check = subprocess.run([orchsim, "serve", "--config", bad_path, "--check"],
                                   capture_output=True, text=True, timeout=30)
            if check.returncode != 2 or "/upstreams/scores/max_connections" not in check.stderr:
                failures.append(f"--check of a bad config: {check.returncode} {check.stderr}")

            serve = subprocess.Popen([orchsim, "serve", "--config", path],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            match = read_line(serve.stderr, r'"event":"listening".*"address":"127\.0\.0\.1:(\d+)"',
                              10, serve_log)
            if not match:
                raise RuntimeError("serve did not start: " + "".join(serve_log))
            port = int(match.group(1))

            status, headers, body = get(port, "/scores/scores?key=2023_06_BAL_TEN")
            print(f"first: {status} {headers.get('X-Orchsim-Outcome')} {body}")
            if status != 200 or headers.get("X-Orchsim-Outcome") != "served" or \
                    json.loads(body).get("key") != "2023_06_BAL_TEN":
                failures.append(f"first request: {status} {headers} {body}")
            status, headers, again = get(port, "/scores/scores?key=2023_06_BAL_TEN")
            if status != 200 or headers.get("X-Orchsim-Outcome") != "cache_hit" or again != body:
                failures.append(f"second request: {status} {headers} {again}")
            stats = json.loads(get(mock_port, "/_mock/stats")[2])
            if stats["calls"] != 1:
                failures.append(f"the mock counted {stats['calls']} calls, expected 1")
            metrics = get(port, "/metrics")[2]
            for line in ['orchsim_requests_total{api="scores",outcome="served",variant="tuned"} 1',
                         'orchsim_requests_total{api="scores",outcome="cache_hit",variant="tuned"} 1']:
                if line not in metrics:
                    failures.append("/metrics lacks " + line)

            serve.send_signal(signal.SIGHUP)
            if not read_line(serve.stderr, r'"event":"reload"', 10, serve_log):
                failures.append("SIGHUP: no reload line")
            serve.send_signal(signal.SIGTERM)
            code = serve.wait(timeout=15)
            serve_log.extend(serve.stderr.readlines())
            if code != 0:
                failures.append(f"SIGTERM: exit status {code}")
            if not any('"event":"stopped"' in line and '"answered":' in line for line in serve_log):
                failures.append("no stopped line")
        finally:
            for process in (serve, mock):
                if process is not None and process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        process.kill()
    for failure in failures:
        print("FAIL:", failure)
    if failures:
        print("serve log:\n" + "".join(serve_log))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
