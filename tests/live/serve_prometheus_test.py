#!/usr/bin/env python3
"""A real Prometheus server scrapes `orchsim serve`'s /metrics, and what its
HTTP API answers equals what the test sent.

Usage: serve_prometheus_test.py ORCHSIM README [PROMETHEUS]

Starts a loopback upstream, `orchsim serve` in front of it and Prometheus
(default /usr/bin/prometheus, Debian's package; exit 77 = skipped when it is
absent) with a generated scrape config (scrape_interval 1s, the sidecar's
ephemeral port), its TSDB in a temporary folder and its web API on a free
loopback port. Once Prometheus has the target up, the test sends 20
distinct keys three times each (20 served, 40 cache hits, 20 upstream calls)
and polls /api/v1/query until the scraped counters show exactly that (a
value above it fails at once). Then each query of README's ```promql block
must be valid and the rate and histogram ones must answer series.
Prometheus and serve are stopped after.
Every wait is bounded.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_process as sp  # noqa: E402

KEYS = 20
ROUNDS = 3
SCRAPE_CONFIG = """global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: orchsim-sidecar
    static_configs:
      - targets: ["127.0.0.1:{port}"]
"""


def query(api_port, expression):
    """The value of an instant vector query with one series (None: no series)."""
    url = f"http://127.0.0.1:{api_port}/api/v1/query?" + urllib.parse.urlencode(
        {"query": expression})
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.load(response)
    if answer.get("status") != "success":
        raise RuntimeError(f"{expression}: {answer}")
    result = answer["data"]["result"]
    if not result:
        return None
    if len(result) != 1:
        raise RuntimeError(f"{expression}: {len(result)} series, expected 1: {result}")
    return float(result[0]["value"][1])


def query_result(api_port, expression):
    """The result list of an instant query; raises on a PromQL error."""
    url = f"http://127.0.0.1:{api_port}/api/v1/query?" + urllib.parse.urlencode(
        {"query": expression})
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = json.load(response)
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{expression}: {error.code} {error.read().decode()}") from error
    if answer.get("status") != "success":
        raise RuntimeError(f"{expression}: {answer}")
    return answer["data"]["result"]


def readme_queries(readme):
    """The lines of the ```promql block of README "Run it in production"."""
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    start = text.index("```promql\n") + len("```promql\n")
    return [line for line in text[start:text.index("```", start)].splitlines() if line]


def ready(api_port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/-/ready", timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def main(orchsim, readme, prometheus):
    if not (prometheus and os.access(prometheus, os.X_OK)):
        print(f"SKIP: no Prometheus server at {prometheus} (Debian: apt-get install prometheus; "
              "tools/setup.sh does)")
        return 77
    failures = []
    upstream = sp.Upstream(lambda path: (200, [("Content-Type", "application/json")],
                                         json.dumps({"path": path}).encode(), 0))
    serve = None
    prom = None
    prom_log = None
    with tempfile.TemporaryDirectory() as folder:
        try:
            serve = sp.Serve(orchsim, folder, {
                "variant": "plain", "drain": "2s", "log_level": "info",
                "upstreams": {"up": {"base_url": f"http://127.0.0.1:{upstream.port}",
                                     "routes": [{"path": "/*", "endpoint": "data"}]}},
            }, preset=sp.PLAIN_PRESET)
            with open(os.path.join(folder, "prometheus.yml"), "w", encoding="utf-8") as f:
                f.write(SCRAPE_CONFIG.format(port=serve.port))
            prom_log = open(os.path.join(folder, "prometheus.log"), "w+", encoding="utf-8")
            for _ in range(3):  # a free port can be taken between the check and the bind
                api_port = sp.free_port()
                prom = subprocess.Popen(
                    [prometheus, "--config.file", os.path.join(folder, "prometheus.yml"),
                     "--storage.tsdb.path", os.path.join(folder, "tsdb"),
                     "--web.listen-address", f"127.0.0.1:{api_port}", "--log.level", "warn"],
                    stdout=prom_log, stderr=subprocess.STDOUT)
                if sp.wait_for(lambda: ready(api_port) or prom.poll() is not None, 30) and \
                        prom.poll() is None:
                    break
                prom.wait()
                prom = None
            if prom is None:
                raise RuntimeError("Prometheus did not start")
            # The target is up before anything is sent, so the counters are
            # seen from 0 (or absent) to their final values.
            if not sp.wait_for(lambda: query(api_port, 'up{job="orchsim-sidecar"}') == 1, 30,
                               0.2):
                raise RuntimeError("Prometheus never scraped the sidecar")

            outcomes = {}
            for _ in range(ROUNDS):
                for key in range(KEYS):
                    status, headers, body = sp.get(serve.port, f"/up/data?k={key}")
                    outcome = headers.get("X-Orchsim-Outcome")
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                    if status != 200 or json.loads(body)["path"] != f"/data?k={key}":
                        failures.append(f"k={key}: {status} {body}")
            sent = KEYS * ROUNDS
            print(f"sent {sent}: {outcomes}; upstream answered {upstream.count()}")
            if outcomes != {"served": KEYS, "cache_hit": KEYS * (ROUNDS - 1)}:
                failures.append(f"outcomes at the client: {outcomes}")
            if upstream.count() != KEYS:
                failures.append(f"the upstream answered {upstream.count()} calls, expected {KEYS}")

            expected = {
                'sum(orchsim_requests_total{job="orchsim-sidecar",variant="plain",api="up"})':
                    sent,
                'orchsim_requests_total{variant="plain",api="up",outcome="cache_hit"}':
                    KEYS * (ROUNDS - 1),
                'orchsim_requests_total{variant="plain",api="up",outcome="served"}': KEYS,
                'sum(orchsim_requests_submitted_total{variant="plain",api="up"})': sent,
                'orchsim_upstream_calls_total{variant="plain",api="up",kind="first_attempt"}':
                    KEYS,
            }
            values = {}

            def all_seen():
                for expression, want in expected.items():
                    values[expression] = query(api_port, expression)
                    if values[expression] is not None and values[expression] > want:
                        return True  # past it: fails below, no need to wait
                return all(values[e] == w for e, w in expected.items())

            sp.wait_for(all_seen, 30, 0.25)
            for expression, want in expected.items():
                print(f"prometheus: {expression} = {values.get(expression)} (sent: {want})")
                if values.get(expression) != want:
                    failures.append(f"{expression} = {values.get(expression)}, expected {want}")

            # The README's queries: valid PromQL; those over requests answer.
            for expression in readme_queries(readme):
                try:
                    result = query_result(api_port, expression)
                except RuntimeError as error:
                    failures.append(f"README query: {error}")
                    continue
                print(f"README query: {expression}: {len(result)} series")
                if "rate(" in expression and not result:
                    failures.append(f"README query answers nothing: {expression}")
        except RuntimeError as error:
            failures.append(str(error))
        finally:
            if prom is not None and prom.poll() is None:
                prom.terminate()
                try:
                    prom.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    prom.kill()
                    prom.wait()
            if serve is not None:
                serve.stop()
            upstream.close()
            if failures and prom_log is not None:
                prom_log.seek(0)
                print("prometheus log:\n" + prom_log.read()[-4000:])
            if prom_log is not None:
                prom_log.close()
    for failure in failures:
        print("FAIL:", failure)
    if failures and serve is not None:
        print("serve log:\n" + "".join(serve.lines()))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2],
                  sys.argv[3] if len(sys.argv) == 4 else shutil.which("prometheus") or
                  "/usr/bin/prometheus"))
