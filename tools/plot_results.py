#!/usr/bin/env python3
"""plot_results.py — draws the comparison plots of an orchsim result folder.

Usage: plot_results.py DIR [--from INSTANT] [--to INSTANT]

Reads DIR/summary.json, quota.csv, breaker_transitions.csv and staleness.csv
(written by `orchsim run --out DIR`) and writes, as PNG and SVG:
  calls      one panel for all APIs and one per API: per variant, its upstream
             calls, stacked with the requests served without a call of their
             own (cache, stale, coalescing, batching: the savings) and, apart,
             the requests that failed without a call (not savings)
  wait       queue wait p50/p90/p99/max per priority class per variant
  latency    end-to-end latency p50/p99 per priority class and per API
  quota      quota credits remaining, following the quota's period; for
             periods shorter than a day over more than two weeks, the lowest
             remaining per day; exhaustion and refusals marked
  breakers   circuit-breaker state timeline per upstream and variant, short
             opens drawn at a minimum visible width, trips and open time per
             lane
  staleness  age of served data as a share of all requests (failed requests
             never count as answered) and versions behind per variant
  overview   one slide: calls saved against the baseline, breaker trips and
             queue wait p99 per priority class per variant, titled with the
             verdict under the scenario's service-level objectives (if any)
--from/--to (ISO 8601 instants) limit the time axes of quota and breakers
to a window.

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
# Served without a call (savings): greys with hatches, so they never compete
# with variant colours. Failed without a call (not a saving): white with a
# dark red cross-hatch, next to them.
MECHANISMS = [
    ("cache_hits", "cache hits", "#4D4D4D", ""),
    ("stale_answers", "stale answers", "#6E6E6E", "\\\\"),
    ("coalescing", "coalescing", "#8F8F8F", "//"),
    ("batching", "batching", "#B8B8B8", ".."),
]
FAILED_FILL, FAILED_EDGE, FAILED_HATCH = "white", "#8B0000", "xxx"
# Minimum drawn width of a breaker's open span, as a share of the time axis.
MIN_SPAN_SHARE = 0.003
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


def call_stack(balance, calls):
    """The bar of one variant (in total or for one API): [(key, height)] from
    the bottom, upstream calls first, then the requests served without a call
    by mechanism, then those that failed without a call."""
    served = (balance or {}).get("served_without_call") or {}
    failed = (balance or {}).get("failed_without_call") or {}
    stack = [("calls", calls)]
    stack += [(key, max(0, served.get(key, 0))) for key, _, _, _ in MECHANISMS]
    stack.append(("failed_without_call", max(0, failed.get("total", 0))))
    return stack


def plot_calls(summary, variants, colour, out_dir):
    runs = summary["variants"]
    apis = sorted({api for r in runs for api in r.get("apis", {})})
    panels = [("all APIs", [(r["upstream_calls"], r.get("call_balance")) for r in runs])]
    for api in apis:
        panels.append((api, [((r["apis"].get(api) or {}).get("calls", 0),
                              (r["apis"].get(api) or {}).get("call_balance")) for r in runs]))
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels) + 2.5, 5.5), squeeze=False)
    xs = list(range(len(runs)))
    handles = [Patch(facecolor="white", edgecolor="black", label="upstream calls (variant colour)")]
    labelled = set()
    baseline = summary.get("baseline")
    for ax, (title, bars) in zip(axes[0], panels):
        stacks = [call_stack(balance, calls) for calls, balance in bars]
        bottom = [0] * len(runs)
        for level, (key, _) in enumerate(stacks[0] if stacks else []):
            heights = [stack[level][1] for stack in stacks]
            if key == "calls":
                ax.bar(xs, heights, color=[colour[v] for v in variants], edgecolor="black", linewidth=0.6)
            elif key == "failed_without_call":
                if any(heights):
                    ax.bar(xs, heights, bottom=bottom, color=FAILED_FILL, hatch=FAILED_HATCH,
                           edgecolor=FAILED_EDGE, linewidth=0.6)
                    if key not in labelled:
                        handles.append(Patch(facecolor=FAILED_FILL, hatch=FAILED_HATCH, edgecolor=FAILED_EDGE,
                                             label="failed without a call (not a saving)"))
                        labelled.add(key)
            else:
                fill, hatch, label = next((f, h, lab) for k, lab, f, h in MECHANISMS if k == key)
                if any(heights):
                    ax.bar(xs, heights, bottom=bottom, color=fill, hatch=hatch, edgecolor="black", linewidth=0.6)
                    if key not in labelled:
                        handles.append(Patch(facecolor=fill, hatch=hatch, edgecolor="black",
                                             label=f"served without a call: {label}"))
                        labelled.add(key)
            bottom = [b + h for b, h in zip(bottom, heights)]
        for r, (calls, _) in zip(runs, bars):
            if r["name"] == baseline:
                ax.axhline(calls, color="black", linestyle="--", linewidth=1)
                if "baseline" not in labelled:
                    handles.append(plt.Line2D([], [], color="black", linestyle="--", label=f"{baseline} calls"))
                    labelled.add("baseline")
        if title == "all APIs":
            for x, r in zip(xs, runs):
                saved = r.get("calls_saved")
                if saved and saved["total"] != 0:
                    ax.annotate(f"{saved['total']:,} saved\n({saved['percent']:.1f}%)", (x, bottom[x]),
                                xytext=(0, 4), textcoords="offset points", ha="center", fontsize=9)
        ax.set_xticks(xs, variants, rotation=20)
        ax.set_title(title)
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax.margins(y=0.15)
    axes[0][0].set_ylabel("calls / requests (count)")
    fig.suptitle(f"Upstream calls, requests served without a call, failures without a call — {summary['scenario']}")
    axes[0][-1].legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
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


def plot_latency(summary, variants, colour, out_dir):
    runs = summary["variants"]
    classes = [p for p in PRIORITIES if any(r["latency"][p]["count"] > 0 for r in runs)] or PRIORITIES
    apis = sorted({api for r in runs for api in r.get("apis", {})})
    fig, axes = plt.subplots(2, 2, figsize=(13, 8.5), sharey=True)
    width = 0.8 / max(1, len(runs))
    rows = [("priority class", classes, lambda r, k: r["latency"][k]),
            ("API", apis, lambda r, k: (r["apis"].get(k) or {}).get("latency") or {"count": 0})]
    for row, (label, keys, get) in zip(axes, rows):
        for ax, (stat, name) in zip(row, [("p50_ms", "p50"), ("p99_ms", "p99")]):
            for i, r in enumerate(runs):
                xs = [c + (i - (len(runs) - 1) / 2) * width for c in range(len(keys))]
                values = [get(r, k).get(stat, 0) / 1000.0 if get(r, k).get("count") else 0.0 for k in keys]
                ax.bar(xs, values, width=width, color=colour[r["name"]], edgecolor="black", linewidth=0.4,
                       label=r["name"])
            ax.set_xticks(range(len(keys)), keys, rotation=20)
            ax.set_title(f"{name} per {label}")
            ax.set_yscale("symlog", linthresh=0.1)
            ax.set_xlabel(label)
        row[0].set_ylabel("end-to-end latency (s, symlog)")
    axes[0][-1].legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, title="variant")
    fig.suptitle(f"End-to-end latency (submit to outcome) — {summary['scenario']}")
    fig.tight_layout()
    save(fig, out_dir, "latency")


def overview_data(summary):
    """What the overview figure shows, per variant in summary order:
    [(name, saved_percent or None, saved_count or None, breaker_trips,
    {priority: wait p99 in seconds or None when the class had no requests})],
    and the title's verdict line ("" without objectives)."""
    rows = []
    for r in summary["variants"]:
        saved = r.get("calls_saved")
        waits = {p: (r["wait"][p]["p99_ms"] / 1000.0 if r["wait"][p]["count"] else None) for p in PRIORITIES}
        rows.append((r["name"], saved["percent"] if saved else None, saved["total"] if saved else None,
                     r.get("breaker_trips", 0), waits))
    slo = summary.get("slo")
    verdict = ""
    if slo:
        v = slo["verdict"]
        n = len(slo["objectives"])
        if v.get("variant"):
            verdict = f"verdict: {v['variant']} meets all {n} objectives at the lowest cost"
        elif v.get("closest"):
            missed = slo["variants"][v["closest"]]["not_met"]
            verdict = f"verdict: no variant meets all {n} objectives (closest: {v['closest']}, {missed} not met)"
    return rows, verdict


