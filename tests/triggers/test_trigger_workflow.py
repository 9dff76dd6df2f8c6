"""`jupyter mlops ci init --schedule CRON`: a scheduled workflow calling `jupyter mlops trigger`
for the pipelines with a triggers: section, deterministic and clean under zizmor."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml
from quality_pipeline import BIN, cli, write_quality_notebook

from jupyter_mlops import __version__
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.extract.writer import write_package

WORKFLOW = Path(".github") / "workflows" / "mlops-triggers.yml"
TRIGGERS = "\ntriggers:\n  nightly:\n    kind: schedule\n    cron: '0 3 * * *'\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Two extracted notebooks; only ``pipelines/quality`` has triggers."""
    for sub in ("", "more"):
        notebook = write_quality_notebook(tmp_path / sub)
        name = "other" if sub else "quality"
        notebook = notebook.rename(notebook.with_name(f"{name}.ipynb"))
        write_package(scan_notebook(notebook), notebook.parent / "pipelines" / name)
    with (tmp_path / "pipelines" / "quality" / "pipeline.yaml").open("a") as file:
        file.write(TRIGGERS)
    return tmp_path


def test_a_scheduled_workflow_evaluates_the_triggers(project: Path) -> None:
    done = cli("ci", "init", "--schedule", "0 */6 * * *", cwd=project)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"Wrote {WORKFLOW}: on schedule '0 */6 * * *' (UTC), jupyter mlops trigger for",
        "  pipelines/quality (from quality.ipynb)",
    ]
    text = (project / WORKFLOW).read_text()
    workflow = yaml.safe_load(text)
    assert workflow["on"] == {"schedule": [{"cron": "0 */6 * * *"}], "workflow_dispatch": {}}
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False
    steps = workflow["jobs"]["triggers"]["steps"]
    assert [line for step in steps if "run" in step for line in step["run"].splitlines()] == [
        f"python -m pip install 'jupyter_mlops[jupyter]=={__version__}' pytest nbval",
        "python -m ipykernel install --user --name python3",
        "jupyter mlops trigger pipelines/quality",
    ]
    again = cli("ci", "init", "--schedule", "0 */6 * * *", "--force", cwd=project)
    assert again.returncode == 0 and (project / WORKFLOW).read_text() == text  # deterministic


def test_the_trigger_command_is_a_real_cli_command(project: Path) -> None:
    assert cli("ci", "init", "--schedule", "0 3 * * *", cwd=project).returncode == 0
    workflow = yaml.safe_load((project / WORKFLOW).read_text())
    command = workflow["jobs"]["triggers"]["steps"][-1]["run"].split()
    done = cli(*command[2:], "--dry-run", cwd=project)
    assert done.returncode == 0, done.stderr
    assert "nightly (schedule): baseline: first evaluation" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--schedule", "0 3 * *"], "--schedule: '0 3 * *' must have 5 fields"),
        (["--schedule", "61 3 * * *"], "--schedule: '61 3 * * *': minute 61 is out of range"),
        (["more/other.ipynb", "--schedule", "0 3 * * *"], "no extracted pipeline has a triggers:"),
    ],
)
def test_bad_schedules_are_bad_input(project: Path, args: list[str], message: str) -> None:
    done = cli("ci", "init", *args, cwd=project)
    assert done.returncode == 2
    assert message in done.stderr
    assert not (project / WORKFLOW).exists()


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing_in_the_scheduled_workflow(project: Path, persona: str) -> None:
    assert cli("ci", "init", "--schedule", "0 3 * * *", cwd=project).returncode == 0
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", persona, str(project / WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr
