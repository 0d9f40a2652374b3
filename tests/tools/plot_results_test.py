#!/usr/bin/env python3
"""Renders the plots of a small result and checks every file.

Usage: plot_results_test.py ORCHSIM SCENARIO

Runs `ORCHSIM run SCENARIO --variant naive --variant tuned --out TMP
--no-plots`, then `ORCHSIM plot TMP` twice (in two folders), and checks that
each plot exists as a non-empty PNG (magic bytes) and SVG (parses as XML with
an <svg> root), that report.md links every PNG, and that the SVGs are
byte-identical between the two renderings. Exits 77 (skipped) when no Python
with matplotlib is available to orchsim plot.
"""

import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

PLOTS = ["overview", "calls", "wait", "latency", "quota", "breakers", "staleness"]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def main(orchsim, scenario):
    work = tempfile.mkdtemp(prefix="orchsim_plot_test_")
    try:
        first = os.path.join(work, "a")
        second = os.path.join(work, "b")
        subprocess.run([orchsim, "run", scenario, "--variant", "naive", "--variant", "tuned",
                        "--out", first, "--no-plots", "-q"], check=True, stdout=subprocess.DEVNULL)
        shutil.copytree(first, second)
        for folder in (first, second):
            done = subprocess.run([orchsim, "plot", folder], capture_output=True, text=True)
            if done.returncode != 0 and "matplotlib" in done.stderr:
                print("skipped:", done.stderr.strip())
                return 77
            if done.returncode != 0:
                print(done.stderr)
                return 1
        failures = []
        report = open(os.path.join(first, "report.md"), encoding="utf-8").read()
        for name in PLOTS:
            png = os.path.join(first, name + ".png")
            svg = os.path.join(first, name + ".svg")
            with open(png, "rb") as f:
                data = f.read()
            if len(data) < 1000 or not data.startswith(PNG_MAGIC):
                failures.append(f"{png}: not a non-empty PNG ({len(data)} bytes)")
            if os.path.getsize(svg) < 1000:
                failures.append(f"{svg}: too small")
            root = ET.parse(svg).getroot()
            if not root.tag.endswith("svg"):
                failures.append(f"{svg}: root is {root.tag}, not svg")
            with open(svg, "rb") as a, open(os.path.join(second, name + ".svg"), "rb") as b:
                if a.read() != b.read():
                    failures.append(f"{svg}: differs between two renderings")
            if f"]({name}.png)" not in report:
                failures.append(f"report.md does not link {name}.png")
        leftovers = [f for f in os.listdir(first) if f.endswith(".partial")]
        if leftovers:
            failures.append(f"temporary files left: {leftovers}")
        for f in failures:
            print("FAIL:", f)
        return 1 if failures else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