def wait_label(seconds):
    """A bar's label: "–" (no requests), "0", "350ms", "2.5s", "50s", "3.2min"."""
    if seconds is None:
        return "–"
    if seconds == 0:
        return "0"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2g}s" if seconds < 10 else f"{seconds:.0f}s"
    return f"{seconds / 60:.1f}min"


def plot_overview(summary, variants, colour, out_dir):
    rows, verdict = overview_data(summary)
    chosen = (summary.get("slo") or {}).get("verdict", {}).get("variant")
    classes = [p for p in PRIORITIES if any(w[p] is not None for *_, w in rows)] or PRIORITIES
    fig, axes = plt.subplots(1, 3, figsize=(16, 6.2), gridspec_kw={"width_ratios": [1, 1, 2.2]})
    xs = list(range(len(rows)))
    names = [name for name, *_ in rows]
    edge = "black"
    widths = [0.6 if n != chosen else 2.2 for n in names]
    baseline = summary.get("baseline") or "baseline"
    saved = [pct if pct is not None else 0.0 for _, pct, *_ in rows]
    ax = axes[0]
    ax.bar(xs, saved, color=[colour[n] for n in names], edgecolor=edge, linewidth=widths)
    for x, (_, pct, count, *_) in zip(xs, rows):
        label = "–" if pct is None else f"{pct:.1f}%\n({count:,})"
        ax.annotate(label, (x, max(0.0, saved[x])), xytext=(0, 4), textcoords="offset points", ha="center",
                    fontsize=10)
    ax.set_title(f"Upstream calls saved vs {baseline}")
    ax.set_ylabel("% of the baseline's calls")
    ax.margins(y=0.25)
    trips = [t for *_, t, _ in rows]
    ax = axes[1]
    ax.bar(xs, trips, color=[colour[n] for n in names], edgecolor=edge, linewidth=widths)
    for x, t in zip(xs, trips):
        ax.annotate(f"{t:,}", (x, t), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=10)
    ax.set_title("Circuit-breaker trips")
    ax.set_ylabel("transitions into OPEN")
    ax.set_ylim(0, max(1, max(trips, default=0)) * 1.2)  # no negative axis when nothing tripped
    ax.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
    for ax in axes[:2]:
        ax.set_xticks(xs, names, rotation=20)
    ax = axes[2]
    width = 0.8 / max(1, len(rows))
    for i, (name, *_, waits) in enumerate(rows):
        cx = [c + (i - (len(rows) - 1) / 2) * width for c in range(len(classes))]
        values = [waits[p] if waits[p] is not None else 0.0 for p in classes]
        ax.bar(cx, values, width=width, color=colour[name], edgecolor="black",
               linewidth=2.2 if name == chosen else 0.4, label=name + (" (verdict)" if name == chosen else ""))
        for x, p in zip(cx, classes):
            ax.annotate(wait_label(waits[p]), (x, waits[p] or 0.0), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8, rotation=90 if len(rows) > 3 else 0)
    ax.set_xticks(range(len(classes)), classes)
    ax.set_yscale("symlog", linthresh=0.1)
    # Room above the tallest bar for the legend (symlog ignores margins).
    tallest = max([w for *_, waits in rows for w in waits.values() if w is not None], default=0.0)
    ax.set_ylim(0, max(1.0, tallest) * 12)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: "0" if v == 0 else f"{v:g} s"))
    ax.set_ylabel("queue wait p99 (s, symlog)")
    ax.set_title("Queue wait p99 per priority class")
    ax.legend(loc="upper left", frameon=False, title="variant")
    if chosen in names:
        for ax in axes[:2]:
            ax.get_xticklabels()[names.index(chosen)].set_fontweight("bold")
    title = summary["scenario"] + (" — " + verdict if verdict else "")
    fig.suptitle(title, fontsize=15)
    fig.tight_layout()
    save(fig, out_dir, "overview")


