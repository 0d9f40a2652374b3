#!/usr/bin/env python3
"""`orchsim run --openmetrics` loads into Prometheus's TSDB with its numbers.

Usage: openmetrics_promtool_test.py ORCHSIM SCENARIO

Runs `ORCHSIM run SCENARIO --openmetrics TMP/run.om --openmetrics-step 10m`,
checks the file ends with "# EOF" (no .partial left), then
`promtool tsdb create-blocks-from openmetrics TMP/run.om TMP/tsdb` must
succeed, and `promtool tsdb dump` of the blocks must give, per variant, the
run's totals of summary.json at the last sample: requests (orchsim_requests_total
summed over outcomes and apis), upstream calls (orchsim_upstream_calls_total),
retries and breaker trips. Exits 77 (skipped) when promtool is not installed
(Debian package prometheus; tools/setup.sh installs it).
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SAMPLE = re.compile(r"^\{(.*)\} (\S+) (\d+)$")
LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


def last_totals(dump_text, name):
    """{variant: sum over series of `name` of each series' last sample}."""
    last = {}
    for line in dump_text.splitlines():
        m = SAMPLE.match(line)
        if not m:
            continue
        labels = dict(LABEL.findall(m.group(1)))
        if labels.get("__name__") != name:
            continue
        key = tuple(sorted(labels.items()))
        ts = int(m.group(3))
        if key not in last or ts >= last[key][0]:
            last[key] = (ts, float(m.group(2)))
    totals = {}
    for key, (_, value) in last.items():
        variant = dict(key)["variant"]
        totals[variant] = totals.get(variant, 0.0) + value
    return totals


def main(orchsim, scenario):
    promtool = shutil.which("promtool")
    if promtool is None:
        print("skipped: promtool not found (Debian package prometheus; tools/setup.sh installs it)")
        return 77
    work = tempfile.mkdtemp(prefix="orchsim_openmetrics_test_")
    failures = []
    try:
        om = os.path.join(work, "run.om")
        subprocess.run([orchsim, "run", scenario, "--out", os.path.join(work, "res"), "--no-plots",
                        "--quiet", "--openmetrics", om, "--openmetrics-step", "10m"],
                       check=True, stdout=subprocess.DEVNULL)
        if os.path.exists(om + ".partial"):
            failures.append("run.om.partial left behind")
        with open(om, "rb") as f:
            f.seek(-6, os.SEEK_END)
            if f.read() != b"# EOF\n":
                failures.append("run.om does not end with '# EOF'")
        tsdb = os.path.join(work, "tsdb")
        made = subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", om, tsdb],
                              capture_output=True, text=True)
        if made.returncode != 0:
            print(made.stdout, made.stderr)
            failures.append(f"promtool create-blocks-from exited {made.returncode}")
            return 1
        os.makedirs(os.path.join(tsdb, "wal"), exist_ok=True)  # dump opens the WAL
        dump = subprocess.run([promtool, "tsdb", "dump", tsdb], capture_output=True, text=True,
                              check=True).stdout
        with open(os.path.join(work, "res", "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
        checks = [("orchsim_requests_total", "requests"),
                  ("orchsim_requests_submitted_total", "requests"),
                  ("orchsim_upstream_calls_total", "upstream_calls"),
                  ("orchsim_retries_total", "retries"),
                  ("orchsim_breaker_trips_total", "breaker_trips")]
        for metric, field in checks:
            totals = last_totals(dump, metric)
            for run in summary["variants"]:
                found = totals.get(run["name"], 0.0)
                if found != run[field]:
                    failures.append(f"{run['name']}: {metric} ends at {found:g} in Prometheus, "
                                    f"summary.json {field} is {run[field]}")
        print(f"promtool loaded {len(summary['variants'])} variants; totals agree"
              if not failures else "")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
