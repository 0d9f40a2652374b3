#!/usr/bin/env python3
"""`orchsim serve` in front of a hostile upstream neither crashes nor leaks
connections.

Usage: serve_hostile_upstream_test.py ORCHSIM

The upstream (raw sockets, one thread per connection) misbehaves by path,
each behaviour an API of its own in serve.json:
  quota     200 with garbage and contradictory quota headers (odds-api,
            GitHub and IETF styles at once, duplicated, unparsable, negative,
            beyond 64 bits, Retry-After that is no date)
  big       a 2 MiB body against max_response_bytes 64 KiB
  reset     reads the request, then resets the connection (SO_LINGER 0)
  never     reads the request and never answers (read_timeout 300ms)
  garbage   bytes that are not HTTP, then close
  truncated Content-Length 1000, 10 bytes, close
  ok        a normal answer (the proxy still works between the others)
Five rounds of 8 concurrent requests per API (distinct keys) are sent. Every
request gets an answer with the status its behaviour implies (502 for the
transport failures, 200 or 429 for the quota nonsense, 200 for ok); serve
stays up (/healthz); afterwards the open file descriptors of the serve
process (/proc/PID/fd) return to their number before any request (the
upstreams' idle_timeout is 500ms), the upstream holds no connection from
serve, and SIGTERM ends serve with exit 0 and accepted == answered.
Every wait is bounded.
"""

import concurrent.futures
import json
import os
import socket
import struct
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import serve_process as sp  # noqa: E402

ROUNDS = 5
CONCURRENT = 8
MAX_RESPONSE_BYTES = 64 << 10

QUOTA_HEADERS = [
    ("x-requests-remaining", "lots"),
    ("x-requests-remaining", "5"),
    ("x-requests-used", "-3"),
    ("x-requests-last", "1e999"),
    ("x-ratelimit-limit", "10"),
    ("x-ratelimit-remaining", "99999999999999999999999999"),
    ("x-ratelimit-reset", "yesterday"),
    ("x-ratelimit-used", "11"),
    ("RateLimit", "limit=abc, remaining=;reset"),
    ("RateLimit-Policy", ";;;w=-1"),
    ("Retry-After", "Wed, 99 Foo 2024 25:61:61 GMT"),
]
EXPECTED = {
    "quota": {200, 429},
    "big": {502},
    "reset": {502},
    "never": {502},
    "garbage": {502},
    "truncated": {502},
    "ok": {200},
}


