"""`jupyter mlops ci init`: a valid GitHub Actions workflow whose commands are real and documented."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from quality_pipeline import BIN, cli, write_quality_notebook

from jupyter_mlops import __version__
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.cli import quality as cli_quality
from jupyter_mlops.cli.main import build_parser, run_command
from jupyter_mlops.extract.writer import write_package

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project with two extracted notebooks, one in a subfolder."""
    for sub in ("", "more"):
        notebook = write_quality_notebook(tmp_path / sub)
        name = "other" if sub else "quality"
        notebook = notebook.rename(notebook.with_name(f"{name}.ipynb"))
        write_package(scan_notebook(notebook), notebook.parent / "pipelines" / name)
    return tmp_path


def run_commands(workflow: dict) -> list[str]:
    steps = workflow["jobs"]["mlops"]["steps"]
    return [line for step in steps if "run" in step for line in step["run"].splitlines()]


def test_ci_init_writes_a_valid_workflow_for_every_pipeline(project: Path) -> None:
    done = cli("ci", "init", cwd=project)
    assert done.returncode == 0, done.stderr
    path = project / ".github" / "workflows" / "mlops.yml"
    assert done.stdout.splitlines() == [
        "Wrote .github/workflows/mlops.yml: on every push, check, test, nbval and a gated run of",
        "  more/pipelines/other (from more/other.ipynb)",
        "  pipelines/quality (from quality.ipynb)",
    ]
    workflow = yaml.safe_load(path.read_text())
    assert workflow["on"] == ["push", "pull_request"]
    job = workflow["jobs"]["mlops"]
    assert job["runs-on"] == "ubuntu-latest"
    assert job["env"] == {"MLFLOW_TRACKING_URI": "${{ secrets.MLFLOW_TRACKING_URI }}"}
    assert job["steps"][0] == {
        "uses": "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
        "with": {"persist-credentials": False},
    }
    assert workflow["permissions"] == {"contents": "read"}
    assert run_commands(workflow) == [
        f"python -m pip install 'jupyter_mlops[jupyter]=={__version__}' pytest nbval",
        "python -m ipykernel install --user --name python3",
        "jupyter mlops check more/other.ipynb more/pipelines/other",
        "jupyter mlops check quality.ipynb pipelines/quality",
        "jupyter mlops test more/pipelines/other",
        "jupyter mlops test pipelines/quality",
        "pytest --nbval-lax more/other.ipynb quality.ipynb",
        "jupyter mlops run more/pipelines/other --fail-on-rejected",
        "jupyter mlops run pipelines/quality --fail-on-rejected",
    ]


def test_workflow_commands_are_real_cli_commands_documented_in_the_readme(project: Path) -> None:
    assert cli("ci", "init", "quality.ipynb", cwd=project).returncode == 0
    workflow = yaml.safe_load((project / ".github/workflows/mlops.yml").read_text())
    expected = {
        "check": cli_quality.check_command,
        "test": cli_quality.test_command,
        "run": run_command,
    }
    readme = README.read_text()
    seen = set()
    for line in run_commands(workflow):
        words = shlex.split(line)
        if words[:2] == ["jupyter", "mlops"]:
            args = build_parser().parse_args(words[2:])
            assert args.command is expected[words[2]], line
            for word in words[3:]:
                assert not word.endswith(".ipynb") or (project / word).is_file(), word
            seen.add(words[2])
            assert f"jupyter mlops {words[2]} " in readme, line
        elif words[0] == "pytest":
            assert "pytest --nbval-lax" in readme
    assert seen == set(expected)
    assert "jupyter mlops ci init" in readme and "--fail-on-rejected" in readme
    check = next(c for c in run_commands(workflow) if c.startswith("jupyter mlops check"))
    done = subprocess.run(
        [str(BIN / "jupyter-mlops"), *shlex.split(check)[2:]],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout  # the sync check passes as written


def test_existing_workflow_is_kept_unless_forced(project: Path) -> None:
    path = project / "ci.yml"
    path.write_text("mine\n")
    done = cli("ci", "init", "--output", "ci.yml", cwd=project)
    assert done.returncode == 2
    assert done.stderr == "error: ci.yml: exists already: pass --force to replace it\n"
    assert path.read_text() == "mine\n"
    assert cli("ci", "init", "--output", "ci.yml", "--force", cwd=project).returncode == 0
    assert "jupyter mlops check" in path.read_text()


def test_install_commands_follow_the_project(project: Path) -> None:
    (project / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert cli("ci", "init", "--output", "a.yml", cwd=project).returncode == 0
    install = yaml.safe_load((project / "a.yml").read_text())["jobs"]["mlops"]["steps"][2]
    assert install["run"] == (
        f"python -m pip install -e .\npython -m pip install 'jupyter_mlops[jupyter]=={__version__}' "
        "pytest nbval\n"
    )
    args = ["ci", "init", "-o", "b.yml", "--install", "pip install -e .[dev]"]
    assert cli(*args, cwd=project).returncode == 0
    install = yaml.safe_load((project / "b.yml").read_text())["jobs"]["mlops"]["steps"][2]
    assert install["run"] == "pip install -e .[dev]\n"


def test_nothing_to_check_is_bad_input(tmp_path: Path) -> None:
    done = cli("ci", "init", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("error: no extracted pipeline to check: extract a notebook")
    assert not (tmp_path / ".github").exists()
    done = cli("ci", "init", "missing.ipynb", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == "error: missing.ipynb: is not a notebook file (.ipynb)\n"
    write_quality_notebook(tmp_path)
    done = cli("ci", "init", "quality.ipynb", cwd=tmp_path)
    assert done.returncode == 2
    assert "quality.ipynb: is not extracted yet" in done.stderr


@pytest.mark.parametrize("persona", ["regular", "pedantic"])
def test_zizmor_finds_nothing_in_the_workflow(project: Path, persona: str) -> None:
    """zizmor (GitHub Actions security linter), offline: actions pinned to a commit (the tag
    in a comment), read-only permissions, no persisted credentials, a named job, concurrency."""
    assert cli("ci", "init", cwd=project).returncode == 0
    path = project / ".github" / "workflows" / "mlops.yml"
    done = subprocess.run(
        [str(BIN / "zizmor"), "--offline", "--persona", persona, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No findings to report" in done.stdout + done.stderr
    text = path.read_text()
    assert "uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1  # v7.0.1\n" in text
    assert yaml.safe_load(text)["concurrency"]["cancel-in-progress"] is True