def in_window(t, window):
    start, end = window
    return (start is None or t >= start) and (end is None or t < end)


def quota_series(rows, period_s, span_days):
    """(times, remaining, exhausted marks, per) for one variant and API. For
    a period shorter than a day drawn over more than 14 days, one point per
    day: the lowest remaining of its hours, exhausted if any hour was."""
    points = [(parse_time(r["hour_start"]), float(r["credits_remaining"]),
               r["exhausted"] == "1", int(r.get("refused_calls") or 0)) for r in rows]
    if not (0 < period_s < 86400 and span_days > 14):
        return points, "hour"
    days = {}
    for t, remaining, exhausted, refused in points:
        day = t.replace(hour=0, minute=0, second=0, microsecond=0)
        low, ex, ref = days.get(day, (remaining, False, 0))
        days[day] = (min(low, remaining), ex or exhausted, ref + refused)
    return [(d, low, ex, ref) for d, (low, ex, ref) in sorted(days.items())], "day"


def plot_quota(summary, variants, colour, rows, out_dir, window=(None, None)):
    rows = [r for r in rows if in_window(parse_time(r["hour_start"]), window)]
    apis = sorted({r["api"] for r in rows})
    if not apis:
        fig, ax = plt.subplots(figsize=(10, 3))
        ax.text(0.5, 0.5, "no upstream with a quota in this scenario (or in this window)", ha="center", va="center")
        ax.set_axis_off()
        ax.set_title("Quota credits remaining")
        save(fig, out_dir, "quota")
        return
    fig, axes = plt.subplots(len(apis), 1, figsize=(11, 4.5 * len(apis)), squeeze=False)
    for ax, api in zip(axes[:, 0], apis):
        quota = summary["upstreams"].get(api, {}).get("quota", {})
        period = quota.get("period", "period")
        period_s = quota.get("period_length_s", 0)
        api_rows = [r for r in rows if r["api"] == api]
        times = [parse_time(r["hour_start"]) for r in api_rows]
        span_days = (max(times) - min(times)).total_seconds() / 86400 if times else 0
        per = "hour"
        for variant in variants:
            series = [r for r in api_rows if r["variant"] == variant]
            if not series:
                continue
            points, per = quota_series(series, period_s, span_days)
            ts = [p[0] for p in points]
            remaining = [p[1] for p in points]
            ax.step(ts, remaining, where="post", color=colour[variant], linewidth=1.6, label=variant)
            # Mark the first point of each exhausted stretch.
            marks = [(t, v) for k, (t, v, ex, _) in enumerate(points) if ex and (k == 0 or not points[k - 1][2])]
            if marks:
                ax.scatter([m[0] for m in marks], [m[1] for m in marks], marker="v", s=60,
                           color=colour[variant], edgecolor="black", zorder=3, clip_on=False)
        ax.scatter([], [], marker="v", s=60, color="white", edgecolor="black", label="exhausted / refusing")
        limit = float(api_rows[0]["limit"])
        ax.axhline(limit, color="grey", linestyle=":", linewidth=1)
        ax.set_ylim(bottom=-0.03 * limit, top=1.05 * limit)
        ax.set_ylabel("lowest remaining per day" if per == "day" else "credits remaining in period")
        ax.set_xlabel("date (UTC)")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d" if span_days > 2 else "%b %d %H:%M"))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        if period == "fixed":
            every = f"every {period_s / 3600:g} h" if period_s >= 3600 else f"every {period_s / 60:g} min"
            what = f"resets {every}"
        else:
            what = f"per {period.replace('_', ' ')}"
        note = "; lowest remaining per day" if per == "day" else ""
        ax.set_title(f"Quota credits remaining — {api} (limit {limit:,.0f}, {what}{note})")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="variant")
    save(fig, out_dir, "quota")


