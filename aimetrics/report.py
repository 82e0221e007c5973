"""``aimetrics report``: the scorecard and its charts as one self-contained HTML page.

The page has no JavaScript and loads nothing: the charts are inline SVG drawn by
matplotlib (extra ``report``), the styles an inline ``<style>``. Read-only on the
DuckDB file: marts.scorecard, marts.retention_weekly, marts.calibration_reliability,
marts.drift_weekly and the thresholds seed (staging.stg_seeds__metric_thresholds).
``--png`` screenshots the page with headless Chromium (Debian's ``chromium``;
``scripts/chromium.sh`` installs it).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import math
import os
import re
import shutil
import subprocess
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from jinja2 import Environment
from markupsafe import Markup

from aimetrics.errors import AimetricsError
from aimetrics.progress import progress
from aimetrics.scorecard import HEADLINE

#: every relation the page reads, and why
SOURCES = {
    "marts.scorecard": "the scorecard table and the metric trends",
    "marts.retention_weekly": "the retention comparison",
    "marts.calibration_reliability": "the reliability diagram",
    "marts.drift_weekly": "the drift charts",
    "staging.stg_seeds__metric_thresholds": "the threshold lines (seed metric_thresholds)",
}
#: status -> colour (the palette of the CLI scorecard: green, amber, red, grey)
STATUS_COLOR = {"healthy": "#1a7f37", "at_risk": "#b7791f", "critical": "#c53030", "insufficient_data": "#8a8f98"}
ZONE_COLOR = {"healthy": "#e6f4ea", "at_risk": "#fdf3d8", "critical": "#fbe4e4"}
PAGE_WIDTH_PX = 1280


@dataclass
class ReportData:
    db_path: Path
    scorecard: list[dict]
    thresholds: dict[str, dict]
    retention: list[dict]
    reliability: list[dict]
    drift: list[dict]
    charts: list[tuple[str, str, str, Markup]] = field(default_factory=list)  # (id, title, caption, svg)


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def read_report_data(db_path: Path) -> ReportData:
    """Every row the page shows, read with one read-only connection."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise AimetricsError(f"no DuckDB file at {db_path}: run `aimetrics demo` or `aimetrics build` first "
                             "(or pass --db)")
    try:
        con = duckdb.connect(str(db_path), read_only=True)
    except duckdb.Error as exc:
        raise AimetricsError(f"cannot open {db_path} read-only: {exc}") from exc
    try:
        present = {f"{s}.{t}" for s, t in con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "union all select schema_name, view_name from duckdb_views()").fetchall()}
        missing = [name for name in SOURCES if name not in present]
        if missing:
            raise AimetricsError(
                f"{db_path} lacks " + ", ".join(f"{m} (for {SOURCES[m]})" for m in missing)
                + ": run `aimetrics build` (dbt build) on it first")
        return ReportData(
            db_path=db_path,
            scorecard=_rows(con, "select * from marts.scorecard order by week, feature, model"),
            thresholds={r["metric"]: r for r in _rows(con, "select * from staging.stg_seeds__metric_thresholds")},
            retention=_rows(con, "select * from marts.retention_weekly order by cohort_week, feature"),
            reliability=_rows(con, "select * from marts.calibration_reliability order by feature, model, bin"),
            drift=_rows(con, "select * from marts.drift_weekly order by feature, model, model_version, week"),
        )
    finally:
        con.close()


# ---------------------------------------------------------------- charts (matplotlib -> inline SVG)

#: matplotlib settings of the report's charts, applied only while they are drawn
RC = {
    "svg.fonttype": "none",            # text stays <text>: smaller, selectable, page font
    "svg.hashsalt": "aimetrics",       # fixed clip-path ids: the same data gives the same page
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.fontsize": 8,
    "legend.frameon": False,
}


