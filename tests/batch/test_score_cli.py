"""``jupyter mlops score`` as a user runs it: a real process, ``--json`` on stdout, progress
on stderr; the password of the ``--into`` URL never shown."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from batch_names import NAME

from jupyter_mlops.cli.main import main
from jupyter_mlops.cli.row_progress import RowProgress

CLI = [sys.executable, "-m", "jupyter_mlops.cli"]


def run_score(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "score", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
        env={**os.environ, "JUPYTER_MLOPS_DEBUG": "0"}, check=False,
    )  # fmt: skip


def test_json_result_into_postgres(
    scoring_store: str, iris_files: dict[str, Path], fresh_postgres_url: str, tmp_path: Path
) -> None:
    into = fresh_postgres_url.replace("mlops@", "mlops:s3cret@")  # trust auth ignores it
    args = ["--input", str(iris_files["parquet"]), "--key", "id", "--into", into,
            "--tracking-uri", scoring_store, "--chunk-rows", "40", "--json"]  # fmt: skip
    first = run_score(NAME, *args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    result = json.loads(first.stdout)
    assert {k: result[k] for k in ("model", "version", "table", "rows", "previous_version")} == {
        "model": NAME, "version": "1", "table": "iris_predictions", "rows": 150,
        "previous_version": None,
    }  # fmt: skip
    assert result["source"] == str(iris_files["parquet"]) and result["seconds"] > 0
    assert result["into"] == into.replace("s3cret", "***")
    assert "s3cret" not in first.stdout + first.stderr
    assert "scored 150/150 rows" in first.stderr  # plain lines: stderr is no terminal


def test_default_database_and_line(
    scoring_store: str, iris_files: dict[str, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """Without --into: sqlite predictions.db in the current folder; one summary line."""
    monkeypatch.chdir(tmp_path)
    argv = ["score", NAME, "--input", str(iris_files["csv"]), "--key", "id"]
    assert main([*argv, "--tracking-uri", scoring_store]) == 0
    assert (tmp_path / "predictions.db").is_file()
    out = capsys.readouterr().out
    assert out.startswith(f"scored 150 rows of {iris_files['csv']} with {NAME} version 1")
    assert "into iris_predictions of sqlite:///predictions.db" in out


def test_live_progress_bar() -> None:
    stream = io.StringIO()
    progress = RowProgress(stream, live=True)
    progress(50, 200)
    progress(200, 200)
    progress.finish()
    text = stream.getvalue()
    assert text.startswith("\rscored 50/200 rows [") and "25%" in text
    assert "\rscored 200/200 rows [" + "#" * 30 + "] 100%" in text and text.endswith("\n")
    plain = io.StringIO()
    RowProgress(plain, live=False)(10, None)
    assert plain.getvalue() == ""  # plain lines only every few seconds, or at the end
