"""``aimetrics report``: the page renders in headless Chromium with every chart, and shows the mart's numbers.

One module-scoped small build (demo data, SCALE interactions; seeds and the models
upstream of the four marts the page reads, no dbt tests: they run in the other
builds of the suite). Chromium is Debian's package, installed by
``scripts/chromium.sh`` when missing.

* Render: a copy of the page gets a small script that measures, for every
  ``figure.chart``, its SVG's on-screen box and how many data series (the
  ``mark-*`` groups the report tags) have a non-zero box; ``--dump-dom`` returns
  the result. Every expected chart must be there, with as many drawn series as an
  independent count from the marts says, and its region of the ``--png``
  screenshot must hold drawn pixels. A page with one chart blanked must fail
  the same check.
* Numbers: every cell of the scorecard table, parsed back from the rendered DOM,
  equals the value read from marts.scorecard by the test's own query, to the
  precision shown; so do the status classes, ECE and the verdict flags. The same
  comparison on a page with one number changed by one shown digit must fail.
* Errors: a missing file and a file without the marts give a clear message and
  write nothing. The page loads nothing from the network.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import numpy as np
import pytest

from aimetrics import PROJECT_DIR
from aimetrics.cli import main

SCALE = 3_000
SEED = 5
WEEKS = 2
METRICS = ["tcr", "hallucination_rate", "tta_p50_s", "hitl_f", "retention_delta_pts", "cpvo"]
CHARTS = [f"trend-{m}" for m in METRICS] + ["retention", "calibration", "drift"]
FLAG_TEXT = {"drift_alert": "drift alert", "release_gate_failed": "release gate failed",
             "rubber_stamping_flag": "rubber-stamping", "segment_guardrail_breached": "segment guardrail"}

RENDER_CHECK = """<script>
(function () {
  const out = {};
  for (const fig of document.querySelectorAll('figure.chart')) {
    const svg = fig.querySelector('svg');
    const r = svg ? svg.getBoundingClientRect() : {left: 0, top: 0, width: 0, height: 0};
    let drawn = 0, marks = 0;
    for (const g of fig.querySelectorAll('g[id^="mark-"]')) {
      marks++;
      const b = g.getBBox();
      if (b.width > 0 && b.height > 0) drawn++;
    }
    out[fig.id] = {x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height,
                   marks: marks, drawn: drawn};
  }
  const pre = document.createElement('pre');
  pre.id = 'render-check';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


@pytest.fixture(scope="module")
def chromium_path() -> str:
    done = subprocess.run([str(PROJECT_DIR / "scripts" / "chromium.sh")], capture_output=True, text=True)
    assert done.returncode == 0, f"scripts/chromium.sh failed:\n{done.stderr}"
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    from aimetrics.demo import generate
    from aimetrics.dbt_runner import run_dbt
    from aimetrics.load import load_files

    root = tmp_path_factory.mktemp("report_demo")
    path = root / "demo.duckdb"
    for table, paths in generate(scale=SCALE, seed=SEED, out_dir=root / "data").items():
        load_files(path, table, paths)
    run_dbt(["build", "--select", "+scorecard", "+calibration_reliability",
             "--exclude-resource-type", "test", "unit_test"], duckdb_path=path, target_path=root / "target")
    return path


@pytest.fixture(scope="module")
def report(db, chromium_path, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("report_out")
    html, png = out / "report.html", out / "report.png"
    mp = pytest.MonkeyPatch()
    mp.setenv("AIMETRICS_CHROMIUM", chromium_path)
    try:
        import contextlib
        import io

        stdout = io.StringIO()
        with contextlib.redirect_stdout(stdout):
            code = main(["--db", str(db), "report", "--out", str(html), "--png", str(png), "--weeks", str(WEEKS)])
    finally:
        mp.undo()
    assert code == 0
    return {"html": html, "png": png, "stdout": stdout.getvalue(), "dir": out}


def dump_dom(chromium: str, page: Path, work: Path) -> str:
    """The page with RENDER_CHECK appended, rendered at the report's width; the DOM after scripts ran."""
    probe = work / f"check-{page.stem}.html"
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", RENDER_CHECK + "</body>"),
                     encoding="utf-8")
    done = subprocess.run(
        [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
         "--force-device-scale-factor=1", f"--user-data-dir={work / 'profile'}", "--window-size=1280,800",
         "--dump-dom", probe.as_uri()],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def dom(report, chromium_path) -> str:
    return dump_dom(chromium_path, report["html"], report["dir"])


def render_check(dom: str) -> dict:
    found = re.search(r'<pre id="render-check">(.*?)</pre>', dom, re.S)
    assert found, "the render check script did not run"
    return json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&"))


def _rows(con, sql: str) -> list[dict]:
    cur = con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def expected_series(db) -> dict[str, int]:
    """Data series each chart must draw, counted from the marts by the test's own queries."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        def one(sql: str) -> int:
            return con.execute(sql).fetchone()[0]

        out = {f"trend-{m}": one(f"select count(distinct (feature, model)) from marts.scorecard where {m} is not null")
               for m in METRICS if m != "retention_delta_pts"}
        # RΔ is a feature-level number: one series per feature
        out["trend-retention_delta_pts"] = one(
            "select count(distinct feature) from marts.scorecard where retention_delta_pts is not null")
        out["retention"] = sum(one(f"select count(distinct feature) from marts.retention_weekly where {c} is not null")
                               for c in ("ai_retention_7d", "non_ai_retention_7d", "retention_delta_pts",
                                         "causal_delta_pts"))
        out["calibration"] = one("select count(distinct (feature, model)) from marts.calibration_reliability "
                                 "where outputs > 0")
        out["drift"] = sum(one(f"select count(distinct (feature, model_version)) from marts.drift_weekly "
                               f"where {c} is not null") for c in ("tcr", "hallucination_rate"))
    finally:
        con.close()
    return out


def chart_failures(check: dict, expected: dict[str, int]) -> list[str]:
    problems = []
    for chart in CHARTS:
        got = check.get(chart)
        if got is None:
            problems.append(f"{chart}: missing")
            continue
        if got["width"] < 200 or got["height"] < 100:
            problems.append(f"{chart}: rendered {got['width']}x{got['height']} px")
        if got["drawn"] != expected[chart] or got["marks"] != expected[chart]:
            problems.append(f"{chart}: {got['drawn']} of {got['marks']} data series drawn, {expected[chart]} expected")
    return problems


def test_summary_line(report):
    lines = report["stdout"].strip().splitlines()
    assert len(lines) == 1, lines
    assert str(report["html"]) in lines[0] and str(report["png"]) in lines[0] and "9 charts" in lines[0]


def test_every_chart_renders(dom, expected_series):
    assert all(n > 0 for n in expected_series.values()), expected_series  # the small demo has data for each
    check = render_check(dom)
    assert chart_failures(check, expected_series) == []
    assert set(check) == set(CHARTS)


def test_screenshot_shows_every_chart(report, dom):
    from PIL import Image

    check = render_check(dom)
    with Image.open(report["png"]) as shot:
        img = shot.convert("RGB")
    assert img.width == 1280
    for chart, box in check.items():
        x, y, w, h = (int(box[k]) for k in ("x", "y", "width", "height"))
        assert y + h <= img.height, f"{chart} is below the end of the screenshot"
        pixels = np.asarray(img.crop((x, y, x + w, y + h)))[::2, ::2].reshape(-1, 3)
        inked = float((pixels.min(axis=1) < 200).mean())  # lines, text, zones: not near-white
        colours = len(np.unique(pixels // 32, axis=0))
        assert inked > 0.01 and colours >= 6, f"{chart}: {inked:.1%} drawn pixels, {colours} colours"


def test_blank_chart_fails_the_check(report, chromium_path, expected_series):
    """The render check can fail: drop the data series of one chart and remove another."""
    page = report["html"].read_text(encoding="utf-8")
    blank = re.sub(r'(<svg data-chart="calibration".*?</svg>)',
                   lambda m: re.sub(r'<g id="mark-[^"]*">.*?</g>', "", m.group(1), flags=re.S), page, flags=re.S)
    blank = re.sub(r'<figure class="chart" id="drift">.*?</figure>', "", blank, flags=re.S)
    assert blank != page
    broken = report["dir"] / "broken.html"
    broken.write_text(blank, encoding="utf-8")
    problems = chart_failures(render_check(dump_dom(chromium_path, broken, report["dir"])), expected_series)
    assert any(p.startswith("calibration: 0 of 0") for p in problems), problems
    assert "drift: missing" in problems, problems


class _Table(HTMLParser):
    """Cells of the scorecard tables: {(week, feature, model): {metric: (text, class)}}."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple, dict[str, tuple[str, str]]] = {}
        self._week = self._row = self._metric = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-week" in a:
            self._week = a["data-week"]
        elif tag == "tr" and "data-feature" in a and self._week:
            self._row = (self._week, a["data-feature"], a["data-model"])
            self.cells[self._row] = {}
        elif tag == "td" and self._row and "data-metric" in a:
            self._metric, self._class, self._text = a["data-metric"], a.get("class", ""), []

    def handle_data(self, data):
        if self._metric:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._metric:
            self.cells[self._row][self._metric] = ("".join(self._text).strip(), self._class)
            self._metric = None
        elif tag == "table":
            self._week = self._row = None


def shown_value(text: str) -> tuple[float, float] | None:
    """'72.5%' -> (0.725, 0.0005): the number and half a unit of its last shown digit."""
    if text == "—":
        return None
    percent = text.endswith("%")
    digits = text.rstrip("%").replace("+", "")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    value, half = float(digits), 0.5 * 10 ** -decimals
    return (value / 100, half / 100) if percent else (value, half)


@pytest.fixture(scope="module")
def mart_rows(db) -> list[dict]:
    """The scorecard rows the table must show, read by the test's own query."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return _rows(con, "select * from marts.scorecard where week in "
                          f"(select distinct week from marts.scorecard order by week desc limit {WEEKS})")
    finally:
        con.close()


def table_mismatches(dom: str, mart: list[dict]) -> tuple[list[str], int]:
    """Differences between the rendered table and the mart rows, and how many numbers were compared."""
    parser = _Table()
    parser.feed(dom)
    keys = {(str(r["week"]), r["feature"], r["model"]) for r in mart}
    problems = [f"row {k}: in the page only" for k in set(parser.cells) - keys]
    problems += [f"row {k}: not in the page" for k in keys - set(parser.cells)]
    compared = 0
    for r in mart:
        key = (str(r["week"]), r["feature"], r["model"])
        cells = parser.cells.get(key, {})
        for metric in [*METRICS, "ece"]:
            if metric not in cells:
                problems.append(f"{key} {metric}: no cell")
                continue
            text, css = cells[metric]
            if css != r[f"{metric}_status"]:
                problems.append(f"{key} {metric}: class {css}, status {r[f'{metric}_status']}")
            shown = shown_value(text)
            if r[metric] is None or shown is None:
                if not (r[metric] is None and shown is None):
                    problems.append(f"{key} {metric}: shown {text!r}, mart {r[metric]}")
                continue
            value, half = shown
            if abs(value - r[metric]) > half + 1e-12:
                problems.append(f"{key} {metric}: shown {text!r}, mart {r[metric]}")
            compared += 1
        flags = cells.get("verdicts", ("", ""))[0]
        for col, label in FLAG_TEXT.items():
            if (label in flags) != bool(r[col]):
                problems.append(f"{key} {col}: {r[col]}, verdicts {flags!r}")
        if ("telemetry" in flags) != bool(r["telemetry_flagged_days"]):
            problems.append(f"{key} telemetry_flagged_days: {r['telemetry_flagged_days']}, verdicts {flags!r}")
    return problems, compared


def test_scorecard_table_equals_the_mart(dom, mart_rows):
    assert len(mart_rows) > 0
    problems, compared = table_mismatches(dom, mart_rows)
    assert problems == []
    assert compared >= len(mart_rows) * 4


def test_table_check_catches_a_wrong_number(dom, mart_rows):
    """The comparison can fail: one shown number moved by one unit of its last digit."""
    cell = re.search(r'(<td class="[a-z_]+" data-metric="tcr"[^>]*>)(\d+)\.(\d)%', dom)
    assert cell, "no TCR cell in the page"
    last = (int(cell.group(3)) + 1) % 10
    wrong = dom[:cell.start()] + f"{cell.group(1)}{cell.group(2)}.{last}%" + dom[cell.end():]
    problems, _ = table_mismatches(wrong, mart_rows)
    assert len(problems) == 1 and " tcr: shown" in problems[0], problems


def test_page_is_self_contained(report):
    page = report["html"].read_text(encoding="utf-8")
    assert "<script" not in page
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)|url\((?!#)|@import|https?://(?!www\.w3\.org/)""", page), \
        "the page must load nothing"


def test_missing_database_or_mart(tmp_path, capsys):
    out = tmp_path / "r.html"
    assert main(["--db", str(tmp_path / "nope.duckdb"), "report", "--out", str(out)]) == 2
    assert "no DuckDB file at" in capsys.readouterr().err
    partial = tmp_path / "partial.duckdb"
    con = duckdb.connect(str(partial))
    con.execute("create schema marts; create table marts.scorecard (week date)")
    con.close()
    assert main(["--db", str(partial), "report", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    for name in ("marts.retention_weekly", "marts.calibration_reliability", "marts.drift_weekly",
                 "staging.stg_seeds__metric_thresholds"):
        assert name in err
    assert "marts.scorecard" not in err.split("lacks", 1)[1]
    assert not out.exists()


def test_missing_extra_or_browser(db, tmp_path, capsys, monkeypatch):
    out = tmp_path / "r.html"
    with monkeypatch.context() as m:
        m.setitem(__import__("sys").modules, "matplotlib", None)  # the `report` extra not installed
        assert main(["--db", str(db), "report", "--out", str(out)]) == 2
    assert "pip install -e '.[report]'" in capsys.readouterr().err
    assert not out.exists()
    monkeypatch.setenv("AIMETRICS_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert main(["--db", str(db), "report", "--out", str(out), "--png", str(tmp_path / "r.png")]) == 2
    assert "AIMETRICS_CHROMIUM" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "r.png").exists()


def test_empty_marts(db, tmp_path, capsys):
    """Marts with no rows: a page that says so, no chart, exit 0."""
    empty = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(empty))
    con.execute(f"attach '{db}' as built (read_only)")
    for name in ("marts.scorecard", "marts.retention_weekly", "marts.calibration_reliability", "marts.drift_weekly",
                 "staging.stg_seeds__metric_thresholds"):
        schema = name.split(".")[0]
        con.execute(f"create schema if not exists {schema}")
        con.execute(f"create table {name} as select * from built.{name}" + (" limit 0" if schema == "marts" else ""))
    con.close()
    out = tmp_path / "empty.html"
    assert main(["--db", str(empty), "report", "--out", str(out)]) == 0
    assert "0 charts" in capsys.readouterr().out
    page = out.read_text(encoding="utf-8")
    assert "No data in the marts" in page and "<svg" not in page