def breaker_spans(events, start, end, min_share=MIN_SPAN_SHARE):
    """{state: [(x, width)]} in matplotlib date numbers for one lane; every
    span at least min_share of [start, end] wide so a short open shows."""
    x0, x1 = mdates.date2num(start), mdates.date2num(end)
    min_width = max((x1 - x0) * min_share, 1e-9)
    spans = {"open": [], "half_open": []}
    for k, e in enumerate(events):
        if e["to"] not in spans:
            continue
        t0 = mdates.date2num(parse_time(e["at"]))
        t1 = mdates.date2num(parse_time(events[k + 1]["at"])) if k + 1 < len(events) else x1
        spans[e["to"]].append((t0, max(t1 - t0, min_width)))
    return spans


def human_hours(seconds):
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds:.0f} s"


def plot_breakers(summary, variants, colour, rows, out_dir, window=(None, None)):
    start = window[0] or parse_time(summary["start"])
    end = window[1] or parse_time(summary["end"])
    by_variant = {r["name"]: r.get("breakers", {}) for r in summary["variants"]}
    breakers = sorted({b for bs in by_variant.values() for b, m in bs.items() if m.get("trips", 0) > 0} |
                      {r["breaker"] for r in rows})
    lanes = [(b, v) for b in breakers for v in variants]
    fig, ax = plt.subplots(figsize=(12, max(3.0, 0.45 * len(lanes) + 1.8)))
    state_colour = {"open": "#D55E00", "half_open": "#F0E442"}
    for lane, (breaker, variant) in enumerate(lanes):
        events = [r for r in rows if r["breaker"] == breaker and r["variant"] == variant]
        spans = breaker_spans(events, start, end)
        ax.broken_barh([(mdates.date2num(start), mdates.date2num(end) - mdates.date2num(start))],
                       (lane - 0.4, 0.8), facecolors="#F2F2F2")
        for state, segs in spans.items():
            if segs:
                ax.broken_barh(segs, (lane - 0.4, 0.8), facecolors=state_colour[state],
                               edgecolor=state_colour[state], linewidth=0.8)
        stats = by_variant.get(variant, {}).get(breaker, {})
        ax.annotate(f"{stats.get('trips', 0):,} trips · open {human_hours(stats.get('open_s', 0.0))}",
                    (1.005, lane), xycoords=("axes fraction", "data"), va="center", fontsize=9,
                    color=colour[variant])
    ax.set_yticks(range(len(lanes)), [f"{b} · {v}" for b, v in lanes])
    for tick, (_, v) in zip(ax.get_yticklabels(), lanes):
        tick.set_color(colour[v])
    ax.set_ylim(-0.6, max(0.6, len(lanes) - 0.4))
    ax.invert_yaxis()
    ax.set_xlim(mdates.date2num(start), mdates.date2num(end))
    ax.xaxis_date()
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d" if (end - start).days > 2 else "%b %d %H:%M"))
    ax.set_xlabel("date (UTC)")
    ax.set_ylabel("breaker · variant")
    if not lanes:
        ax.set_yticks([])
        ax.text(0.5, 0.5, "no circuit breaker tripped in any variant: every breaker stayed CLOSED",
                transform=ax.transAxes, ha="center", va="center")
    ax.legend(
        handles=[
            Patch(facecolor="#F2F2F2", label="closed"),
            Patch(facecolor=state_colour["open"], label="open"),
            Patch(facecolor=state_colour["half_open"], label="half-open"),
        ],
        loc="upper left",
        bbox_to_anchor=(1.16, 1.0),
        frameon=False,
        title=f"state (spans under {MIN_SPAN_SHARE * 100:g}% of the axis\ndrawn at that width)",
    )
    ax.set_title(f"Circuit-breaker states per upstream and variant — {summary['scenario']}")
    save(fig, out_dir, "breakers")


