#!/usr/bin/env python3
"""`orchsim serve` under load: SIGHUP with a broken preset keeps the old one;
SIGTERM in the middle of the load loses no accepted request and answers
none twice; exit 0 with the "stopped" summary.

Usage: serve_drain_load_test.py ORCHSIM

A loopback upstream answers after 10-60 ms, echoing the path. serve runs a
plain preset (no bucket, breaker or retries; cache on) with --record.

1. Reload: one request is served; the preset is overwritten with broken
   JSON and serve gets SIGHUP: a "reload_failed" line names the preset, and
   the same request is then a cache hit (the old core, with its cache, stays).
2. Drain: 16 clients send distinct keys on keep-alive connections (a new
   connection after each close) until connections are refused; after 200
   answers serve gets SIGTERM. Then, exactly:
   - serve exits 0 with a "stopped" line where accepted == answered;
   - the answers the clients read == "answered" (none lost between the
     sidecar and the client: a request that got no answer was never read
     in full by serve), and each 200 carries its own request's path (an
     answer given twice would shift the answers of a keep-alive connection);
   - answers with X-Orchsim-Outcome == submitted == completed == the sum of
     the summary's outcomes == the request lines of the trace, each id once;
     the rest are 503 "draining";
   - answers "served" == the summary's served == calls the upstream answered;
   - requests were in flight at the SIGTERM (drain_started "pending" > 0),
     and at least one of them was served after it.
Every wait is bounded.
"""

import http.client
import json
import os
import random
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_process as sp  # noqa: E402

CLIENTS = 16
ANSWERS_BEFORE_SIGTERM = 200


class Client(threading.Thread):
    """Sends distinct keys on a keep-alive connection; reconnects after a close;
    stops when a connection is refused or `stop` is set."""

    def __init__(self, index, port, stop):
        super().__init__(daemon=True)
        self.index = index
        self.port = port
        self.stop = stop
        self.answers = []  # (time, target, status, outcome, body)
        self.unanswered = 0  # sent, then the connection closed without an answer
        self.refused = False
        self.errors = []

    def run(self):
        sent = 0
        connection = None
        deadline = time.monotonic() + 60
        while not self.stop.is_set() and time.monotonic() < deadline:
            if connection is None:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
                try:
                    connection.connect()
                except ConnectionRefusedError:
                    self.refused = True
                    return
                except OSError:
                    connection = None
                    continue
            target = f"/up/data?c={self.index}&i={sent}"
            sent += 1
            try:
                connection.request("GET", target)
                response = connection.getresponse()
                body = response.read().decode(errors="replace")
            except (http.client.HTTPException, OSError) as error:
                self.unanswered += 1
                self.errors.append(repr(error))
                connection.close()
                connection = None
                continue
            self.answers.append((time.monotonic(), target, response.status,
                                 response.getheader("X-Orchsim-Outcome"), body))
            if response.will_close:
                connection.close()
                connection = None
        if connection is not None:
            connection.close()


