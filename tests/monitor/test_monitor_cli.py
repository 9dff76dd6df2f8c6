"""``jupyter mlops monitor`` as a real subprocess: the text summary, ``--json``, exit 1 when
``--fail-on`` names what fired on the latest window, 0 otherwise, 2 on bad input with one
line naming the fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from monitor_models import NAME, build_store, cli, labels_of, rows


@pytest.fixture(scope="module")
def store(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_store(mlflow_db_template, tmp_path_factory.mktemp("monitor-cli"))


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("monitor-cli-files")
    same = rows(2000, seed=1)
    same["y"] = labels_of(same)
    same.to_parquet(folder / "same.parquet")
    rows(2000, seed=2, shift=1.5).to_csv(folder / "drifted.csv", index=False)
    return {"same": folder / "same.parquet", "drifted": folder / "drifted.csv"}


def test_drift_fails_the_command_with_fail_on(
    store: str, files: dict[str, Path], tmp_path: Path
) -> None:
    args = [f"{NAME}@champion", "--data", str(files["drifted"]), "--tracking-uri", store]
    failing = cli("monitor", *args, "--fail-on", "drift", cwd=tmp_path)
    assert failing.returncode == 1, failing.stderr
    lines = failing.stdout.splitlines()
    assert lines[0].startswith(f"{NAME}@champion: reference version 1 (2,000 training rows")
    assert "  features: DRIFT" in failing.stdout
    assert "performance (estimated by CBPE, 2,000 rows)" in failing.stdout
    assert lines[-1] == f"latest window: drift fired (MLflow experiment {NAME}-monitoring)"
    reported = cli("monitor", *args, "--fail-on", "decay", cwd=tmp_path)
    assert reported.returncode == 0, reported.stderr
    assert reported.stdout.splitlines()[-1].startswith("latest window: drift fired")


def test_undrifted_data_passes_and_json_is_the_result(
    store: str, files: dict[str, Path], tmp_path: Path
) -> None:
    done = cli(
        "monitor",
        f"{NAME}@champion",
        "--data",
        str(files["same"]),
        "--labels",
        "y",
        "--fail-on",
        "drift,decay",
        "--json",
        "--tracking-uri",
        store,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["fired"] == [] and document["fail_on"] == ["drift", "decay"]
    assert document["windows"][0]["performance"]["source"] == "labels"
    assert document["experiment"] == f"{NAME}-monitoring"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--labels", "nope"], "--labels column 'nope' is not in --data"),
        (["--window", "1 hour"], "--window '1 hour' is not a duration"),
        (["--since", "yesterday"], "--since 'yesterday' is neither an ISO time"),
        (["--fail-on", "drift,latency"], "--fail-on 'latency' is not one of drift, decay"),
    ],
)
def test_bad_input_exits_2_naming_it(
    store: str, files: dict[str, Path], tmp_path: Path, extra: list[str], message: str
) -> None:
    done = cli(
        "monitor",
        f"{NAME}@champion",
        "--data",
        str(files["same"]),
        "--tracking-uri",
        store,
        *extra,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_unknown_alias_exits_2(store: str, files: dict[str, Path], tmp_path: Path) -> None:
    done = cli(
        "monitor",
        f"{NAME}@prod",
        "--data",
        str(files["same"]),
        "--tracking-uri",
        store,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert f"model '{NAME}' has no alias 'prod'" in done.stderr


def test_summary_shows_an_infinite_statistic_and_the_versions() -> None:
    from jupyter_mlops.cli.monitor import window_lines

    drift = {"column": "prediction", "test": "chi2", "statistic": None, "drifted": True}
    window = {
        "start": "2026-12-02T10:00:00+00:00",
        "rows": 1200,
        "versions": {"3": 1000, "4": 200},
        "drift": {"drifted": False, "share": 0.0, "columns": []},
        "prediction_drift": {"reference": drift, "between_versions": None},
        "performance": None,
    }
    assert window_lines(window) == [
        "window 2026-12-02T10:00:00+00:00: 1,200 rows (v3: 1,000, v4: 200)",
        "  features: no drift, 0/0 columns drifted (share 0.00)",
        "  predictions vs reference: DRIFT (chi2 inf)",
    ]