def staleness_cdf(rows, variant):
    """(xs, ys, share_answered): the share of ALL requests answered with data
    at most x seconds old. Requests that got no data never count, so the
    curve ends at share_answered (< 1 when some failed)."""
    ages = [r for r in rows if r["variant"] == variant and r["metric"] == "age_s"]
    totals = {r["metric"]: int(r["count"]) for r in rows
              if r["variant"] == variant and r["metric"] in ("requests", "answered_with_data")}
    answered = totals.get("answered_with_data", sum(int(r["count"]) for r in ages))
    requests = totals.get("requests", answered) or 1
    xs, ys, seen = [0.0], [0.0], 0
    for r in ages:
        seen += int(r["count"])
        xs.append(float(r["high"]))
        ys.append(seen / requests)
    return xs, ys, answered / requests


def plot_staleness(summary, variants, colour, rows, out_dir):
    fig, (ax_age, ax_ver) = plt.subplots(1, 2, figsize=(13, 4.8))
    for variant in variants:
        xs, ys, share = staleness_cdf(rows, variant)
        if len(xs) > 1:
            ax_age.step(xs, ys, where="post", color=colour[variant], linewidth=1.8,
                        label=f"{variant} (no data: {100 * (1 - share):.1f}%)")
            ax_age.axhline(share, color=colour[variant], linestyle=":", linewidth=0.8)
    ax_age.set_xscale("symlog", linthresh=1.0)
    ax_age.set_xlim(left=0)
    ax_age.set_xlabel("age of served data (s, symlog)")
    ax_age.set_ylabel("share of all requests (CDF)")
    ax_age.set_ylim(0, 1.02)
    ax_age.set_title("Age at delivery; failed requests count as never answered")
    ax_age.legend(loc="lower right", frameon=False, fontsize=9)
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
    ax_ver.set_title("Versions behind at delivery (answers with data)")
    ax_ver.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), frameon=False, title="variant")
    fig.suptitle(f"Staleness of served data — {summary['scenario']}")
    save(fig, out_dir, "staleness")


