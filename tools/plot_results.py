#!/usr/bin/env python3
"""plot_results.py — draws the comparison plots of an orchsim result folder.

Usage: plot_results.py DIR

Reads DIR/summary.json, quota.csv, breaker_transitions.csv and staleness.csv
(written by `orchsim run --out DIR`) and writes, as PNG and SVG:
  calls      upstream calls per variant, stacked with the calls saved by each
             mechanism (so a bar's height is what one call per request costs)
  wait       queue wait p50/p90/p99/max per priority class per variant
  quota      quota credits remaining through the season, exhaustion marked
  breakers   circuit-breaker state timeline per upstream and variant
  staleness  age of served data (CDF) and versions behind per variant

Colours: Okabe-Ito (colour-blind safe); a variant keeps its colour (its
position in summary.json) in every plot. Output is deterministic: SVG ids use
a fixed hash salt and no date is embedded. Each file is written under a
temporary name and renamed into place. Needs matplotlib (Debian:
python3-matplotlib); exits 1 with a message when it is missing.
"""

import csv
import json
import os
import sys
from datetime import datetime, timezone

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch
except ImportError:  # pragma: no cover - depends on the machine
    sys.stderr.write("plot_results.py: matplotlib is not installed (Debian: apt install python3-matplotlib)\n")
    sys.exit(1)

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
# Mechanisms: greys with hatches, so they never compete with variant colours.
MECHANISMS = [
    ("cache_hits", "cache hits", "#4D4D4D", ""),
    ("coalescing", "coalescing", "#7F7F7F", "//"),
    ("batching", "batching", "#A6A6A6", ".."),
    ("breaker_fast_fail", "breaker fast-fail", "#C8C8C8", "xx"),
    ("quota_pacing", "quota pacing", "#E6E6E6", "\\\\"),
]
PRIORITIES = ["CRITICAL", "HIGH", "NORMAL", "LOW", "PREFETCH"]

plt.rcParams.update(
    {
        "svg.hashsalt": "orchsim",
        "svg.fonttype": "path",
        "font.size": 11,
        "axes.titlesize": 13,
        "axes.labelsize": 11,
        "legend.fontsize": 10,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "figure.dpi": 110,
    }
)


def parse_time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def save(fig, out_dir, name):
    for ext, meta in (("png", {"Software": None}), ("svg", {"Date": None})):
        final = os.path.join(out_dir, f"{name}.{ext}")
        partial = final + ".partial"
        fig.savefig(partial, format=ext, metadata=meta, bbox_inches="tight")
        os.replace(partial, final)
    plt.close(fig)


def colours(variants):
    return {v: OKABE_ITO[i % len(OKABE_ITO)] for i, v in enumerate(variants)}


def plot_calls(summary, variants, colour, out_dir):
    fig, ax = plt.subplots(figsize=(10, 5.5))
    runs = summary["variants"]
    xs = range(len(runs))
    calls = [r["upstream_calls"] for r in runs]
    ax.bar(xs, calls, color=[colour[v] for v in variants], edgecolor="black", linewidth=0.6)
    bottom = list(calls)
    handles = [Patch(facecolor="white", edgecolor="black", label="upstream calls (variant colour)")]
    for key, label, fill, hatch in MECHANISMS:
        heights = []
        for r in runs:
            saved = r.get("calls_saved") or {}
            heights.append(max(0, (saved.get("by_mechanism") or {}).get(key, 0)))
        if not any(heights):
            continue
        ax.bar(xs, heights, bottom=bottom, color=fill, hatch=hatch, edgecolor="black", linewidth=0.6)
        handles.append(Patch(facecolor=fill, hatch=hatch, edgecolor="black", label=f"saved: {label}"))
        bottom = [b + h for b, h in zip(bottom, heights)]
    for x, r in zip(xs, runs):
        saved = r.get("calls_saved")
        if saved and saved["total"] != 0:
            ax.annotate(
                f"{saved['total']:,} saved ({saved['percent']:.1f}%)",
                (x, bottom[x]),
                xytext=(0, 4),
                textcoords="offset points",
                ha="center",
                fontsize=10,
            )
    baseline = summary.get("baseline")
    for r in runs:
        if r["name"] == baseline:
            ax.axhline(r["upstream_calls"], color="black", linestyle="--", linewidth=1)
            handles.append(plt.Line2D([], [], color="black", linestyle="--", label=f"{baseline} calls"))
    ax.set_xticks(list(xs), variants)
    ax.set_ylabel("upstream calls (count)")
    ax.set_xlabel("variant")
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_title(f"Upstream calls and calls saved by mechanism — {summary['scenario']}")
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    ax.margins(y=0.12)
    save(fig, out_dir, "calls")


