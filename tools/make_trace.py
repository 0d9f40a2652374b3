#!/usr/bin/env python3
"""Writes a synthetic orchsim trace (trace format version 1) of N lines and a
scenario that replays it, for the trace ingestion benchmark and the flat
memory check (README "Replay your own traffic", "Measured").

Usage: tools/make_trace.py LINES OUT_DIR [--rate PER_SECOND] [--keys K]

OUT_DIR/trace-LINES.jsonl: the header, then request and call lines as a
recorder writes them (one call line after every second request line;
arrivals at PER_SECOND (default 200) requests per second, written at their
completion, so arrivals are out of order by up to one latency, 20-80 ms);
requests for K (default 1000) keys of one api, "scores", priorities HIGH and
NORMAL, deadlines, game starts. Deterministic (a fixed linear congruential
generator). OUT_DIR/replay-LINES.json: a scenario replaying it with the
seed-plan preset against a plain mocked "scores" upstream.

Then, e.g.:
  /usr/bin/time -v build/orchsim run OUT_DIR/replay-1000000.json --quiet --no-plots \
      --out OUT_DIR/out-1000000          # "Maximum resident set size"
"""

import heapq
import json
import os
import sys

HEADER = ('{"type":"header","format":"orchsim-trace","version":1,"source":"live",'
          '"variant":"synthetic","generator":"tools/make_trace.py"}\n')
START_US = 1_696_000_000_000_000  # 2023-09-29T15:06:40Z


def iso(us):
    seconds, micros = divmod(us, 1_000_000)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    # Civil date from days since the epoch (Howard Hinnant's algorithm).
    z = days + 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    y = yoe + era * 400
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    y += m <= 2
    return f"{y:04d}-{m:02d}-{d:02d}T{hours:02d}:{minutes:02d}:{secs:02d}.{micros:06d}Z"


def main(lines, out, rate, keys):
    os.makedirs(out, exist_ok=True)
    trace = os.path.join(out, f"trace-{lines}.jsonl")
    state = 12345
    step = 1_000_000 // rate
    written = 1
    request_id = 0
    call_id = 0
    buffer = [HEADER]
    pending = []  # (completion, request id, line): written once arrivals pass it
    with open(trace, "w", encoding="utf-8") as f:
        while written < lines:
            state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
            request_id += 1
            arrival = START_US + request_id * step
            latency = 20_000 + (state >> 40) % 60_000
            key = f"game_{(state >> 20) % keys:05d}"
            priority = "HIGH" if state & 1 else "NORMAL"
            kickoff = iso(arrival - arrival % 3_600_000_000 + 3_600_000_000)
            # Written at completion: after every request that completed before it.
            heapq.heappush(pending, (arrival + latency, request_id, 
                f'{{"type":"request","id":{request_id},"arrival":"{iso(arrival)}","api":"scores",'
                f'"endpoint":"scores","key":"{key}","priority":"{priority}",'
                f'"game_start":"{kickoff}","deadline_us":10000000,"cacheable":true,'
                f'"batchable":false,"outcome":"served","status":200,"latency_us":{latency},'
                f'"queue_wait_us":0,"attempts":1}}\n'))
            if request_id % 2 == 0:
                call_id += 1
                heapq.heappush(pending, (arrival + latency, request_id,
                    f'{{"type":"call","call_id":{call_id},"sent":"{iso(arrival)}","api":"scores",'
                    f'"endpoint":"scores","keys":["{key}"],"kind":"first_attempt","attempt":1,'
                    f'"priority":"{priority}","status":200,"latency_us":{latency},"credits":1,'
                    f'"late":false,"quota_headers":{{}}}}\n'))
            while pending and (pending[0][0] <= arrival or len(pending) > 64) and written < lines:
                buffer.append(heapq.heappop(pending)[2])
                written += 1
            if len(buffer) >= 4096:
                f.write("".join(buffer))
                buffer = []
        while pending and written < lines:
            buffer.append(heapq.heappop(pending)[2])
            written += 1
        f.write("".join(buffer))
    scenario = {
        "name": f"replay-synthetic-{lines}",
        "description": f"tools/make_trace.py: {lines} lines replayed (trace ingestion, flat memory)",
        "seed": 1,
        "drain": "1m",
        "upstreams": {"scores": {
            "latency": {"kind": "uniform", "min": "20ms", "max": "80ms"},
            "failures": {"enabled": True, "status_500": 0.01},
            "health": {"enabled": False},
            "quota": {"enabled": False, "headers": "none"}}},
        "demand": [{"name": "recorded", "trace": {"file": os.path.basename(trace)}}],
        "variants": [{"name": "seed-plan", "preset": "seed-plan",
                      "overrides": {"default_api": {"bucket": {"enabled": False}}}}],
    }
    policies = os.path.join(out, "policies")
    os.makedirs(policies, exist_ok=True)
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scenarios",
                          "policies", "seed-plan.json")
    with open(source, encoding="utf-8") as f, \
            open(os.path.join(policies, "seed-plan.json"), "w", encoding="utf-8") as g:
        g.write(f.read())
    with open(os.path.join(out, f"replay-{lines}.json"), "w", encoding="utf-8") as f:
        json.dump(scenario, f, indent=2)
    print(f"{trace}: {lines} lines, {os.path.getsize(trace)} bytes")


if __name__ == "__main__":
    args = sys.argv[1:]
    options = {"--rate": 200, "--keys": 1000}
    for flag in list(options):
        if flag in args:
            at = args.index(flag)
            options[flag] = int(args[at + 1])
            del args[at:at + 2]
    if len(args) != 2 or not args[0].isdigit() or int(args[0]) < 2 or \
            options["--rate"] < 1 or options["--keys"] < 1:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(int(args[0]), args[1], options["--rate"], options["--keys"])