class _Mpl:
    """matplotlib without pyplot: no global backend switch, no figure registry to leak into."""

    def __init__(self) -> None:
        try:
            import matplotlib
            from matplotlib.figure import Figure
        except ImportError as exc:
            raise AimetricsError("aimetrics report draws its charts with matplotlib, in the `report` extra: "
                                 "pip install -e '.[report]'") from exc
        self.matplotlib, self._figure = matplotlib, Figure

    def subplots(self, nrows: int, ncols: int, figsize: tuple[float, float], **kw):
        fig = self._figure(figsize=figsize, layout="constrained")
        return fig, fig.subplots(nrows, ncols, squeeze=False, **kw)

    def get_cmap(self, name: str):
        return self.matplotlib.colormaps[name]


def _grid(plt, n_panels: int, height: float = 2.4, ncols_max: int = 4):
    ncols = max(1, min(ncols_max, n_panels))
    nrows = max(1, math.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.2 * ncols, height * nrows))
    flat = [ax for row in axes for ax in row]
    for ax in flat[n_panels:]:
        ax.set_visible(False)
    return fig, flat[:n_panels]


def _svg(fig, chart_id: str) -> Markup:
    """The figure as a compact <svg> element whose ids are unique on the page (several charts share it)."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    text = text[text.index("<svg"):]              # drop the XML prolog and doctype
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    text = re.sub(r">\s+<", "><", text)           # indentation: a third of matplotlib's SVG
    text = re.sub(r'd="([^"]*)"', lambda m: 'd="' + " ".join(m.group(1).split()) + '"', text)
    # matplotlib numbers its ids per figure (figure_1, axes_1, clip paths, markers): prefix them and their uses
    text = re.sub(r'(id="|href="#|url\(#)(?!mark-)', lambda m: f"{m.group(1)}{chart_id}-", text)
    text = re.sub(r"<svg ", f'<svg data-chart="{chart_id}" role="img" ', text, count=1)
    return Markup(text)


_SERIES = itertools.count()


def _mark(artist, chart_id: str) -> None:
    """Tag a data series: its <g> gets id mark-<chart>-<n>, which the render test counts."""
    artist.set_gid(f"mark-{chart_id}-{next(_SERIES)}")


def _model_colors(plt, names) -> dict[str, str]:
    palette = plt.get_cmap("tab10").colors
    return {m: "#%02x%02x%02x" % tuple(int(255 * c) for c in palette[i % 10][:3])
            for i, m in enumerate(sorted(set(names)))}


def _date_axis(ax) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))
    ax.grid(axis="y", color="#e5e7eb", linewidth=0.6)


def _zones(ax, direction: str, healthy: float, critical: float, lo: float, hi: float) -> None:
    """Shade the healthy, at-risk and critical ranges and draw both threshold lines."""
    if direction == "higher_is_better":
        spans = [(healthy, hi, "healthy"), (critical, healthy, "at_risk"), (lo, critical, "critical")]
    else:
        spans = [(lo, healthy, "healthy"), (healthy, critical, "at_risk"), (critical, hi, "critical")]
    for a, b, zone in spans:
        if b > a:
            ax.axhspan(a, b, color=ZONE_COLOR[zone], zorder=0, linewidth=0)
    ax.axhline(healthy, color=STATUS_COLOR["healthy"], linestyle="--", linewidth=0.9, zorder=1)
    ax.axhline(critical, color=STATUS_COLOR["critical"], linestyle="--", linewidth=0.9, zorder=1)


def _padded(values: list[float], extra: list[float]) -> tuple[float, float]:
    vals = [v for v in values + extra if v is not None and math.isfinite(v)]
    lo, hi = min(vals), max(vals)
    pad = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1.0
    return lo - pad, hi + pad


def trend_chart(plt, data: ReportData, metric: str, header: str, colors: dict[str, str]) -> Markup:
    """One panel per feature: the metric per model by week, against its thresholds."""
    chart_id = f"trend-{metric}"
    th = data.thresholds[metric]
    features = sorted({r["feature"] for r in data.scorecard})
    fig, axes = _grid(plt, len(features))
    scale = 100.0 if metric in ("tcr", "hallucination_rate") else 1.0
    unit = " (%)" if scale == 100.0 else ""
    for ax, feature in zip(axes, features):
        rows = [r for r in data.scorecard if r["feature"] == feature]
        series: dict[str, list[tuple]] = defaultdict(list)
        for r in rows:
            if r[metric] is not None:
                key = "all models" if metric == "retention_delta_pts" else r["model"]
                series[key].append((r["week"], r[metric] * scale, r[f"{metric}_status"]))
        if metric == "retention_delta_pts":  # RΔ is per feature: every model row carries the same value
            series = {k: sorted(set(v)) for k, v in series.items()}
        values = [v for pts in series.values() for _, v, _ in pts]
        lo, hi = _padded(values or [0.0], [th["healthy"] * scale, th["critical"] * scale])
        _zones(ax, th["direction"], th["healthy"] * scale, th["critical"] * scale, lo, hi)
        for name, pts in sorted(series.items()):
            color = colors.get(name, "#334155")
            (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, linewidth=1.6,
                              marker="o", markersize=3.2, label=name, zorder=3)
            _mark(line, chart_id)
            bad = [p for p in pts if p[2] == "insufficient_data"]
            if bad:  # hollow markers: too few in the denominator for a status
                ax.plot([p[0] for p in bad], [p[1] for p in bad], linestyle="none", marker="o", markersize=5,
                        markerfacecolor="white", markeredgecolor=color, zorder=4)
        ax.set_ylim(lo, hi)
        ax.set_title(feature, loc="left")
        ax.set_ylabel(header + unit)
        _date_axis(ax)
        if series:
            ax.legend(loc="best")
        else:
            ax.text(0.5, 0.5, "no value yet", ha="center", va="center", transform=ax.transAxes, color="#8a8f98")
    return _svg(fig, chart_id)


def retention_chart(plt, data: ReportData) -> Markup:
    """Per feature: 7-day retention of AI vs non-AI users, and the delta (observed with its CI, randomized)."""
    chart_id = "retention"
    features = sorted({r["feature"] for r in data.retention})
    fig, axes = plt.subplots(2, max(1, len(features)), figsize=(3.2 * max(1, len(features)), 4.8), sharey="row")
    for i, feature in enumerate(features):
        rows = [r for r in data.retention if r["feature"] == feature]
        weeks = [r["cohort_week"] for r in rows]
        top, bottom = axes[0][i], axes[1][i]
        for col, label, color in (("ai_retention_7d", "AI users", "#2563eb"),
                                  ("non_ai_retention_7d", "non-AI users", "#9ca3af")):
            pts = [(w, r[col] * 100) for w, r in zip(weeks, rows) if r[col] is not None]
            (line,) = top.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", markersize=3, linewidth=1.6,
                               color=color, label=label)
            _mark(line, chart_id)
        top.set_title(feature, loc="left")
        top.set_ylabel("7-day retention (%)")
        _date_axis(top)
        obs = [(w, r["retention_delta_pts"], r["delta_ci_low"], r["delta_ci_high"]) for w, r in zip(weeks, rows)
               if r["retention_delta_pts"] is not None]
        if obs:
            ci = [o for o in obs if o[2] is not None and o[3] is not None]
            bottom.fill_between([o[0] for o in ci], [o[2] for o in ci], [o[3] for o in ci], color="#2563eb",
                                alpha=0.15, linewidth=0, label="95% CI")
            (line,) = bottom.plot([o[0] for o in obs], [o[1] for o in obs], color="#2563eb", marker="o",
                                  markersize=3, linewidth=1.6, label="observational Δ")
            _mark(line, chart_id)
        causal = [(w, r["causal_delta_pts"]) for w, r in zip(weeks, rows) if r["causal_delta_pts"] is not None]
        if causal:
            (line,) = bottom.plot([c[0] for c in causal], [c[1] for c in causal], color="#7c3aed", marker="s",
                                  markersize=3, linewidth=1.2, linestyle=":", label="randomized Δ")
            _mark(line, chart_id)
        bottom.axhline(0, color="#475569", linewidth=0.8)
        bottom.set_ylabel("Δ (points)")
        _date_axis(bottom)
        if i == 0:
            top.legend(loc="best")
            bottom.legend(loc="best")
    return _svg(fig, chart_id)


def calibration_chart(plt, data: ReportData, colors: dict[str, str]) -> Markup:
    """Reliability diagram per feature, bins summed over every week: accuracy vs mean confidence."""
    chart_id = "calibration"
    features = sorted({r["feature"] for r in data.reliability})
    fig, axes = _grid(plt, len(features), height=3.0)
    # bins summed over the weeks (the mart keeps sums so any grain re-aggregates): (feature, model) -> points
    sums: dict[tuple, dict[int, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0.0]))
    for r in data.reliability:
        if r["outputs"]:
            acc = sums[(r["feature"], r["model"])][r["bin"]]
            acc[0] += r["outputs"]
            acc[1] += r["correct_outputs"]
            acc[2] += r["confidence_sum"]
    pooled = {cell: [(s[2] / s[0], s[1] / s[0]) for _, s in sorted(bins.items())] for cell, bins in sums.items()}
    seen = [v for pts in pooled.values() for p in pts for v in p]
    low = max(0.0, math.floor((min(seen, default=0.0) - 0.05) * 10) / 10)  # zoom to where the outputs are
    for ax, feature in zip(axes, features):
        ax.plot([0, 1], [0, 1], color="#94a3b8", linestyle="--", linewidth=0.9, label="perfect calibration")
        for (f, model), pts in sorted(pooled.items()):
            if f != feature:
                continue
            (line,) = ax.plot([p[0] for p in pts], [p[1] for p in pts], color=colors.get(model, "#334155"),
                              marker="o", markersize=3.5, linewidth=1.5, label=model)
            _mark(line, chart_id)
        ax.set_xlim(low, 1.01)
        ax.set_ylim(low, 1.01)
        ax.set_aspect("equal")
        ax.set_title(feature, loc="left")
        ax.set_xlabel("mean confidence")
        ax.set_ylabel("accuracy")
        ax.grid(color="#e5e7eb", linewidth=0.6)
        ax.legend(loc="upper left")
    return _svg(fig, chart_id)


def drift_chart(plt, data: ReportData) -> Markup:
    """Per feature: weekly TCR and HR per model_version, their critical bounds and the drift alerts."""
    chart_id = "drift"
    features = sorted({r["feature"] for r in data.drift})
    palette = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(2, max(1, len(features)), figsize=(3.2 * max(1, len(features)), 6.0))
    for i, feature in enumerate(features):
        rows = [r for r in data.drift if r["feature"] == feature]
        vcolor = {v: palette[k % 10] for k, v in enumerate(sorted({r["model_version"] for r in rows}))}
        for row_ax, rate, crit, alert, label in ((axes[0][i], "tcr", "tcr_critical", "tcr_alert", "TCR (%)"),
                                                 (axes[1][i], "hallucination_rate", "hr_critical", "hr_alert",
                                                  "HR (%)")):
            for version in sorted({r["model_version"] for r in rows}):
                pts = [r for r in rows if r["model_version"] == version and r[rate] is not None]
                if not pts:
                    continue
                (line,) = row_ax.plot([r["week"] for r in pts], [r[rate] * 100 for r in pts],
                                      color=vcolor[version], marker="o", markersize=2.8, linewidth=1.3,
                                      label=version)
                _mark(line, chart_id)
                alerts = [r for r in pts if r[alert]]
                if alerts:
                    row_ax.plot([r["week"] for r in alerts], [r[rate] * 100 for r in alerts], linestyle="none",
                                marker="X", markersize=8, color=STATUS_COLOR["critical"], zorder=5)
            crits = {r[crit] for r in rows if r[crit] is not None}
            for c in crits:
                row_ax.axhline(c * 100, color=STATUS_COLOR["critical"], linestyle="--", linewidth=0.9)
            row_ax.set_ylabel(label)
            _date_axis(row_ax)
        axes[0][i].set_title(feature, loc="left")
        axes[1][i].legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), fontsize=7)
    return _svg(fig, chart_id)


def build_charts(data: ReportData) -> None:
    plt = _Mpl()
    colors = _model_colors(plt, [r["model"] for r in data.scorecard] + [r["model"] for r in data.reliability])
    colors["all models"] = "#334155"
    jobs = []
    for metric, header, _ in HEADLINE if data.scorecard else []:
        th = data.thresholds.get(metric)
        if th is None:
            raise AimetricsError(f"staging.stg_seeds__metric_thresholds has no row for metric {metric!r} "
                                 "(seeds/metric_thresholds.csv)")
        caption = (f"{header} by week per model; dashed lines: healthy {_fmt_threshold(metric, th['healthy'])}, "
                   f"critical {_fmt_threshold(metric, th['critical'])} ({th['direction'].replace('_', ' ')}). "
                   f"Hollow markers: too few in the denominator for a status. {th.get('rationale') or ''}")
        jobs.append((f"trend-{metric}", f"{header} trend", caption,
                     lambda m=metric, h=header: trend_chart(plt, data, m, h, colors)))
    if data.retention:
        jobs.append(("retention", "Retention: AI vs non-AI users",
                     "7-day retention by cohort week (top) and its difference in points (bottom): observational "
                     "(AI users vs others, with its 95% interval) and randomized (treatment vs holdout).",
                     lambda: retention_chart(plt, data)))
    if data.reliability:
        jobs.append(("calibration", "Calibration: reliability diagram",
                     "Accuracy against mean stated confidence per confidence bin, all weeks pooled; points under "
                     "the diagonal are over-confident.", lambda: calibration_chart(plt, data, colors)))
    if data.drift:
        jobs.append(("drift", "Drift per model version",
                     "Weekly TCR (top) and HR (bottom) per model_version; dashed: critical bound; ✕: drift alert "
                     "(the trend breaches the critical bound before the next retrain).",
                     lambda: drift_chart(plt, data)))
    with progress("drawing charts", len(jobs)) as bar, plt.matplotlib.rc_context(RC):
        for chart_id, title, caption, draw in jobs:
            data.charts.append((chart_id, title, caption, draw()))
            bar.advance()


def _fmt_threshold(metric: str, value: float) -> str:
    fmt = dict((m, f) for m, _, f in HEADLINE)[metric]
    return fmt.format(value).replace("+", "")


# ---------------------------------------------------------------- page

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>aimetrics scorecard — week of {{ latest }}</title>
<style>
  body { font-family: "DejaVu Sans", system-ui, sans-serif; color: #111827; margin: 0; background: #f8fafc; }
  main { max-width: {{ width - 48 }}px; margin: 0 auto; padding: 24px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #e5e7eb; padding-bottom: 4px; }
  .meta { color: #6b7280; font-size: 12px; margin-bottom: 12px; }
  table.scorecard { border-collapse: collapse; table-layout: fixed; width: 100%; background: #fff; font-size: 13px; margin-bottom: 8px; }
  .scorecard th, .scorecard td { padding: 5px 8px; border-bottom: 1px solid #eef0f3; text-align: right; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
  .scorecard th { background: #f1f5f9; font-weight: 600; white-space: normal; vertical-align: bottom; }
  .scorecard th.txt, .scorecard td.txt { text-align: left; }
  .scorecard caption { text-align: left; font-weight: 600; padding: 6px 0; }
  td.healthy { color: {{ colors.healthy }}; }
  td.at_risk { color: {{ colors.at_risk }}; background: #fffaeb; font-weight: 600; }
  td.critical { color: {{ colors.critical }}; background: #fdecec; font-weight: 700; }
  td.insufficient_data { color: {{ colors.insufficient_data }}; }
  td.flag { color: {{ colors.critical }}; font-weight: 600; text-align: left; white-space: normal; }
  .legend span { margin-right: 14px; font-size: 12px; }
  figure { background: #fff; border: 1px solid #e5e7eb; border-radius: 6px; margin: 0 0 16px; padding: 12px; }
  figure svg { width: 100%; height: auto; display: block; }
  figcaption { font-size: 12px; color: #4b5563; margin-top: 6px; }
  figcaption b { color: #111827; font-size: 14px; display: block; margin-bottom: 2px; }
</style>
</head>
<body>
<main>
<h1>aimetrics scorecard</h1>
<div class="meta">{{ db }} · weeks {{ first }} to {{ latest }} · {{ cells }} feature × model cells · generated {{ generated }}</div>
<h2>Scorecard</h2>
{% for week, rows in weeks %}
<table class="scorecard" data-week="{{ week }}">
<caption>Week of {{ week }}</caption>
<colgroup><col style="width:12%"><col style="width:14%">{% for _ in headline %}<col style="width:7.5%">{% endfor %}<col style="width:6%"><col></colgroup>
<thead><tr><th class="txt">feature</th><th class="txt">model</th>
{% for _, header, _ in headline %}<th>{{ header }}</th>{% endfor %}<th>ECE</th><th class="txt">verdicts</th></tr></thead>
<tbody>
{% for r in rows %}<tr data-feature="{{ r.feature }}" data-model="{{ r.model }}"><td class="txt">{{ r.feature }}</td><td class="txt">{{ r.model }}</td>
{% for c in r.cells %}<td class="{{ c.status }}" data-metric="{{ c.metric }}" title="{{ c.title }}">{{ c.text }}</td>{% endfor %}
<td class="{{ r.ece_status }}" data-metric="ece">{{ r.ece_text }}</td><td class="flag" data-metric="verdicts">{{ r.flags }}</td></tr>
{% endfor %}</tbody></table>
{% endfor %}
<div class="legend"><span style="color:{{ colors.healthy }}">■ healthy</span><span style="color:{{ colors.at_risk }}">■ at risk</span><span style="color:{{ colors.critical }}">■ critical</span><span style="color:{{ colors.insufficient_data }}">■ insufficient data (fewer than min_sample in the denominator)</span><span>— no value yet (RΔ needs 7 days after the week)</span></div>
{% if not charts %}<p>No data in the marts: nothing to chart.</p>{% endif %}
{% for chart_id, title, caption, svg in charts %}
{% if loop.index0 == 0 %}<h2>Headline metrics against their thresholds</h2>{% endif %}
{% if chart_id == "retention" %}<h2>Retention, calibration and drift</h2>{% endif %}
<figure class="chart" id="{{ chart_id }}">{{ svg }}<figcaption><b>{{ title }}</b>{{ caption }}</figcaption></figure>
{% endfor %}
</main>
</body>
</html>
"""