def plot_wait(summary, variants, colour, out_dir):
    runs = summary["variants"]
    classes = [p for p in PRIORITIES if any(r["wait"][p]["count"] > 0 for r in runs)] or PRIORITIES
    stats = [("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"), ("max_ms", "max")]
    fig, axes = plt.subplots(1, len(stats), figsize=(13, 4.8), sharey=True)
    width = 0.8 / max(1, len(runs))
    for ax, (key, label) in zip(axes, stats):
        for i, r in enumerate(runs):
            xs = [c + (i - (len(runs) - 1) / 2) * width for c in range(len(classes))]
            values = [r["wait"][p][key] / 1000.0 if r["wait"][p]["count"] else 0.0 for p in classes]
            ax.bar(xs, values, width=width, color=colour[r["name"]], edgecolor="black", linewidth=0.4,
                   label=r["name"])
        ax.set_xticks(range(len(classes)), classes, rotation=30)
        ax.set_title(f"{label}")
        ax.set_yscale("symlog", linthresh=0.1)
        ax.set_xlabel("priority class")
    axes[0].set_ylabel("queue wait (s, symlog)")
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, title="variant")
    fig.suptitle(f"Queue wait per priority class — {summary['scenario']}")
    save(fig, out_dir, "wait")


def plot_quota(summary, variants, colour, rows, out_dir):
    apis = sorted({r["api"] for r in rows})
    if not apis:
        fig, ax = plt.subplots(figsize=(10, 3))
        ax.text(0.5, 0.5, "no upstream with a quota in this scenario", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title("Quota credits remaining")
        save(fig, out_dir, "quota")
        return
    fig, axes = plt.subplots(len(apis), 1, figsize=(11, 4.5 * len(apis)), squeeze=False)
    for ax, api in zip(axes[:, 0], apis):
        for variant in variants:
            series = [r for r in rows if r["api"] == api and r["variant"] == variant]
            if not series:
                continue
            times = [parse_time(r["hour_start"]) for r in series]
            remaining = [float(r["credits_remaining"]) for r in series]
            ax.step(times, remaining, where="post", color=colour[variant], linewidth=1.6, label=variant)
            # Mark the first hour of each exhausted stretch.
            marks = [
                (t, v)
                for k, (t, v, r) in enumerate(zip(times, remaining, series))
                if r["exhausted"] == "1" and (k == 0 or series[k - 1]["exhausted"] != "1")
            ]
            if marks:
                ax.scatter([m[0] for m in marks], [m[1] for m in marks], marker="v", s=60,
                           color=colour[variant], edgecolor="black", zorder=3, clip_on=False)
        ax.scatter([], [], marker="v", s=60, color="white", edgecolor="black", label="exhausted")
        limit = float([r for r in rows if r["api"] == api][0]["limit"])
        ax.axhline(limit, color="grey", linestyle=":", linewidth=1)
        ax.set_ylim(bottom=-0.03 * limit, top=1.05 * limit)
        ax.set_ylabel("credits remaining in period")
        ax.set_xlabel("date (UTC)")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        period = summary["upstreams"].get(api, {}).get("quota", {}).get("period", "period")
        ax.set_title(f"Quota credits remaining — {api} (limit {limit:,.0f} per {period.replace('_', ' ')})")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="variant")
    save(fig, out_dir, "quota")


