"""The scoring benchmark: its quick mode end to end (report structure and the equality check,
never the timings), its judging and its table comparison."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from bench_score import TABLE, BenchError, parse_args, run_contender, table_digest  # noqa: E402
from score_report import Measurement, judge, markdown, verdict_lines  # noqa: E402
from score_setup import KEY  # noqa: E402

pytest_plugins = ("mlflow_fixtures",)

QUICK_ROWS = 20_000


@pytest.mark.timeout(600)
def test_quick_mode_scores_both_into_equal_tables_and_reports_both_targets(
    mlflow_db_template: Path, tmp_path: Path
) -> None:
    json_out, markdown_out = tmp_path / "score.json", tmp_path / "score.md"
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "bench_score.py"), "--quick"]
        + ["--mlflow-db", str(mlflow_db_template), "--json-out", str(json_out)]
        + ["--markdown-out", str(markdown_out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    record = json.loads(json_out.read_text())
    assert record["error"] is None
    assert record["input"]["rows"] == QUICK_ROWS
    assert {m["contender"] for m in record["measurements"]} == {"baseline", "ours"}
    for m in record["measurements"]:
        assert m["rows"] == QUICK_ROWS and m["seconds"] > 0
        assert m["peak_rss_mb"] >= m["peak_above_floor_mb"] >= 0
    assert record["same_predictions"] is True
    assert {t["rows"] for t in record["tables"].values()} == {QUICK_ROWS}
    assert len({t["sha256"] for t in record["tables"].values()}) == 1
    assert [t["metric"] for t in record["targets"]] == ["throughput", "peak_memory"]
    assert all(isinstance(t["met"], bool) for t in record["targets"])
    text = markdown_out.read_text()
    assert "| contender | rows | seconds | rows/s |" in text
    assert "Tables: same predictions" in text
    assert text.count(" met") >= 2 and text in done.stdout


def measurement(contender: str, seconds: float, floor_mb: int, peak_mb: int) -> Measurement:
    return Measurement(contender, 1_000_000, seconds, floor_mb * 1024, peak_mb * 1024)


def test_judge_uses_throughput_and_the_peak_above_each_floor() -> None:
    baseline = measurement("baseline", 10.0, 300, 1300)  # 100k rows/s, 1000 MB above
    met = judge(measurement("ours", 8.0, 320, 520), baseline)  # 1.25 x, 0.2 x
    assert [v["met"] for v in met] == [True, True]
    assert met[0]["ratio"] == pytest.approx(1.25) and met[1]["ratio"] == pytest.approx(0.2)
    assert met[1]["raw_ratio"] == pytest.approx(520 / 1300)
    missed = judge(measurement("ours", 20.0, 300, 700), baseline)  # 0.5 x, 0.4 x
    assert [v["met"] for v in missed] == [False, False]
    assert sum("NOT met" in line for line in verdict_lines(missed)) == 2
    below_floor = measurement("ours", 8.0, 400, 390)
    assert below_floor.above_floor_kb == 0


def test_markdown_names_different_predictions() -> None:
    tables = {"baseline": {"rows": 3, "sha256": "a" * 64}, "ours": {"rows": 3, "sha256": "b" * 64}}
    text = markdown({"rows": 3}, [measurement("ours", 1.0, 1, 2)], [], tables)
    assert "DIFFERENT predictions" in text and "Targets" not in text


def scores_table(path: Path, rows: list[tuple[object, object]]) -> Path:
    with sqlite3.connect(path) as connection:
        connection.execute(f'CREATE TABLE "{TABLE}" ("{KEY}" INTEGER, "prediction")')
        connection.executemany(f'INSERT INTO "{TABLE}" VALUES (?, ?)', rows)
    connection.close()
    return path


def test_table_digest_ignores_row_order_and_label_storage_but_not_a_changed_label(
    tmp_path: Path,
) -> None:
    reference = table_digest(scores_table(tmp_path / "a.db", [(1, 0), (2, 1), (3, 1)]))
    assert reference["rows"] == 3
    shuffled = scores_table(tmp_path / "b.db", [(3, 1.0), (1, "0"), (2, 1)])
    assert table_digest(shuffled) == reference
    changed = scores_table(tmp_path / "c.db", [(1, 0), (2, 0), (3, 1)])
    assert table_digest(changed)["sha256"] != reference["sha256"]


@pytest.mark.timeout(300)
def test_a_failing_contender_is_reported_with_its_output(tmp_path: Path) -> None:
    args = parse_args(["--rows", "10", "--contenders", "baseline", "--timeout", "300"])
    missing_store = "sqlite:///" + (tmp_path / "no-such-dir" / "mlflow.db").as_posix()
    with pytest.raises(BenchError, match="baseline failed"):
        run_contender("baseline", args, missing_store, tmp_path / "baseline-0")


def test_unknown_contender_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--contenders", "ours,pandas"])
    assert "unknown ['pandas']" in capsys.readouterr().err