FLAGS = [("drift_alert", "drift alert"), ("release_gate_failed", "release gate failed"),
         ("rubber_stamping_flag", "rubber-stamping"), ("segment_guardrail_breached", "segment guardrail")]


def _table_rows(rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        cells = []
        for metric, header, fmt in HEADLINE:
            value = r[metric]
            num, den = r[f"{metric}_numerator"], r[f"{metric}_denominator"]
            title = f"{header}: status {r[f'{metric}_status']}; denominator {den}"
            if num is not None:
                title += f", numerator {num:g}"
            cells.append({"metric": metric, "status": r[f"{metric}_status"], "title": title,
                          "text": "—" if value is None else fmt.format(value)})
        flags = [label for col, label in FLAGS if r[col]]
        if r["telemetry_flagged_days"]:
            flags.append(f"telemetry: {r['telemetry_flagged_days']} flagged day(s)")
        out.append({"feature": r["feature"], "model": r["model"], "cells": cells,
                    "ece_status": r["ece_status"], "ece_text": "—" if r["ece"] is None else f"{r['ece']:.3f}",
                    "flags": ", ".join(flags)})
    return out


def render_html(data: ReportData, weeks: int) -> str:
    all_weeks = sorted({r["week"] for r in data.scorecard}, reverse=True)
    shown = [(w, _table_rows([r for r in data.scorecard if r["week"] == w])) for w in all_weeks[:weeks]]
    env = Environment(autoescape=True)
    return env.from_string(PAGE).render(
        latest=all_weeks[0] if all_weeks else "—", first=all_weeks[-1] if all_weeks else "—",
        db=data.db_path.name, cells=len({(r["feature"], r["model"]) for r in data.scorecard}),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"), headline=HEADLINE, weeks=shown,
        charts=data.charts, colors=STATUS_COLOR, width=PAGE_WIDTH_PX,
    )


# ---------------------------------------------------------------- headless Chromium

def find_chromium() -> str:
    """$AIMETRICS_CHROMIUM, else chromium / chromium-browser on PATH."""
    explicit = os.environ.get("AIMETRICS_CHROMIUM")
    if explicit:
        if not (Path(explicit).is_file() and os.access(explicit, os.X_OK)):
            raise AimetricsError(f"AIMETRICS_CHROMIUM={explicit} is not an executable file")
        return explicit
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise AimetricsError("--png needs headless Chromium: run scripts/chromium.sh (installs Debian's chromium "
                         "with apt-get) or set AIMETRICS_CHROMIUM to the browser")


def chromium(args: list[str], timeout: float = 120) -> str:
    """Run headless Chromium on args; its stdout. A fresh profile each time, no network needed."""
    with tempfile.TemporaryDirectory(prefix="aimetrics-chromium-") as profile:
        cmd = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
               "--hide-scrollbars", "--no-first-run", "--no-default-browser-check", "--mute-audio",
               "--force-device-scale-factor=1", f"--user-data-dir={profile}", *args]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            raise AimetricsError(f"headless Chromium did not finish in {timeout:.0f}s: {' '.join(cmd)}") from exc
    if done.returncode != 0:
        raise AimetricsError(f"headless Chromium failed (exit {done.returncode}): {done.stderr.strip()[-800:]}")
    return done.stdout


