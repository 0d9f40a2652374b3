#!/usr/bin/env python3
"""Plots of the fidelity report: simulated against expected, with 95% CI bars.

Usage: plot_fidelity.py DIR

Reads DIR/checks.csv, DIR/backoff.csv and DIR/quota_daily.csv (written by
`orchsim fidelity`) and writes PNG and SVG plots next to them. Needs
matplotlib; exits 0 with a warning when it is missing.
"""
import csv
import os
import sys


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def save(fig, out_dir, name):
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out_dir, f"{name}.{ext}"), dpi=110)


def plot_ci_section(plt, rows, section, out_dir, name, title):
    rows = [r for r in rows if r["section"] == section and "CI" in r["tolerance"]]
    if not rows:
        return
    labels = [f'{r["check"].split("/", 1)[-1]}\n{r["quantity"]}' for r in rows]
    sim = [float(r["simulated"]) for r in rows]
    exp = [float(r["expected"]) for r in rows]
    err = [(float(r["high"]) - float(r["low"])) / 2 for r in rows]
    # Relative to the expected value so very different scales share one axis.
    rel = [s / e if e else 0 for s, e in zip(sim, exp)]
    rel_err = [h / e if e else 0 for h, e in zip(err, exp)]
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(rows)), 4.5))
    xs = range(len(rows))
    ax.errorbar(xs, rel, yerr=rel_err, fmt="o", capsize=4, label="simulated (95% CI)")
    ax.axhline(1.0, color="black", lw=1, ls="--", label="expected (theory)")
    for x, r in zip(xs, rows):
        if r["pass"] != "1":
            ax.annotate("FAIL", (x, rel[x]), color="red")
    ax.set_xticks(list(xs))
    ax.set_xticklabels(labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("simulated / expected")
    ax.set_title(title)
    ax.legend()
    save(fig, out_dir, name)
    plt.close(fig)


def plot_bucket(plt, rows, out_dir):
    rows = [r for r in rows if r["section"] == "3" and r["quantity"].startswith("max window")]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(rows)), 4))
    xs = range(len(rows))
    ax.bar([x - 0.2 for x in xs], [float(r["simulated"]) for r in rows], 0.4,
           label="max over windows of admitted - rate x T")
    ax.bar([x + 0.2 for x in xs], [float(r["expected"]) for r in rows], 0.4, label="burst (bound)")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([r["check"].split("/", 1)[-1] for r in rows], rotation=45, ha="right")
    ax.set_ylabel("tokens")
    ax.set_title("Token bucket window bound, whole seasons")
    ax.legend(fontsize=8)
    save(fig, out_dir, "bucket")
    plt.close(fig)


def plot_backoff(plt, rows, out_dir):
    if not rows:
        return
    algorithms = []
    for r in rows:
        if r["algorithm"] not in algorithms:
            algorithms.append(r["algorithm"])
    for metric, name, ylabel in (("writes", "backoff_writes", "writes (calls)"),
                                 ("completion_ms", "backoff_time", "completion time (ms)")):
        fig, ax = plt.subplots(figsize=(6.5, 4.5))
        for a in algorithms:
            pts = [r for r in rows if r["algorithm"] == a]
            ax.errorbar([int(r["clients"]) for r in pts], [float(r[f"{metric}_mean"]) for r in pts],
                        yerr=[float(r[f"{metric}_half_width"]) for r in pts], marker="o",
                        capsize=3, label=a)
        ax.set_xlabel("clients")
        ax.set_ylabel(ylabel)
        ax.set_title(f"Brooker OCC contention: {ylabel} (mean, 95% CI)")
        if metric == "completion_ms":
            ax.set_yscale("log")
        ax.legend()
        save(fig, out_dir, name)
        plt.close(fig)


def plot_quota(plt, rows, out_dir):
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    months = []
    for r in rows:
        if r["month"] not in months:
            months.append(r["month"])
    for m in months:
        pts = [r for r in rows if r["month"] == m]
        ax.plot([int(r["day"]) for r in pts], [float(r["credits"]) for r in pts], marker="o",
                label=f"{m} simulated")
        even = float(pts[0]["even"])
        days = [int(r["day"]) for r in pts]
        ax.fill_between(days, [0.9 * even] * len(days), [1.1 * even] * len(days), alpha=0.15,
                        label=f"{m} even +/-10%")
    ax.set_xlabel("day of month")
    ax.set_ylabel("credits spent")
    ax.set_ylim(bottom=0)
    ax.set_title("Quota pace mode: daily spend")
    ax.legend(fontsize=8)
    save(fig, out_dir, "quota_daily")
    plt.close(fig)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out_dir = sys.argv[1]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_fidelity.py: warning: matplotlib is not installed; no plots", file=sys.stderr)
        return 0
    checks = read_csv(os.path.join(out_dir, "checks.csv"))
    plot_ci_section(plt, checks, "1", out_dir, "cobham",
                    "Cobham priority M/M/1: mean wait per class")
    plot_ci_section(plt, checks, "2", out_dir, "erlang_c", "Erlang C M/M/2")
    plot_bucket(plt, checks, out_dir)
    plot_backoff(plt, read_csv(os.path.join(out_dir, "backoff.csv")), out_dir)
    plot_ci_section(plt, checks, "5", out_dir, "health_chain",
                    "Markov-modulated upstream: time in each state")
    plot_quota(plt, read_csv(os.path.join(out_dir, "quota_daily.csv")), out_dir)
    plot_ci_section(plt, checks, "7", out_dir, "mmck",
                    "M/M/c/K upstream capacity: blocking probability and mean wait")
    plot_ci_section(plt, checks, "8", out_dir, "attempts",
                    "Retries under independent failures: attempts per request")
    return 0


if __name__ == "__main__":
    sys.exit(main())
