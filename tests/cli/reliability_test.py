#!/usr/bin/env python3
"""reliability_test.py — issue 19 through the orchsim CLI.

Usage: reliability_test.py ORCHSIM SOURCE_DIR WORK_DIR CASE

Each CASE reproduces one defect of issue 19 ("nothing mixed, nothing
unbounded, nothing silently wrong") and checks the fix:
  lock             two writers of one --out: the second exits 2 naming the
                   holder; concurrent runs leave one complete result
  stale            a rerun replaces the whole result (no stale plots, no broken
                   image links with --no-plots); another kind of result or
                   someone's files are refused with exit 2
  fifo             a FIFO as schedule, scenario or baseline: exit 2 at once
  interrupt        SIGINT/SIGTERM while plots are drawn: non-zero exit, the
                   plotting child stopped, nothing half-written; SIGKILL: the
                   child dies too and the next run removes the leftovers
  interrupt_sweep  SIGINT during a sweep keeps the finished points, leaves no
                   temporary files; --resume finishes; a killed sweep's
                   leftovers are removed
  messages         --seed -1, a repeated --variant, --out "", write errors
                   with their reason (exit 3), a damaged sweep.json
  limits           the issue's unbounded inputs refused (exit 2) before any
                   output; --limit sets a limit; out of memory is exit 4
Deterministic: no timing assertions; waits poll for a condition with a
generous deadline. Cases that draw plots through a stand-in script need a
Python with matplotlib (orchsim looks for one); without it they are skipped
(exit 77).
"""

import fcntl
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

ORCHSIM, SOURCE, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
CASE = sys.argv[4]
SCENARIOS = os.path.join(SOURCE, "scenarios")
SMALL = os.path.join(SCENARIOS, "kickoff-surge.json")  # five variants, well under a second
DATA = os.path.join(SOURCE, "tests", "cli", "reliability")
DEADLINE_S = 120


def fail(message):
    sys.stderr.write("FAIL: " + message + "\n")
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


