"""``run --executor dask``: a real scheduler, two workers and an S3 store (moto's server)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from dask_cluster import DaskCluster, free_port
from nbfactory import write_notebook
from quality_pipeline import write_quality_notebook

from jupyter_mlops import api
from jupyter_mlops.execute.runner import RunOptions, run_pipeline

BIN = Path(sys.executable).parent
WAIT_SECONDS = 120


def extracted(notebook: Path) -> Path:
    return api.extract(notebook).folder


def run(folder: Path, **options: Any) -> Any:
    return run_pipeline(folder, RunOptions(engine="inprocess", track=False, **options))


def cli_run(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "jupyter-mlops"), "run", str(folder), "--engine", "inprocess", "--no-track",
         "--json", *args],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip


def stored_files(store: Path) -> dict[str, str]:
    """Each object and meta file of a local store → the sha256 of its bytes."""
    return {
        path.name: hashlib.sha256(path.read_bytes()).hexdigest()
        for path in (store / "objects").glob("??/*")
        if path.is_file()
    }


def shared_files(url: str) -> dict[str, str]:
    import fsspec

    fs, root = fsspec.core.url_to_fs(url)
    return {
        path.rsplit("/", 1)[1]: hashlib.sha256(fs.cat_file(path)).hexdigest()
        for path in fs.find(f"{root}/objects")
    }


def test_same_artifacts_as_locally_and_a_second_machine_reuses_every_step(
    tmp_path: Path, two_workers: DaskCluster, bucket: str
) -> None:
    folder = extracted(write_quality_notebook(tmp_path / "source"))
    copies = {name: tmp_path / name for name in ("local", "dask", "other_machine")}
    for copy in copies.values():
        shutil.copytree(folder.parent.parent, copy)
    pipelines = {name: copy / "pipelines" / "quality" for name, copy in copies.items()}

    local = run(pipelines["local"], executor="local")
    dask = run(pipelines["dask"], executor="dask", scheduler=two_workers.address, store=bucket)

    assert local.status == dask.status == "succeeded", (local.error, dask.error)
    assert {s.status for s in dask.steps.values()} == {"ran"}
    for name, step in local.steps.items():
        assert {v: r.hash for v, r in step.outputs.items()} == {
            v: r.hash for v, r in dask.steps[name].outputs.items()
        }
    assert dask.metrics == local.metrics
    local_files = stored_files(pipelines["local"] / ".mlops")
    assert stored_files(pipelines["dask"] / ".mlops") == local_files
    outputs = {r.hash for s in dask.steps.values() for r in s.outputs.values()}
    in_bucket = shared_files(bucket)
    assert {name.partition(".")[0] for name in in_bucket} == outputs
    assert all(local_files[name] == digest for name, digest in in_bucket.items())

    again = run(
        pipelines["other_machine"], executor="dask", scheduler=two_workers.address, store=bucket
    )
    assert again.status == "succeeded", again.error
    assert {s.status for s in again.steps.values()} == {"cached"}
    assert again.metrics == local.metrics
    assert stored_files(pipelines["other_machine"] / ".mlops").items() <= local_files.items()


WAITING_STEP = (
    "%%mlstep slow\n"
    "attempt = len(list(pathlib.Path(flags).glob('started-*')))\n"
    "(pathlib.Path(flags) / f'started-{attempt}').write_text(str(os.getpid()))\n"
    "while attempt == 0 and not (pathlib.Path(flags) / 'go').exists():\n"
    "    time.sleep(0.05)\n"
    "value = 41 + (attempt > 0)\n"
)


def waiting_pipeline(tmp_path: Path) -> tuple[Path, Path]:
    flags = tmp_path / "flags"
    flags.mkdir()
    cells = [
        "import os\nimport pathlib\nimport time\n",
        (f"flags = {str(flags)!r}", ["parameters"]),
        WAITING_STEP,
        "%%mlstep after\nresult = value * 2\n",
    ]
    return extracted(write_notebook(tmp_path / "slow.ipynb", cells)), flags


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def worker_running(cluster: DaskCluster, step: str) -> str:
    """The address of the worker running ``step``'s task."""
    from distributed import Client

    with Client(cluster.address, timeout="20s") as client:
        for address, keys in client.processing().items():
            if any(str(key).startswith(f"mlops-{step}-") for key in keys):
                return str(address)
    raise AssertionError(f"no worker is running {step}")


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_worker_killed_mid_step_is_replaced_and_the_run_succeeds(
    tmp_path: Path, two_workers: DaskCluster, bucket: str
) -> None:
    folder, flags = waiting_pipeline(tmp_path)
    command = [str(BIN / "jupyter-mlops"), "run", str(folder), "--engine", "inprocess",
               "--no-track", "--json", "--executor", "dask", "--scheduler", two_workers.address,
               "--store", bucket]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as cli:
        try:
            wait_for(lambda: (flags / "started-0").exists(), "the step to start")
            step_pid = int((flags / "started-0").read_text())
            victim = two_workers.worker_pids()[worker_running(two_workers, "slow")]
            os.kill(victim, signal.SIGKILL)
            stdout, stderr = cli.communicate(timeout=WAIT_SECONDS)
        finally:
            if cli.poll() is None:
                cli.kill()
    assert cli.returncode == 0, stderr
    summary = json.loads(stdout)
    assert {s["status"] for s in summary["steps"].values()} == {"ran"}
    assert (flags / "started-1").exists()  # the second attempt, on the other worker
    wait_for(lambda: gone(step_pid), "the killed worker's step process to end")
    assert len(two_workers.alive_workers()) == 1


