#!/usr/bin/env python3
"""plot_sweep.py — plots for an `orchsim sweep` folder.

Usage: plot_sweep.py SWEEP_DIR

Reads SWEEP_DIR/results.csv and SWEEP_DIR/summary.json and writes PNG files to
SWEEP_DIR/plots/:
  metric_vs_<param>.png  each reported metric (objective, constraints) against
                         each parameter: the replication mean with its 95% CI
                         band; with several parameters, one line per value of
                         the second parameter (grid) or points with error bars
  heatmap.png            the objective over the first two parameters
  pareto.png             the two Pareto metrics of every point, the feasible
                         ones, the front, and the recommendation marked
Needs matplotlib; exits with status 3 and a message when it is missing.
"""
import csv
import json
import math
import os
import sys
from collections import defaultdict


def numeric(text):
    """A number for a parameter value: numbers, durations in seconds, else None."""
    try:
        return float(text)
    except ValueError:
        pass
    if text in ("true", "false"):
        return 1.0 if text == "true" else 0.0
    units = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
    total, number, i = 0.0, "", 0
    while i < len(text):
        c = text[i]
        if c.isdigit() or c == "-":
            number += c
            i += 1
            continue
        unit = text[i:i + 2] if text[i:i + 2] in ("us", "ms") else c
        if unit not in units or not number:
            return None
        total += float(number) * units[unit]
        number = ""
        i += len(unit)
    return total if not number else None