def run(args, env=None, timeout=DEADLINE_S, preexec_fn=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        return subprocess.run([ORCHSIM] + args, capture_output=True, text=True, env=full_env,
                              timeout=timeout, cwd=WORK, preexec_fn=preexec_fn)
    except subprocess.TimeoutExpired:
        fail("orchsim %s did not finish within %d s (blocked?)" % (" ".join(args), timeout))


def expect(args, status, *fragments, env=None):
    r = run(args, env=env)
    out = r.stdout + r.stderr
    check(r.returncode == status, "orchsim %s: exit %d, expected %d\n%s" %
          (" ".join(args), r.returncode, status, out))
    for fragment in fragments:
        check(fragment in out, "orchsim %s: output lacks %r\n%s" % (" ".join(args), fragment, out))
    return r


def wait_for(condition, what):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    fail("timed out waiting for " + what)


def process_gone(pid):
    """True when `pid` has exited (a zombie waiting for its reaper counts)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


def leftovers(folder):
    """Temporary names orchsim may leave in or beside a folder."""
    found = []
    parent = os.path.dirname(os.path.abspath(folder))
    name = os.path.basename(os.path.abspath(folder))
    for entry in os.listdir(parent):
        if entry.startswith("." + name + ".orchsim-"):
            found.append(os.path.join(parent, entry))
    for root, dirs, files in os.walk(folder):
        for entry in dirs + files:
            if entry.endswith(".partial") or ".orchsim-tmp" in entry or entry.endswith(".interrupted"):
                found.append(os.path.join(root, entry))
    return found


def snapshot(folder):
    """{relative path: bytes} of every file under folder."""
    files = {}
    for root, _, names in os.walk(folder):
        for n in names:
            path = os.path.join(root, n)
            with open(path, "rb") as f:
                files[os.path.relpath(path, folder)] = f.read()
    return files


def seed_of(folder):
    with open(os.path.join(folder, "summary.json")) as f:
        return json.load(f)["seed"]


def have_plot_python():
    for python in ("/usr/bin/python3", "python3"):
        try:
            if subprocess.run([python, "-c", "import matplotlib"], capture_output=True).returncode == 0:
                return True
        except OSError:
            pass
    return False


def plot_script(name, body):
    path = os.path.join(WORK, name)
    with open(path, "w") as f:
        f.write("import os, sys, time\nfolder = sys.argv[1]\n" + body)
    return path


# A stand-in for plot_results.py: writes every image at once, naming the
# seed of the result it was drawn for.
QUICK_PLOTS = """
import json
seed = json.load(open(os.path.join(folder, "summary.json")))["seed"]
for name in ("calls", "wait", "quota", "breakers", "staleness"):
    for ext in ("png", "svg"):
        open(os.path.join(folder, name + "." + ext), "w").write("seed %s" % seed)
"""

# A stand-in that says it started (its pid in $PID_FILE), then keeps writing
# a half-finished image until it is stopped.
ENDLESS_PLOTS = """
open(os.environ["PID_FILE"] + ".tmp", "w").write(str(os.getpid()))
os.rename(os.environ["PID_FILE"] + ".tmp", os.environ["PID_FILE"])
target = os.path.join(folder, "calls.png.partial")
while True:
    with open(target, "a") as f:
        f.write("x")
    time.sleep(0.02)
"""


def case_lock():
    out = os.path.join(WORK, "out")
    # Deterministic: this process holds the lock as a running orchsim would.
    lock_path = os.path.join(WORK, ".out.orchsim-lock")
    with open(lock_path, "w") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        holder.write("pid 4242: orchsim run holder.json --seed 1\n")
        holder.flush()
        expect(["run", SMALL, "-q", "--no-plots", "--out", "out"], 2,
               "out: in use by another orchsim (pid 4242: orchsim run holder.json --seed 1)")
        check(not os.path.exists(out), "the refused run created its folder")
        expect(["sweep", SMALL, "-q", "--no-plots", "-p", "retry.max_attempts=1,2", "--out", "out"],
               2, "in use by another orchsim")
    os.remove(lock_path)
    # Really concurrent: whatever the interleaving, one complete result.
    for attempt in range(3):
        procs = [subprocess.Popen([ORCHSIM, "run", SMALL, "-q", "--no-plots", "--seed", str(seed),
                                   "--out", "out"], cwd=WORK, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
        results = [p.communicate(timeout=DEADLINE_S) + (p.returncode,) for p in procs]
        statuses = [r[2] for r in results]
        check(0 in statuses and set(statuses) <= {0, 2}, "exit statuses %s: %s" % (statuses, results))
        for stdout, stderr, status in results:
            if status == 2:
                # The holder is named unless the refusal fell in the instant
                # between its lock and its line (the fixed case above names it).
                check("in use by another orchsim (pid " in stderr or
                      "in use by another orchsim (holder unknown)" in stderr, stderr)
        seed = seed_of(out)
        with open(os.path.join(out, "report.md")) as f:
            check("| seed | %d |" % seed in f.read(), "report.md and summary.json disagree")
        with open(os.path.join(out, "summary.csv")) as f:
            seeds = {line.split(",")[3].strip() for line in f if line.split(",")[1] == "seed"}
        check(seeds == {str(seed)}, "summary.csv mixes seeds %s" % seeds)
        check(leftovers(out) == [], "left behind: %s" % leftovers(out))


def case_stale():
    if not have_plot_python():
        sys.exit(77)
    env = {"ORCHSIM_PLOT_SCRIPT": plot_script("quick_plots.py", QUICK_PLOTS)}
    out = os.path.join(WORK, "out")
    expect(["run", SMALL, "-q", "--seed", "2023", "--out", "out"], 0, env=env)
    images = sorted(f for f in os.listdir(out) if f.endswith((".png", ".svg")))
    check(len(images) == 10, "expected 10 images, got %s" % images)
    # A rerun with --no-plots: the images of seed 2023 are gone, and the
    # report links no image.
    expect(["run", SMALL, "-q", "--seed", "7", "--no-plots", "--out", "out"], 0, env=env)
    check(seed_of(out) == 7, "summary.json is not seed 7")
    check(not any(f.endswith((".png", ".svg")) for f in os.listdir(out)),
          "stale images: %s" % os.listdir(out))
    with open(os.path.join(out, "report.md")) as f:
        report = f.read()
    check("![" not in report and "Not drawn" in report, "report.md links images that are not there")
    # orchsim plot draws them for this result and links them.
    expect(["plot", "out"], 0, env=env)
    with open(os.path.join(out, "calls.png")) as f:
        check(f.read() == "seed 7", "plot drew for another seed")
    with open(os.path.join(out, "report.md")) as f:
        check("![" in f.read(), "orchsim plot did not link the plots")
    # Another kind of result into a run's folder, and a run into a sweep's:
    # exit 2, nothing touched.
    before = snapshot(out)
    expect(["sweep", SMALL, "-q", "--no-plots", "-p", "retry.max_attempts=1,2", "--out", "out"], 2,
           "holds a run result (written by orchsim run), not a sweep result")
    check(snapshot(out) == before, "the refused sweep changed the run's folder")
    expect(["sweep", SMALL, "-q", "--no-plots", "-p", "retry.max_attempts=1,2", "--out", "sweep"], 0)
    sweep_before = snapshot(os.path.join(WORK, "sweep"))
    expect(["run", SMALL, "-q", "--no-plots", "--out", "sweep"], 2, "holds a sweep result")
    expect(["plot", "sweep"], 2)
    check(snapshot(os.path.join(WORK, "sweep")) == sweep_before, "a refused command changed the sweep")
    expect(["tune", "out"], 2, "no sweep.json")
    # Someone's files are never replaced.
    os.makedirs(os.path.join(WORK, "mine"))
    with open(os.path.join(WORK, "mine", "notes.txt"), "w") as f:
        f.write("mine")
    expect(["run", SMALL, "-q", "--no-plots", "--out", "mine"], 2,
           "not an orchsim result folder (it holds \"notes.txt\")")
    check(os.listdir(os.path.join(WORK, "mine")) == ["notes.txt"], "touched someone's folder")


def case_fifo():
    folder = os.path.join(WORK, "fifo")
    os.makedirs(os.path.join(folder, "schedules"))
    shutil.copy(os.path.join(SCENARIOS, "nfl-2023.json"), folder)
    shutil.copytree(os.path.join(SCENARIOS, "policies"), os.path.join(folder, "policies"))
    os.mkfifo(os.path.join(folder, "schedules", "nfl-2023.csv"))
    for command in ("validate", "run", "check"):
        expect([command, "fifo/nfl-2023.json"], 2,
               "fifo/schedules/nfl-2023.csv: is a named pipe (FIFO), not a regular file")
    os.mkfifo(os.path.join(WORK, "scenario.json"))
    expect(["validate", "scenario.json"], 2, "scenario.json: is a named pipe (FIFO)")
    baselines = os.path.join(WORK, "baselines")
    os.makedirs(baselines)
    os.mkfifo(os.path.join(baselines, "kickoff-surge.json"))
    expect(["check", SMALL, "-q", "--baseline", "baselines"], 2,
           "kickoff-surge.json: is a named pipe (FIFO), not a regular file")


def default_signals():
    # A test runner started in the background of a shell has SIGINT ignored,
    # and orchsim keeps a signal ignored that it inherits as ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def start_interruptible(args, env):
    pid_file = env["PID_FILE"]
    proc = subprocess.Popen([ORCHSIM] + args, cwd=WORK, env=dict(os.environ, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=default_signals)
    wait_for(lambda: os.path.exists(pid_file) or proc.poll() is not None, "the plotting child")
    if proc.poll() is not None:
        fail("orchsim ended before plotting: %s" % (proc.communicate(),))
    with open(pid_file) as f:
        child = int(f.read())
    os.remove(pid_file)
    return proc, child


def communicate(proc):
    try:
        return proc.communicate(timeout=DEADLINE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("orchsim did not end after the signal: %s" % (proc.communicate(),))


def case_interrupt():
    if not have_plot_python():
        sys.exit(77)
    out = os.path.join(WORK, "out")
    expect(["run", SMALL, "-q", "--no-plots", "--seed", "1", "--out", "out"], 0)
    before = snapshot(out)
    env = {"ORCHSIM_PLOT_SCRIPT": plot_script("endless_plots.py", ENDLESS_PLOTS),
           "PID_FILE": os.path.join(WORK, "child.pid")}
    for sig in (signal.SIGINT, signal.SIGTERM):
        proc, child = start_interruptible(["run", SMALL, "-q", "--seed", "2", "--out", "out"], env)
        proc.send_signal(sig)
        _, stderr = communicate(proc)
        check(proc.returncode in (-sig, 128 + sig), "exit %s after %s" % (proc.returncode, sig))
        check("interrupted" in stderr and "keeps what it held before" in stderr, stderr)
        wait_for(lambda: process_gone(child), "the plotting child to stop")
        check(snapshot(out) == before, "the interrupted run changed %s" % out)
        check(leftovers(out) == [], "left behind: %s" % leftovers(out))
    # SIGKILL cannot be handled: the child still dies with orchsim, and the
    # next writer removes what the killed run left.
    proc, child = start_interruptible(["run", SMALL, "-q", "--seed", "3", "--out", "out"], env)
    proc.kill()
    communicate(proc)
    wait_for(lambda: process_gone(child), "the plotting child to die with orchsim")
    check(snapshot(out) == before, "the killed run changed %s" % out)
    check(leftovers(out) != [], "a killed run should have left its temporary folder")
    expect(["run", SMALL, "-q", "--no-plots", "--seed", "4", "--out", "out"], 0)
    check(leftovers(out) == [], "the next run did not remove: %s" % leftovers(out))
    check(seed_of(out) == 4, "the next run's result is not in place")


def case_interrupt_sweep():
    if not have_plot_python():
        sys.exit(77)
    env = {"ORCHSIM_PLOT_SWEEP": plot_script("endless_sweep_plots.py", ENDLESS_PLOTS),
           "PID_FILE": os.path.join(WORK, "child.pid")}
    args = ["sweep", SMALL, "-q", "-p", "retry.max_attempts=1,2,3", "--jobs", "2", "--out", "sweep"]
    proc, child = start_interruptible(args, env)  # every point is stored; the plots are drawing
    proc.send_signal(signal.SIGINT)
    _, stderr = communicate(proc)
    check(proc.returncode in (-signal.SIGINT, 130), "exit %s" % proc.returncode)
    check("interrupted" in stderr, stderr)
    wait_for(lambda: process_gone(child), "the plotting child to stop")
    sweep = os.path.join(WORK, "sweep")
    check(leftovers(sweep) == [], "left behind: %s" % leftovers(sweep))
    points = sorted(os.listdir(os.path.join(sweep, "points")))
    check(points == ["baseline.json", "p000000.json", "p000001.json", "p000002.json"],
          "points after the interrupt: %s" % points)
    # What a killed sweep leaves is removed by the next one.
    with open(os.path.join(sweep, "points", "p000003.json.partial"), "w") as f:
        f.write("{")
    os.makedirs(os.path.join(sweep, ".orchsim-tmp-99999"))
    expect(args + ["--resume", "--no-plots"], 0, "ran 0 points (3 kept from before)")
    check(leftovers(sweep) == [], "left behind: %s" % leftovers(sweep))
    check(os.path.exists(os.path.join(sweep, "report.md")), "no report after --resume")


def case_messages():
    for args in (["run", SMALL, "--seed", "-1"], ["sweep", SMALL, "--seed", "-1"],
                 ["sweep", SMALL, "--sample-seed", "-1"], ["demo", "--seed", "-1"],
                 ["run", SMALL, "--seed", "9223372036854775808"], ["run", SMALL, "--seed", "1x"]):
        expect(args + ["-q"] if args[0] != "demo" else args, 2,
               "expected an integer from 0 to 9223372036854775807")
    expect(["run", SMALL, "-q", "--variant", "coalesce", "--variant", "coalesce", "--out", "v"], 2,
           "--variant coalesce given twice")
    check(not os.path.exists(os.path.join(WORK, "v")), "a refused run created its folder")
    for args in (["run", SMALL], ["sweep", SMALL, "-p", "retry.max_attempts=1,2"],
                 ["merge", "a"], ["fidelity"]):
        expect(args + ["--out", ""], 2, "--out: expected a path, got an empty string")
    for option in ("--junit", "--markdown", "--baseline"):
        expect(["check", SMALL, "-q", option, ""], 2, option + ": expected a path")
    # Write errors: exit 3 with the operating system's reason.
    with open(os.path.join(WORK, "a-file"), "w") as f:
        f.write("not a folder")
    expect(["run", SMALL, "-q", "--no-plots", "--out", "a-file/out"], 3,
           "a-file: Not a directory")
    expect(["sweep", SMALL, "-q", "--no-plots", "-p", "retry.max_attempts=1,2", "--out",
            "a-file/sweep"], 3, "Not a directory")
    baselines = os.path.join(SOURCE, "results", "baselines")
    expect(["check", SMALL, "-q", "--baseline", baselines, "--junit", "a-file/junit.xml"], 3,
           "Not a directory")
    # A damaged sweep.json is damaged, not "a different sweep".
    expect(["sweep", SMALL, "-q", "--no-plots", "-p", "retry.max_attempts=1,2", "--out", "sw"], 0)
    with open(os.path.join(WORK, "sw", "sweep.json"), "w") as f:
        f.write('{"format": "orchsim-sweep-1", "poi')
    for args in (["sweep", SMALL, "-q", "--no-plots", "-p", "retry.max_attempts=1,2", "--resume",
                  "--out", "sw"], ["merge", "sw", "--out", "merged", "--no-plots"],
                 ["tune", "sw", "--no-plots"]):
        r = expect(args, 2, "sweep.json is damaged (not valid JSON)")
        check("different sweep" not in r.stderr, r.stderr)
    # Exit statuses are documented in every command's help.
    r = expect(["--help"], 0, "exit status (every command)")


def case_limits():
    cases = {
        "burst-2147483647.json": "requests per variant run (demand \"burst\"",
        "live-polling-1us.json": "requests per variant run (demand \"live\"",
        "data-live-1e12.json": "simulation events per variant run (mostly data changes of upstream",
        "start-year-1.json": "/start: expected an instant at most 100 years before the end",
        "end-year-9999.json": "/end: expected an instant at most 100 years after the start",
    }
    for name, fragment in sorted(cases.items()):
        r = expect(["run", os.path.join(DATA, name), "-q", "--out", "x"], 2, fragment)
        check("bad_alloc" not in r.stderr, r.stderr)
        check(not os.path.exists(os.path.join(WORK, "x")), "a refused run created its folder")
    expect(["sweep", SMALL, "-q", "-p", "retry.max_attempts=1,2", "--seeds", "1000000000"], 2,
           "--seeds 1000000000: expected 1 to 10000 replications per point")
    expect(["sweep", SMALL, "-q", "-p", "retry.max_attempts=1..1000", "--seeds", "1000"], 2,
           "1,000,000 runs (points x seeds), beyond the limit of 100,000",
           "--limit runs=2000000")
    # --limit sets a limit (the last one given wins).
    expect(["run", SMALL, "-q", "--no-plots", "--out", "y", "--limit", "requests=1000"], 2,
           "beyond the limit of 1,000 (README \"Limits\"); to run it anyway: --limit requests=")
    expect(["run", SMALL, "-q", "--no-plots", "--out", "y", "--limit", "requests=1000", "--limit",
            "requests=1e6"], 0)
    expect(["run", SMALL, "--limit", "memory=1"], 2, "expected NAME=VALUE")
    # Beyond what the machine gives: a message and exit 4, never a raw
    # std::bad_alloc (1 GiB of address space for 3 million simultaneous
    # requests that need several).
    def small_memory():
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
    r = run(["run", os.path.join(DATA, "burst-3000000.json"), "-q", "--no-plots", "--out", "z",
             "--limit", "burst=1e7"], preexec_fn=small_memory)
    check(r.returncode == 4, "exit %d, expected 4\n%s" % (r.returncode, r.stderr))
    check("out of memory" in r.stderr and "bad_alloc" not in r.stderr, r.stderr)
    check(not os.path.exists(os.path.join(WORK, "z")) and leftovers(os.path.join(WORK, "z")) == [],
          "the failed run left files")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    cases = {name[5:]: fn for name, fn in globals().items() if name.startswith("case_")}
    if CASE not in cases:
        fail("unknown case %s; cases: %s" % (CASE, ", ".join(sorted(cases))))
    cases[CASE]()
    print("reliability %s: ok" % CASE)


if __name__ == "__main__":
    main()