def main(orchsim):
    failures = []
    rng = random.Random(15)
    rng_lock = threading.Lock()

    def answer(path):
        with rng_lock:
            delay = rng.uniform(0.010, 0.060)
        return 200, [("Content-Type", "application/json")], json.dumps(
            {"path": path}).encode(), delay

    upstream = sp.Upstream(answer)
    serve = None
    with tempfile.TemporaryDirectory() as folder:
        trace = os.path.join(folder, "trace.jsonl")
        try:
            serve = sp.Serve(orchsim, folder, {
                "drain": "10s", "log_level": "info",
                "upstreams": {"up": {"base_url": f"http://127.0.0.1:{upstream.port}",
                                     "max_connections": 64,
                                     "routes": [{"path": "/*", "endpoint": "data"}]}},
            }, preset=sp.PLAIN_PRESET, extra_args=["--record", trace])

            # 1. SIGHUP with a broken preset.
            status, headers, _ = sp.get(serve.port, "/up/data?warm=1")
            if status != 200 or headers.get("X-Orchsim-Outcome") != "served":
                failures.append(f"warm-up: {status} {headers}")
            with open(os.path.join(folder, "preset.json"), "w", encoding="utf-8") as f:
                f.write('{"retry": {"max_attempts": }')
            serve.process.send_signal(signal.SIGHUP)
            if not serve.wait_log(r'"event":"reload_failed".*preset\.json: malformed JSON', 10):
                failures.append("SIGHUP with a broken preset: no reload_failed line naming it")
            if serve.wait_log(r'"event":"reload"', 0):
                failures.append("a broken preset was loaded")
            status, headers, _ = sp.get(serve.port, "/up/data?warm=1")
            if status != 200 or headers.get("X-Orchsim-Outcome") != "cache_hit":
                failures.append(f"after the failed reload: {status} {headers} (the old core's "
                                "cache should answer)")
            before_load = 2  # the answers above

            # 2. SIGTERM during load.
            stop = threading.Event()
            clients = [Client(i, serve.port, stop) for i in range(CLIENTS)]
            for client in clients:
                client.start()
            if not sp.wait_for(lambda: sum(len(c.answers) for c in clients) >=
                               ANSWERS_BEFORE_SIGTERM, 30):
                failures.append("the clients did not get 200 answers in 30 s")
            sigterm_at = time.monotonic()
            code = serve.terminate_and_wait(30)
            stop.set()
            for client in clients:
                client.join(timeout=30)
            if code != 0:
                failures.append(f"exit status after SIGTERM: {code}")
            summary = serve.stopped_line()
            if summary is None:
                raise RuntimeError("no stopped line")
            drain = serve.wait_log(r'"event":"drain_started".*"pending":(\d+)', 0)

            answers = [a for c in clients for a in c.answers]
            unanswered = sum(c.unanswered for c in clients)
            with_outcome = [a for a in answers if a[3] is not None]
            draining = [a for a in answers if a[3] is None]
            served = [a for a in answers if a[3] == "served"]
            served_after = [a for a in served if a[0] > sigterm_at]
            outcomes = summary["outcomes"]
            print(f"clients: {len(answers)} answers ({len(with_outcome)} from the core, "
                  f"{len(draining)} draining), {unanswered} sent without an answer, "
                  f"{len(served_after)} served after SIGTERM; pending at SIGTERM: "
                  f"{drain.group(1) if drain else None}")
            print("errors:", sorted(set(e for c in clients for e in c.errors)))
            print("summary:", {k: summary[k] for k in
                               ("accepted", "answered", "submitted", "completed")},
                  {k: v for k, v in outcomes.items() if v})

            if summary["accepted"] != summary["answered"]:
                failures.append(f"accepted {summary['accepted']} != answered "
                                f"{summary['answered']}")
            if len(answers) + before_load != summary["answered"]:
                failures.append(f"the clients read {len(answers) + before_load} answers, serve "
                                f"answered {summary['answered']}")
            for when, target, status, outcome, body in answers:
                if status == 200 and json.loads(body).get("path") != target[3:]:
                    failures.append(f"{target} was answered with {body}")
                    break
                if outcome is None and (status != 503 or '"error":"draining"' not in body):
                    failures.append(f"{target}: {status} without an outcome: {body}")
                    break
                if outcome is not None and outcome != "served":
                    failures.append(f"{target}: {status} {outcome} {body}")
                    break
            submitted = len(with_outcome) + before_load
            if not (summary["submitted"] == summary["completed"] == sum(outcomes.values()) ==
                    submitted):
                failures.append(f"submitted {summary['submitted']}, completed "
                                f"{summary['completed']}, outcomes {sum(outcomes.values())}, "
                                f"answers with an outcome {submitted}")
            if outcomes.get("served") != len(served) + 1 or upstream.count() != len(served) + 1:
                failures.append(f"served: summary {outcomes.get('served')}, clients "
                                f"{len(served) + 1}, upstream {upstream.count()}")
            ids = []
            with open(trace, encoding="utf-8") as f:
                for line in f:
                    record = json.loads(line)
                    if record["type"] == "request":
                        ids.append(record["id"])
            if len(ids) != submitted or len(set(ids)) != len(ids):
                failures.append(f"trace: {len(ids)} request lines, {len(set(ids))} ids, "
                                f"expected {submitted}")
            if not drain or int(drain.group(1)) == 0:
                failures.append("nothing was pending at the SIGTERM: the test did not test a "
                                "drain under load")
            if not served_after:
                failures.append("no request was served after the SIGTERM")
            if not any(c.refused for c in clients):
                failures.append("no client saw the listener close")
        except RuntimeError as error:
            failures.append(str(error))
        finally:
            if serve is not None:
                serve.stop()
            upstream.close()
    for failure in failures:
        print("FAIL:", failure)
    if failures and serve is not None:
        print("serve log:\n" + "".join(serve.lines()[-50:]))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
