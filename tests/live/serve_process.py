"""Helpers for the tests that run `orchsim serve` as a process on loopback:
a bounded line reader, free ports, a serve process with its JSON log, a
client, the open file descriptors of a process, and a small threaded HTTP
upstream whose handler decides each answer.

Every wait here has a deadline; nothing sleeps to synchronise.
"""

import http.client
import http.server
import json
import os
import re
import select
import signal
import socket
import subprocess
import threading
import time


def wait_for(condition, seconds, step=0.02):
    """Polls `condition` until it is true or `seconds` pass; returns its last value."""
    end = time.monotonic() + seconds
    while True:
        value = condition()
        if value or time.monotonic() >= end:
            return value
        time.sleep(step)


def read_line(stream, pattern, seconds, seen):
    """Reads lines of `stream` (a text pipe) until one matches `pattern`, or
    `seconds` pass; every line read is appended to `seen`. The match or None."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if not ready:
            continue
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    return None


def free_port():
    """A port nothing listens on now (the caller binds it soon after)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_fds(pid):
    """The number of open file descriptors of process `pid` (Linux /proc)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def get(port, target, headers=None, timeout=10):
    """One GET on a fresh connection: (status, headers dict, body text)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", target, headers=headers or {})
        response = connection.getresponse()
        body = response.read().decode(errors="replace")
        return response.status, dict(response.getheaders()), body
    finally:
        connection.close()


# A preset with every mechanism that would hide a request from the upstream
# (or change its count) off, except what a test turns on.
PLAIN_PRESET = {
    "default_api": {"bucket": {"enabled": False}, "quota": {"enabled": True, "mode": "pace"}},
    "queue": {"capacity": 0, "escalation_enabled": False},
    "coalescer": {"enabled": True},
    "batcher": {"enabled": False},
    "cache": {"enabled": True, "default_ttl": "1m", "stale_if_error": False},
    "prefetch": {"enabled": False},
    "breaker": {"enabled": False},
    "retry": {"enabled": False},
    "retry_budget": {"enabled": False},
    "concurrency": {"enabled": False},
    "timeouts": {"enabled": True, "per_attempt": "5s", "overall": "10s"},
    "health": {"enabled": False},
}


class Serve:
    """`orchsim serve --config FOLDER/serve.json` on an ephemeral port.

    The config is written from `config` (listen forced to 127.0.0.1:0). A
    thread reads stderr as it comes (so a chatty log never blocks serve);
    `log` holds every line read so far."""

    def __init__(self, orchsim, folder, config, preset=None, extra_args=()):
        self.folder = folder
        self.log = []
        self.lock = threading.Lock()
        if preset is not None:
            with open(os.path.join(folder, "preset.json"), "w", encoding="utf-8") as f:
                json.dump(preset, f)
            config = dict(config, preset="preset.json")
        config = dict(config, listen="127.0.0.1:0")
        self.config_path = os.path.join(folder, "serve.json")
        with open(self.config_path, "w", encoding="utf-8") as f:
            json.dump(config, f)
        self.process = subprocess.Popen(
            [orchsim, "serve", "--config", self.config_path, *extra_args],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        match = self.wait_log(r'"event":"listening".*"address":"127\.0\.0\.1:(\d+)"', 15)
        if not match:
            self.stop()
            raise RuntimeError("serve did not start: " + "".join(self.lines()))
        self.port = int(match.group(1))
        self.pid = self.process.pid

    def _read(self):
        for line in self.process.stderr:
            with self.lock:
                self.log.append(line)

    def lines(self):
        with self.lock:
            return list(self.log)

    def wait_log(self, pattern, seconds):
        """The first log line matching `pattern` (waiting up to `seconds`), or None."""
        def find():
            for line in self.lines():
                match = re.search(pattern, line)
                if match:
                    return match
            return None
        return wait_for(find, seconds)

    def terminate_and_wait(self, seconds):
        """SIGTERM, then the exit status (None if it did not end in time)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            return None
        self.reader.join(timeout=5)
        return code

    def stopped_line(self):
        """The "stopped" summary as a dict, or None."""
        for line in self.lines():
            if '"event":"stopped"' in line:
                return json.loads(line)
        return None

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)


class Upstream:
    """A threaded HTTP/1.1 upstream on 127.0.0.1 (keep-alive). `handler(path)`
    returns (status, headers list, body bytes, delay seconds). Counts the
    requests it answered."""

    def __init__(self, handler):
        outer = self
        self.lock = threading.Lock()
        self.requests = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (the stdlib's name)
                status, headers, body, delay = handler(self.path)
                if delay:
                    time.sleep(delay)
                with outer.lock:
                    outer.requests += 1
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self):
        with self.lock:
            return self.requests

    def close(self):
        self.server.shutdown()
        self.server.server_close()
