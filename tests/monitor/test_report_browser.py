"""The monitoring report in a real headless browser: Debian's chromium (the one `make ui-test`
installs and uses), offline, over file://.

The report itself has no script: the test measures a copy with one appended script that
writes the charts' layout boxes into the page, read back with ``--dump-dom``. It also takes a
screenshot, into ``$JUPYTER_MLOPS_SCREENSHOTS/monitor-report.png`` when that variable names a
folder (``make screenshots`` sets it to docs/), else into the test's temporary folder.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from report_samples import sample_result

from jupyter_mlops.monitor.report_html import write_report
from jupyter_mlops.monitor.svg_charts import fmt

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
WIDTH = 1280
TIMEOUT = 120

_MEASURE = """<pre id="measured"></pre><script>
const box = (e) => { const b = e.getBoundingClientRect(); return {width: b.width, height: b.height}; };
const charts = [...document.querySelectorAll('svg.chart')].map((svg) => ({
  label: svg.getAttribute('aria-label'), ...box(svg),
  marks: [...svg.querySelectorAll('rect.bar, circle.point, polyline.line, line.threshold')].map(
    (m) => ({kind: m.getAttribute('class'), series: m.getAttribute('data-series'),
             value: m.getAttribute('data-value'), ...box(m)}))}));
document.getElementById('measured').textContent = JSON.stringify({charts,
  width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight});
</script>"""


def _chromium(page: Path, profile: Path, *args: str) -> str:
    """Run headless chromium on ``page`` with no network at all; its standard output."""
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--host-resolver-rules=MAP * ~NOTFOUND",
        f"--user-data-dir={profile}",
        *args,
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _measure(report: Path, tmp_path: Path) -> dict[str, Any]:
    page = tmp_path / "measured.html"
    page.write_text(report.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>"))
    dom = _chromium(page, tmp_path / "profile", f"--window-size={WIDTH},900", "--dump-dom")
    found = re.search(r'<pre id="measured">(.*?)</pre>', dom, re.DOTALL)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def report(tmp_path: Path) -> Path:
    if not Path(CHROMIUM).exists() and shutil.which(CHROMIUM) is None:
        pytest.skip(f"no chromium at {CHROMIUM} (make ui-test installs Debian's; set CHROMIUM)")
    return write_report(sample_result(windows=12), tmp_path / "report.html")


def test_the_charts_render_with_their_data(report: Path, tmp_path: Path) -> None:
    measured = _measure(report, tmp_path)
    charts = {chart["label"]: chart for chart in measured["charts"]}
    assert len(measured["charts"]) == len(charts) == 12
    assert measured["width"] <= WIDTH
    for label, chart in charts.items():
        assert chart["width"] >= 300 and chart["height"] >= 150, label
        drawn = [m for m in chart["marks"] if m["width"] > 0]
        assert drawn, label
        for mark in chart["marks"]:
            if mark["kind"] in ("bar", "point") and mark["value"] != "0":
                assert mark["width"] > 0 and mark["height"] > 0, (label, mark)

    expected = sample_result(windows=12)["histograms"]["petal_length"]
    bars = charts["petal_length: reference vs current"]["marks"]
    for series in ("reference", "current"):
        values = [m["value"] for m in bars if m["series"] == series]
        assert values == [fmt(v) for v in expected[series]]
    share = charts["share of drifted features per window"]["marks"]
    assert [m["kind"] for m in share].count("point") == 12
    assert any(m["kind"] == "threshold" and m["width"] > 0 for m in share)
    versions = charts["rows per version per window"]["marks"]
    assert {m["series"] for m in versions} == {"version 3", "version 4"}


def test_a_screenshot_of_the_report(report: Path, tmp_path: Path) -> None:
    height = _measure(report, tmp_path)["height"]
    folder = Path(os.environ.get("JUPYTER_MLOPS_SCREENSHOTS") or tmp_path)
    shot = folder.resolve() / "monitor-report.png"
    _chromium(
        report,
        tmp_path / "profile-shot",
        f"--window-size={WIDTH},{height}",
        f"--screenshot={shot}",
    )
    assert _png_size(shot) == (WIDTH, height)