def parse_args(argv):
    """(dir, (from, to)) from DIR [--from INSTANT] [--to INSTANT]."""
    args = list(argv[1:])
    window = [None, None]
    out_dir = None
    while args:
        a = args.pop(0)
        if a in ("--from", "--to"):
            if not args:
                raise ValueError(f"{a} needs an ISO 8601 instant")
            window[0 if a == "--from" else 1] = parse_time(args.pop(0))
        elif out_dir is None:
            out_dir = a
        else:
            raise ValueError(f"unexpected argument {a}")
    if out_dir is None:
        raise ValueError("missing DIR")
    if window[0] and window[1] and window[1] <= window[0]:
        raise ValueError("--to must be after --from")
    return out_dir, tuple(window)


def main(argv):
    try:
        out_dir, window = parse_args(argv)
    except ValueError as e:
        sys.stderr.write(f"plot_results.py: {e}\nusage: plot_results.py DIR [--from INSTANT] [--to INSTANT]\n")
        return 2
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
    plot_latency(summary, variants, colour, out_dir)
    plot_quota(summary, variants, colour, read_csv(os.path.join(out_dir, "quota.csv")), out_dir, window)
    plot_breakers(summary, variants, colour, read_csv(os.path.join(out_dir, "breaker_transitions.csv")), out_dir,
                  window)
    plot_staleness(summary, variants, colour, read_csv(os.path.join(out_dir, "staleness.csv")), out_dir)
    plot_overview(summary, variants, colour, out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