FAILING_STEP = (
    "%%mlstep fails\n"
    "with open(counter, 'a') as file:\n"
    "    file.write('attempt\\n')\n"
    "value = int('not a number')\n"
)


def test_a_failure_in_user_code_fails_the_run_once_with_its_traceback(
    tmp_path: Path, two_workers: DaskCluster, bucket: str
) -> None:
    counter = tmp_path / "attempts.txt"
    cells = [(f"counter = {str(counter)!r}", ["parameters"]), FAILING_STEP]
    folder = extracted(write_notebook(tmp_path / "fails.ipynb", cells))
    where = ("--executor", "dask", "--scheduler", two_workers.address, "--store", bucket)
    done = cli_run(folder, *where)
    assert done.returncode == 1, done.stderr
    summary = json.loads(done.stdout)
    assert summary["status"] == "failed"
    assert "ValueError: invalid literal for int()" in summary["error"]
    assert counter.read_text() == "attempt\n"  # not retried

    shown = subprocess.run(
        [str(BIN / "jupyter-mlops"), "run", str(folder), "--engine", "inprocess", "--no-track",
         *where],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert shown.returncode == 1
    step_file = folder / folder.name / "fails.py"
    assert f'File "{step_file}", line' in shown.stderr  # the user's traceback, named here
    assert 'value = int("not a number")' in shown.stderr
    assert counter.read_text() == "attempt\nattempt\n"  # once per run


def test_step_resources_go_to_the_scheduler(tmp_path: Path, two_workers: DaskCluster) -> None:
    cells = ["%%mlstep small\nx = 1\n", "%%mlstep big\ny = 2\n"]
    folder = extracted(write_notebook(tmp_path / "sized.ipynb", cells))
    with open(folder / "pipeline.yaml", "a", encoding="utf-8") as file:
        file.write("resources:\n  small: cpu=2,memory=1GB\n  big: {cpu: 3}\n")
    result = run(folder, executor="dask", scheduler=two_workers.address)
    assert result.steps["small"].status == "ran", result.steps["small"].error
    assert result.steps["big"].status == "failed"
    assert result.steps["big"].error == (
        "no worker of the cluster offers resources cpu=3 "
        "(workers offer: cpu=2,memory=4e+09; cpu=2,memory=4e+09)"
    )


def test_a_local_cluster_without_scheduler_or_store(tmp_path: Path) -> None:
    cells = [("base = 3", ["parameters"]), "%%mlstep a\nx = base\n", "%%mlstep b\ny = x + 1\n"]
    folder = extracted(write_notebook(tmp_path / "local.ipynb", cells))
    done = cli_run(folder, "--executor", "dask", "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert {s["status"] for s in json.loads(done.stdout)["steps"].values()} == {"ran"}
    assert "ran" in done.stderr  # the progress lines, as locally


def test_bad_scheduler_and_store_urls_are_named(tmp_path: Path, s3: object) -> None:
    folder = extracted(write_notebook(tmp_path / "tiny.ipynb", ["%%mlstep a\nx = 1\n"]))
    unreachable = f"tcp://127.0.0.1:{free_port()}"
    refused = cli_run(folder, "--executor", "dask", "--scheduler", unreachable)
    assert refused.returncode == 2
    assert f"--scheduler {unreachable}: cannot connect" in refused.stderr

    for url, reason in [
        ("nope://bucket/x", "--store nope://bucket/x: Protocol not known: nope"),
        ("s3://no-such-bucket/x", "--store s3://no-such-bucket/x cannot be used"),
    ]:
        done = cli_run(folder, "--executor", "dask", "--store", url)
        assert done.returncode == 2, done.stderr
        assert reason in done.stderr
        assert not (folder / ".mlops" / "cache").exists()  # nothing ran, nothing recorded

    local = cli_run(folder, "--scheduler", unreachable)
    assert local.returncode == 2
    assert "--scheduler needs --executor dask" in local.stderr


def test_ctrl_c_cancels_the_running_step_and_records_nothing(
    tmp_path: Path, two_workers: DaskCluster
) -> None:
    folder, flags = waiting_pipeline(tmp_path)
    command = [str(BIN / "jupyter-mlops"), "run", str(folder), "--engine", "inprocess",
               "--no-track", "--executor", "dask", "--scheduler", two_workers.address]  # fmt: skip
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as cli:
        try:
            wait_for(lambda: (flags / "started-0").exists(), "the step to start")
            step_pid = int((flags / "started-0").read_text())
            cli.send_signal(signal.SIGINT)
            _, stderr = cli.communicate(timeout=WAIT_SECONDS)
        finally:
            if cli.poll() is None:
                cli.kill()
                (flags / "go").write_text("")  # the step ends, its worker is free for later tests
    assert cli.returncode == 130, stderr
    assert stderr.endswith("interrupted; completed steps are cached\n")
    wait_for(lambda: gone(step_pid), "the cancelled step's process to end on its worker")
    assert not (folder / ".mlops" / "cache" / "slow").exists()
    assert len(two_workers.alive_workers()) == 2
    (flags / "go").write_text("")
    again = run(folder, executor="dask", scheduler=two_workers.address)
    assert {s.status for s in again.steps.values()} == {"ran"}  # the workers are free


def recorded(uri: str, result: Any) -> dict[str, Any]:
    """Each step's MLflow run as (params, metrics but its duration, output hash tags), the
    run's metrics and whether a model version was registered."""
    from mlflow_fixtures import client_for

    client = client_for(uri)
    steps = {}
    for name, step in result.steps.items():
        data = client.get_run(step.run_id).data
        tags = {k: v for k, v in data.tags.items() if k.startswith("mlops.output")}
        metrics = {k: v for k, v in data.metrics.items() if k != "duration_seconds"}
        steps[name] = (data.params, metrics, tags)
    return {"steps": steps, "metrics": result.metrics, "model": bool(result.model_version)}


def test_tracked_runs_record_the_same_as_locally(
    tmp_path: Path, two_workers: DaskCluster, bucket: str, tracking_uri: str
) -> None:
    folder = extracted(write_quality_notebook(tmp_path / "source"))
    copies = {name: tmp_path / name for name in ("local", "dask")}
    for copy in copies.values():
        shutil.copytree(folder.parent.parent, copy)
    quality = {name: copy / "pipelines" / "quality" for name, copy in copies.items()}
    tracked = {"engine": "inprocess", "tracking_uri": tracking_uri}
    local = run_pipeline(quality["local"], RunOptions(**tracked))  # type: ignore[arg-type]
    dask = run_pipeline(
        quality["dask"],
        RunOptions(executor="dask", scheduler=two_workers.address, store=bucket, **tracked),  # type: ignore[arg-type]
    )
    assert local.status == dask.status == "succeeded", (local.error, dask.error)
    assert local.model_version and dask.model_version  # both registered a version
    assert recorded(tracking_uri, dask) == recorded(tracking_uri, local)