def safe(name):
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    folder = sys.argv[1]
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("plot_sweep.py: matplotlib is not installed; no plots", file=sys.stderr)
        return 3
    with open(os.path.join(folder, "summary.json")) as f:
        summary = json.load(f)
    params = [p.split("=", 1)[0].strip() for p in summary["params"]]
    # point -> {"values": [...], metric: (mean, low, high)}
    points = {}
    with open(os.path.join(folder, "results.csv")) as f:
        for row in csv.DictReader(f):
            p = points.setdefault(int(row["point"]), {"values": [row[k] for k in params]})
            p[row["metric"]] = (float(row["mean"]), float(row["ci95_low"]), float(row["ci95_high"]))
    order = sorted(points)
    feasible = set(summary["feasible_points"])
    recommended = summary["recommended"]["point"] if summary["recommended"] else None
    objective = summary["objective"].split(":", 1)[1]
    constraints = [c.replace("<=", "\u2264").replace(">=", "\u2265") for c in summary["constraints"]]
    metrics = []
    # "ci95:METRIC<=B" (judged on the whole 95% interval) names METRIC too.
    bare = [c[5:] if c.startswith("ci95:") else c for c in summary["constraints"]]
    for m in [objective] + [c.replace("<=", ">=").split(">=")[0].strip() for c in bare]:
        if m not in metrics:
            metrics.append(m)
    os.makedirs(os.path.join(folder, "plots"), exist_ok=True)
    title = "%s / %s" % (summary["scenario"], summary["variant"])

    def axis_values(j):
        raw = [points[i]["values"][j] for i in order]
        nums = [numeric(v) for v in raw]
        if all(n is not None for n in nums):
            return nums, None
        labels = sorted(set(raw), key=raw.index)
        return [float(labels.index(v)) for v in raw], labels

    # Metric against each parameter.
    for j, param in enumerate(params):
        xs, labels = axis_values(j)
        fig, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.6), squeeze=False)
        for ax, metric in zip(axes[0], metrics):
            groups = defaultdict(list)
            if len(params) >= 2:
                other = 1 if j == 0 else 0
                for k, i in enumerate(order):
                    groups[points[i]["values"][other]].append((xs[k], points[i][metric]))
            else:
                groups[""] = [(xs[k], points[i][metric]) for k, i in enumerate(order)]
            # Grid: points sharing x (other parameters differ) are averaged, so
            # each line is the mean over the remaining parameters.
            grid_like = summary["sample"] == "grid"
            if grid_like:
                for key in list(groups):
                    by_x = defaultdict(list)
                    for x, stats in groups[key]:
                        by_x[x].append(stats)
                    groups[key] = [(x, tuple(sum(s[n] for s in v) / len(v) for n in range(3)))
                                   for x, v in by_x.items()]
            for key, g in sorted(groups.items(), key=lambda kv: (numeric(kv[0]) or 0, kv[0])):
                g.sort(key=lambda t: t[0])
                x = [t[0] for t in g]
                mean = [t[1][0] for t in g]
                low = [t[1][1] for t in g]
                high = [t[1][2] for t in g]
                label = "%s=%s" % (params[1 if j == 0 else 0], key) if key != "" else None
                if grid_like and len(groups) <= 8:
                    line, = ax.plot(x, mean, marker="o", label=label)
                    ax.fill_between(x, low, high, alpha=0.2, color=line.get_color())
                else:
                    ax.errorbar(x, mean, yerr=[[m - l for m, l in zip(mean, low)],
                                               [h - m for m, h in zip(mean, high)]],
                                fmt="o", ms=3, alpha=0.6)
            ax.set_xlabel(param)
            ax.set_ylabel(metric)
            if labels:
                ax.set_xticks(range(len(labels)))
                ax.set_xticklabels(labels)
            if len(groups) > 1 and len(groups) <= 8 and grid_like:
                ax.legend(fontsize=7)
        how = " (grid: averaged over the other parameters)" if len(params) > 2 and summary["sample"] == "grid" else ""
        fig.suptitle("%s: metrics vs %s (mean, 95%% CI)%s" % (title, param, how), fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "plots", "metric_vs_%s.png" % safe(param)), dpi=100)
        plt.close(fig)

    # Heatmap of the objective over the first two parameters.
    if len(params) >= 2:
        x0, l0 = axis_values(0)
        x1, l1 = axis_values(1)
        cells = defaultdict(list)
        for k, i in enumerate(order):
            cells[(x0[k], x1[k])].append(points[i][objective][0])
        u0, u1 = sorted(set(x0)), sorted(set(x1))
        fig, ax = plt.subplots(figsize=(6, 4.5))
        if len(u0) * len(u1) <= 400 and len(cells) == len(u0) * len(u1):
            grid = [[sum(cells[(a, b)]) / len(cells[(a, b)]) for a in u0] for b in u1]
            image = ax.imshow(grid, origin="lower", aspect="auto", cmap="viridis")
            ax.set_xticks(range(len(u0)))
            ax.set_xticklabels(l0 if l0 else ["%g" % v for v in u0])
            ax.set_yticks(range(len(u1)))
            ax.set_yticklabels(l1 if l1 else ["%g" % v for v in u1])
        else:
            image = ax.scatter(x0, x1, c=[points[i][objective][0] for i in order], cmap="viridis")
        fig.colorbar(image, ax=ax, label=objective + (" (mean over other parameters)" if len(params) > 2 else ""))
        ax.set_xlabel(params[0])
        ax.set_ylabel(params[1])
        ax.set_title("%s: %s" % (title, summary["objective"]), fontsize=10)
        fig.tight_layout()
        fig.savefig(os.path.join(folder, "plots", "heatmap.png"), dpi=100)
        plt.close(fig)

    # Pareto front.
    mx, my = [m.split(":", 1)[1] for m in summary["pareto_metrics"]]
    fig, ax = plt.subplots(figsize=(6, 4.5))
    ax.scatter([points[i][mx][0] for i in order], [points[i][my][0] for i in order],
               s=14, color="lightgray", label="all points")
    ok = [i for i in order if i in feasible]
    if ok:
        ax.scatter([points[i][mx][0] for i in ok], [points[i][my][0] for i in ok],
                   s=16, color="tab:blue",
                   label=("feasible: " + ", ".join(constraints) if len(constraints) <= 2
                          else "feasible (meets all %d constraints)" % len(constraints)))
    front = summary["pareto_front"]
    ax.plot([points[i][mx][0] for i in front], [points[i][my][0] for i in front],
            "-o", color="tab:red", ms=4, label="Pareto front")
    if recommended is not None:
        ax.scatter([points[recommended][mx][0]], [points[recommended][my][0]], marker="*", s=220,
                   color="gold", edgecolor="black", zorder=5, label="recommended (point %d)" % recommended)
    ax.set_xlabel(summary["pareto_metrics"][0])
    ax.set_ylabel(summary["pareto_metrics"][1])
    ax.set_title("%s: Pareto front" % title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(folder, "plots", "pareto.png"), dpi=100)
    plt.close(fig)
    return 0


if __name__ == "__main__":
    sys.exit(main())