class HostileUpstream:
    """Accepts on 127.0.0.1; each connection on its own thread. `open` counts
    connections not yet closed by either side."""

    def __init__(self):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(256)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.open = 0
        self.requests = 0
        self.stopping = threading.Event()
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def open_connections(self):
        with self.lock:
            return self.open

    def accept_loop(self):
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self.lock:
                self.open += 1
            threading.Thread(target=self.serve, args=(connection,), daemon=True).start()

    def serve(self, connection):
        connection.settimeout(30)
        buffer = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    chunk = connection.recv(4096)
                    if not chunk:
                        return
                    buffer += chunk
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                path = head.split(b" ")[1].decode()
                with self.lock:
                    self.requests += 1
                behaviour = path.strip("/").split("/")[0]
                if not self.answer(connection, behaviour):
                    return
        except OSError:
            pass
        finally:
            connection.close()
            with self.lock:
                self.open -= 1

    def answer(self, connection, behaviour):
        """Answers one request; False when the connection is to be dropped."""
        if behaviour == "quota":
            body = b'{"quota":"nonsense"}'
            head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            head += "".join(f"{name}: {value}\r\n" for name, value in QUOTA_HEADERS)
            head += f"Content-Length: {len(body)}\r\n\r\n"
            connection.sendall(head.encode() + body)
            return True
        if behaviour == "ok":
            body = b'{"ok":true}'
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                               b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
            return True
        if behaviour == "big":
            size = 2 << 20
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                               b"Content-Length: %d\r\n\r\n" % size)
            chunk = b"x" * 65536
            for _ in range(size // len(chunk)):
                connection.sendall(chunk)  # raises once serve closes
            return True
        if behaviour == "reset":
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        if behaviour == "never":
            while connection.recv(4096):  # until serve gives up and closes
                pass
            return False
        if behaviour == "garbage":
            connection.sendall(b"\x00\xffNOT HTTP AT ALL\r\n\r\n\x16\x03\x01garbage")
            return False
        if behaviour == "truncated":
            connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789")
            return False
        connection.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        return True

    def close(self):
        self.stopping.set()
        self.listener.close()


def main(orchsim):
    failures = []
    upstream = HostileUpstream()
    base = f"http://127.0.0.1:{upstream.port}"
    upstreams = {}
    for api in EXPECTED:
        upstreams[api] = {
            "base_url": f"{base}/{api}", "max_connections": 16, "connect_timeout": "1s",
            "read_timeout": "300ms", "idle_timeout": "500ms",
            "max_response_bytes": MAX_RESPONSE_BYTES,
            "routes": [{"path": "/*", "endpoint": "x"}]}
    serve = None
    with tempfile.TemporaryDirectory() as folder:
        try:
            serve = sp.Serve(orchsim, folder, {"drain": "2s", "log_level": "info",
                                               "upstreams": upstreams},
                             preset=sp.PLAIN_PRESET)
            baseline = sp.open_fds(serve.pid)
            statuses = {api: {} for api in EXPECTED}
            bad = []
            with concurrent.futures.ThreadPoolExecutor(CONCURRENT * len(EXPECTED)) as pool:
                for round_ in range(ROUNDS):
                    futures = {}
                    for api in EXPECTED:
                        for i in range(CONCURRENT):
                            target = f"/{api}/data?r={round_}&i={i}"
                            futures[pool.submit(sp.get, serve.port, target)] = (api, target)
                    for future, (api, target) in futures.items():
                        try:
                            status, headers, body = future.result(timeout=30)
                        except OSError as error:
                            bad.append(f"{target}: no answer ({error!r})")
                            continue
                        statuses[api][status] = statuses[api].get(status, 0) + 1
                        if status not in EXPECTED[api]:
                            bad.append(f"{target}: {status} {body}")
                    if serve.process.poll() is not None:
                        raise RuntimeError(f"serve ended in round {round_}: "
                                           f"{serve.process.returncode}")
            print("answers by api and status:", statuses)
            failures.extend(bad[:10])
            if sp.get(serve.port, "/healthz")[0] != 200:
                failures.append("/healthz after the hostile rounds")
            peak = sp.open_fds(serve.pid)
            settled = sp.wait_for(lambda: sp.open_fds(serve.pid) == baseline and
                                  upstream.open_connections() == 0, 15)
            print(f"serve's open fds: {baseline} before, {peak} after the rounds, "
                  f"{sp.open_fds(serve.pid)} settled; upstream connections open: "
                  f"{upstream.open_connections()}; upstream requests: {upstream.requests}")
            if not settled:
                failures.append(f"leak: serve holds {sp.open_fds(serve.pid)} fds (before: "
                                f"{baseline}: {sorted(os.listdir(f'/proc/{serve.pid}/fd'))}), "
                                f"the upstream sees {upstream.open_connections()} connections")
            sent = ROUNDS * CONCURRENT * len(EXPECTED)
            code = serve.terminate_and_wait(15)
            summary = serve.stopped_line()
            if code != 0 or summary is None:
                failures.append(f"SIGTERM: exit {code}, summary {summary}")
            elif not (summary["accepted"] == summary["answered"] == sent + 1 and
                      summary["submitted"] == summary["completed"] == sent):
                failures.append(f"summary {summary}, sent {sent} (+1 /healthz)")
        except RuntimeError as error:
            failures.append(str(error))
        finally:
            if serve is not None:
                serve.stop()
            upstream.close()
    for failure in failures:
        print("FAIL:", failure)
    if failures and serve is not None:
        print("serve log:\n" + "".join(serve.lines()[-30:]))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