def plot_breakers(summary, variants, colour, rows, out_dir):
    start = parse_time(summary["start"])
    end = parse_time(summary["end"])
    breakers = sorted({r["breaker"] for r in rows})
    lanes = [(b, v) for b in breakers for v in variants]
    fig, ax = plt.subplots(figsize=(11, max(3.0, 0.45 * len(lanes) + 1.8)))
    state_colour = {"open": "#D55E00", "half_open": "#F0E442"}
    for lane, (breaker, variant) in enumerate(lanes):
        events = [r for r in rows if r["breaker"] == breaker and r["variant"] == variant]
        spans = {"open": [], "half_open": []}
        for k, e in enumerate(events):
            if e["to"] not in spans:
                continue
            t0 = parse_time(e["at"])
            t1 = parse_time(events[k + 1]["at"]) if k + 1 < len(events) else end
            spans[e["to"]].append((mdates.date2num(t0), max(mdates.date2num(t1) - mdates.date2num(t0), 1e-4)))
        ax.broken_barh([(mdates.date2num(start), mdates.date2num(end) - mdates.date2num(start))],
                       (lane - 0.4, 0.8), facecolors="#F2F2F2")
        for state, segs in spans.items():
            if segs:
                ax.broken_barh(segs, (lane - 0.4, 0.8), facecolors=state_colour[state],
                               edgecolor=state_colour[state], linewidth=0.8)
    ax.set_yticks(range(len(lanes)), [f"{b} · {v}" for b, v in lanes])
    for tick, (_, v) in zip(ax.get_yticklabels(), lanes):
        tick.set_color(colour[v])
    ax.set_ylim(-0.6, max(0.6, len(lanes) - 0.4))
    ax.invert_yaxis()
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    ax.set_xlabel("date (UTC)")
    ax.set_ylabel("breaker · variant")
    if not lanes:
        ax.text(0.5, 0.5, "no breaker left CLOSED in any variant", transform=ax.transAxes,
                ha="center", va="center")
    ax.legend(
        handles=[
            Patch(facecolor="#F2F2F2", label="closed"),
            Patch(facecolor=state_colour["open"], label="open"),
            Patch(facecolor=state_colour["half_open"], label="half-open"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        title="state",
    )
    ax.set_title(f"Circuit-breaker states per upstream and variant — {summary['scenario']}")
    save(fig, out_dir, "breakers")


def plot_staleness(summary, variants, colour, rows, out_dir):
    fig, (ax_age, ax_ver) = plt.subplots(1, 2, figsize=(13, 4.8))
    for variant in variants:
        ages = [r for r in rows if r["variant"] == variant and r["metric"] == "age_s"]
        total = sum(int(r["count"]) for r in ages)
        if total:
            xs, ys, seen = [0.0], [0.0], 0
            for r in ages:
                seen += int(r["count"])
                xs.append(float(r["high"]))
                ys.append(seen / total)
            ax_age.step(xs, ys, where="post", color=colour[variant], linewidth=1.8, label=variant)
    ax_age.set_xscale("symlog", linthresh=1.0)
    ax_age.set_xlabel("age of served data (s, symlog)")
    ax_age.set_ylabel("fraction of answers with data (CDF)")
    ax_age.set_ylim(0, 1.02)
    ax_age.set_title("Age at delivery")
    width = 0.8 / max(1, len(variants))
    buckets = sorted({(int(r["low"]), int(r["high"])) for r in rows if r["metric"] == "versions_behind"})
    for i, variant in enumerate(variants):
        counts = {(int(r["low"]), int(r["high"])): int(r["count"]) for r in rows
                  if r["variant"] == variant and r["metric"] == "versions_behind"}
        total = sum(counts.values()) or 1
        xs = [k + (i - (len(variants) - 1) / 2) * width for k in range(len(buckets))]
        ax_ver.bar(xs, [counts.get(b, 0) / total for b in buckets], width=width, color=colour[variant],
                   edgecolor="black", linewidth=0.4, label=variant)
    ax_ver.set_xticks(range(len(buckets)),
                      [str(lo) if hi - lo == 1 else f"{lo}–{hi - 1}" for lo, hi in buckets],
                      rotation=45, ha="right", fontsize=9)
    ax_ver.set_yscale("log")
    ax_ver.set_xlabel("versions behind the upstream at delivery")
    ax_ver.set_ylabel("fraction of answers with data (log)")
    ax_ver.set_title("Versions behind at delivery")
    ax_ver.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, title="variant")
    fig.suptitle(f"Staleness of served data — {summary['scenario']}")
    save(fig, out_dir, "staleness")


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: plot_results.py DIR\n")
        return 2
    out_dir = argv[1]
    summary_path = os.path.join(out_dir, "summary.json")
    if not os.path.exists(summary_path):
        sys.stderr.write(f"plot_results.py: {summary_path} not found (write it with orchsim run --out)\n")
        return 1
    with open(summary_path, encoding="utf-8") as f:
        summary = json.load(f)
    variants = [r["name"] for r in summary["variants"]]
    colour = colours(variants)
    plot_calls(summary, variants, colour, out_dir)
    plot_wait(summary, variants, colour, out_dir)
    plot_quota(summary, variants, colour, read_csv(os.path.join(out_dir, "quota.csv")), out_dir)
    plot_breakers(summary, variants, colour, read_csv(os.path.join(out_dir, "breaker_transitions.csv")), out_dir)
    plot_staleness(summary, variants, colour, read_csv(os.path.join(out_dir, "staleness.csv")), out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
