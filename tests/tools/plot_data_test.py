#!/usr/bin/env python3
"""The data behind the plots of tools/plot_results.py (issue 18, items 6, 17
and 18), checked without drawing.

Usage: plot_data_test.py TOOLS_DIR

- staleness: the CDF is a share of ALL requests, so failed requests (no data)
  never count as fresh and the curve ends at the share that got data;
- calls: each bar stacks the calls, the requests served without a call by
  mechanism and, apart, those that failed without a call;
- breakers: a short open is drawn at least MIN_SPAN_SHARE of the axis wide;
- quota: a period shorter than a day over more than two weeks is drawn as the
  lowest remaining per day; shorter spans keep every hour;
- --from/--to parse, and a window that ends before it starts is refused.
Runs under the first of this interpreter and /usr/bin/python3 (where Debian's
python3-matplotlib installs; orchsim plot looks there too) that has
matplotlib; exits 77 (skipped) when none has.
"""

import os
import sys
from datetime import datetime, timedelta, timezone


def main(tools_dir):
    sys.path.insert(0, tools_dir)
    try:
        import plot_results as p
    except SystemExit:  # matplotlib missing: the module says so and exits
        debian = "/usr/bin/python3"
        if os.environ.get("ORCHSIM_PLOT_DATA_TEST_REEXEC") is None and os.path.exists(debian) \
                and os.path.realpath(sys.executable) != os.path.realpath(debian):
            os.environ["ORCHSIM_PLOT_DATA_TEST_REEXEC"] = "1"
            os.execv(debian, [debian] + sys.argv)
        print("skipped: no matplotlib")
        return 77
    failures = []

    def check(condition, what):
        if not condition:
            failures.append(what)

    # Staleness: 10 requests, 8 answered (4 fresh, 4 at 30 s), 2 failed.
    rows = [
        {"variant": "v", "metric": "requests", "low": "", "high": "", "count": "10"},
        {"variant": "v", "metric": "answered_with_data", "low": "", "high": "", "count": "8"},
        {"variant": "v", "metric": "age_s", "low": "0.000000", "high": "0.000001", "count": "4"},
        {"variant": "v", "metric": "age_s", "low": "29.0", "high": "31.0", "count": "4"},
    ]
    xs, ys, share = p.staleness_cdf(rows, "v")
    check(ys[-1] == 0.8 and share == 0.8, f"staleness CDF ends at the answered share: {ys}, {share}")
    check(ys[1] == 0.4, f"4 fresh of 10 requests is 0.4, got {ys[1]}")

    # Calls: the stack of one bar.
    balance = {"served_without_call": {"cache_hits": 5, "stale_answers": 1, "coalescing": 2, "batching": 0},
               "failed_without_call": {"total": 3}}
    stack = p.call_stack(balance, 9)
    check(stack == [("calls", 9), ("cache_hits", 5), ("stale_answers", 1), ("coalescing", 2),
                    ("batching", 0), ("failed_without_call", 3)], f"call stack: {stack}")

    # Breakers: a 1-second open in a 10-day run is drawn MIN_SPAN_SHARE wide.
    start = datetime(2023, 10, 1, tzinfo=timezone.utc)
    end = start + timedelta(days=10)
    events = [{"at": "2023-10-05T12:00:00Z", "to": "open"}, {"at": "2023-10-05T12:00:01Z", "to": "closed"}]
    spans = p.breaker_spans(events, start, end)
    width = spans["open"][0][1]
    check(abs(width - 10 * p.MIN_SPAN_SHARE) < 1e-9, f"minimum visible width: {width} days")

    # Quota: 30 days of an hourly quota -> one point per day (the lowest).
    hours = []
    for h in range(30 * 24):
        t = start + timedelta(hours=h)
        remaining = 100.0 if h % 24 != 15 else 0.0
        hours.append({"hour_start": t.strftime("%Y-%m-%dT%H:%M:%SZ"), "credits_remaining": str(remaining),
                      "exhausted": "1" if remaining == 0 else "0", "refused_calls": "2" if remaining == 0 else "0"})
    points, per = p.quota_series(hours, 3600, 30)
    check(per == "day" and len(points) == 30, f"daily points: {per}, {len(points)}")
    check(all(pt[1] == 0.0 and pt[2] and pt[3] == 2 for pt in points), "each day's lowest hour and refusals")
    points, per = p.quota_series(hours[:48], 3600, 2)
    check(per == "hour" and len(points) == 48, "two days keep every hour")
    points, per = p.quota_series(hours, 30 * 86400, 30)
    check(per == "hour", "a monthly quota keeps every hour")

    # Window arguments.
    out_dir, window = p.parse_args(["x", "DIR", "--from", "2023-10-01T00:00:00Z", "--to", "2023-10-02T00:00:00Z"])
    check(out_dir == "DIR" and window[0] == start, f"window: {out_dir}, {window}")
    try:
        p.parse_args(["x", "DIR", "--from", "2023-10-02T00:00:00Z", "--to", "2023-10-01T00:00:00Z"])
        failures.append("a window ending before it starts was accepted")
    except ValueError:
        pass

    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