#: appended to a copy of the page: writes the rendered height into the DOM for --dump-dom
_HEIGHT_PROBE = ('<script>document.body.setAttribute("data-height", '
                 'Math.ceil(document.documentElement.getBoundingClientRect().height));</script>')


def page_height(html_path: Path) -> int:
    """The page's rendered height in CSS pixels at PAGE_WIDTH_PX (the page itself has no script)."""
    with tempfile.TemporaryDirectory(prefix="aimetrics-probe-") as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(html_path.read_text(encoding="utf-8").replace("</body>", _HEIGHT_PROBE + "</body>"),
                         encoding="utf-8")
        dom = chromium([f"--window-size={PAGE_WIDTH_PX},800", "--dump-dom", probe.as_uri()])
    found = re.search(r'data-height="(\d+)"', dom)
    if not found:
        raise AimetricsError(f"headless Chromium rendered {html_path} without running the height probe")
    return int(found.group(1))


def render_png(html_path: Path, png_path: Path) -> tuple[int, int]:
    """Screenshot the whole page; returns (width, height) in pixels."""
    height = min(page_height(html_path), 16_000)
    png_path.parent.mkdir(parents=True, exist_ok=True)
    chromium([f"--window-size={PAGE_WIDTH_PX},{height}", f"--screenshot={png_path.resolve()}",
              html_path.resolve().as_uri()])
    if not png_path.is_file() or png_path.stat().st_size == 0:
        raise AimetricsError(f"headless Chromium wrote no screenshot to {png_path}")
    from PIL import Image  # with matplotlib (extra `report`)

    with Image.open(png_path) as shot:  # 128 colours: a third of the size, the charts look the same
        small = shot.convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE)
    small.save(png_path, optimize=True)
    return PAGE_WIDTH_PX, height


# ---------------------------------------------------------------- command

def write_report(db_path: Path, out: Path, png: Path | None = None, weeks: int = 2) -> str:
    """Write the page (and the PNG); the one-line summary of what was written where."""
    if weeks < 1:
        raise AimetricsError("--weeks must be at least 1")
    if png is not None:
        find_chromium()  # before the work: no browser, nothing written
    data = read_report_data(db_path)
    build_charts(data)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data, weeks), encoding="utf-8")
    summary = (f"report written to {out} ({out.stat().st_size / 1024:.0f} KB, {len(data.charts)} charts, "
               f"scorecard of {min(weeks, len({r['week'] for r in data.scorecard}))} week(s)) from {db_path}")
    if png is not None:
        with progress("rendering PNG with headless Chromium", None):
            width, height = render_png(out, Path(png))
        summary += f"; screenshot {png} ({width}×{height} px)"
    return summary
