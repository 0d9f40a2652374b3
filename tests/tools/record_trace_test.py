#!/usr/bin/env python3
"""`orchsim run --record` end to end: one trace per variant, complete and valid.

Usage: record_trace_test.py ORCHSIM SCENARIO SCHEMA VARIANT...

Runs `ORCHSIM run SCENARIO --variant V... --record TMP/traces/` and checks for
every variant run (summary.json): TMP/traces/<variant>.jsonl exists and no
.partial file is left; the first line is the header (format, version 1,
source simulation, scenario, variant, seed); there is one request line per
client request and one call line per upstream call of the run (the counts of
summary.json); every line is a JSON object ending in a newline; the instant
each line was written (arrival + latency_us, sent + latency_us) never goes
back; and the lines validate against SCHEMA (scenarios/schema/
trace.schema.json) when the Python jsonschema module is available (Debian:
python3-jsonschema; without it that part is skipped with a note): every line
of a shape not seen before (its type, fields, outcome or kind, status and
quota header names) and every 20th line, which keeps the test to seconds.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile


def micros(text):
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return (t - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // \
        datetime.timedelta(microseconds=1)


def main(orchsim, scenario, schema_path, variants):
    try:
        import jsonschema
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
        jsonschema.Draft202012Validator.check_schema(schema)
        validator = jsonschema.Draft202012Validator(schema)
    except ImportError:
        validator = None
        print("note: the Python jsonschema module is missing; lines are not validated")
    work = tempfile.mkdtemp(prefix="orchsim_record_test_")
    failures = []
    try:
        command = [orchsim, "run", scenario, "--out", os.path.join(work, "res"), "--no-plots",
                   "--quiet", "--record", os.path.join(work, "traces") + "/"]
        for v in variants:
            command += ["--variant", v]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        with open(os.path.join(work, "res", "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
        files = sorted(os.listdir(os.path.join(work, "traces")))
        want = sorted(v["name"] + ".jsonl" for v in summary["variants"])
        if files != want:
            failures.append(f"trace files {files}, expected {want}")
        for run in summary["variants"]:
            path = os.path.join(work, "traces", run["name"] + ".jsonl")
            with open(path, "rb") as f:
                raw = f.read()
            if not raw.endswith(b"\n"):
                failures.append(f"{path}: the last line has no newline")
            lines = raw.decode("utf-8").splitlines()
            header = json.loads(lines[0])
            expected_header = {"type": "header", "format": "orchsim-trace", "version": 1,
                               "source": "simulation", "scenario": summary["scenario"],
                               "variant": run["name"], "seed": summary["seed"]}
            for key, value in expected_header.items():
                if header.get(key) != value:
                    failures.append(f"{path}: header {key} = {header.get(key)!r}, expected {value!r}")
            counts = {"header": 0, "request": 0, "call": 0}
            last_end = None
            invalid = 0
            validated = 0
            shapes = set()
            for number, line in enumerate(lines, start=1):
                record = json.loads(line)
                counts[record["type"]] += 1
                shape = (tuple(sorted(record)), record.get("outcome"), record.get("kind"),
                         record.get("status"), tuple(sorted(record.get("quota_headers", {}))))
                if validator is not None and (shape not in shapes or number % 20 == 0):
                    shapes.add(shape)
                    validated += 1
                    errors = list(validator.iter_errors(record))
                    if errors and invalid < 3:
                        failures.append(f"{path}:{number}: {errors[0].message}")
                    invalid += bool(errors)
                start = record.get("arrival") or record.get("sent")
                if start is None:
                    continue
                end = micros(start) + record["latency_us"]
                if last_end is not None and end < last_end:
                    failures.append(f"{path}:{number}: written at {end} us, before line "
                                    f"{number - 1} ({last_end} us)")
                last_end = end
            if counts["header"] != 1:
                failures.append(f"{path}: {counts['header']} header lines")
            if counts["request"] != run["requests"]:
                failures.append(f"{path}: {counts['request']} request lines, the run had "
                                f"{run['requests']} requests")
            if counts["call"] != run["calls_sent_by_core"] or counts["call"] != run["upstream_calls"]:
                failures.append(f"{path}: {counts['call']} call lines, the run sent "
                                f"{run['calls_sent_by_core']} calls ({run['upstream_calls']} at the "
                                f"upstreams)")
            if invalid:
                failures.append(f"{path}: {invalid} lines do not match {schema_path}")
            print(f"{run['name']}: {counts['request']} request lines, {counts['call']} call lines"
                  + (f", {validated} of them validated" if validator is not None else ""))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print("FAIL:", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) < 5:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]))
