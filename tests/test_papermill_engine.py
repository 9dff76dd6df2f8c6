"""The papermill engine on real kernels: outputs, reports, errors, parallel steps, clean-up."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
from nbfactory import write_notebook

from jupyter_mlops.artifacts.store import ArtifactStore
from jupyter_mlops.authoring.scan import scan_notebook
from jupyter_mlops.execute.engines.base import StepJob, get_engine
from jupyter_mlops.execute.engines.kernel_pool import KernelPool, LaunchConfig
from jupyter_mlops.execute.engines.papermill import PapermillEngine, user_traceback_text
from jupyter_mlops.execute.engines.worker_pool import TEMPLATE_MODULE
from jupyter_mlops.extract.writer import write_package
from jupyter_mlops.pipeline.model import Pipeline

PACKAGE = "pmdemo"
CELLS: list[str | tuple[str, list[str]]] = [
    ("n_rows = 3\nfactor = 2\nmeet_dir = '.'\nsleep_seconds = 0.0", ["parameters"]),
    "import os\nimport time\nfrom pathlib import Path\n\n"
    "def check(values):\n"
    "    if len(values) > 2:\n"
    "        raise ValueError(f'too many values: {len(values)}')\n"
    "    return values\n\n"
    "def meet(me, other, folder):\n"
    "    Path(folder, me).touch()\n"
    "    deadline = time.time() + 60\n"
    "    while not Path(folder, other).exists():\n"
    "        if time.time() > deadline:\n"
    "            raise TimeoutError(f'{other} never started')\n"
    "        time.sleep(0.02)\n"
    "    return me",
    "%%mlstep load\nrows = list(range(n_rows))\nprint(f'{len(rows)} rows loaded')",
    "%%mlstep double\ndoubled = [r * factor for r in rows]",
    "%%mlstep validate\nchecked = check(doubled)",
    "%%mlstep left\nleft_seen = meet('left', 'right', meet_dir) + str(len(rows))",
    "%%mlstep right\nright_seen = meet('right', 'left', meet_dir) + str(len(rows))",
    "%%mlstep environment\nseen = (os.getcwd(), os.environ.get('JUPYTER_MLOPS_STORE'))",
    "%%mlstep sleeper\nPath(meet_dir, 'sleeping').touch()\ntime.sleep(sleep_seconds)\nwoke = True",
    "%%mlstep summary\nprint(seen, left_seen, right_seen, checked, woke)",
]


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pipeline]:
    """A small extracted pipeline package: its folder and its model."""
    root = tmp_path_factory.mktemp("pm_engine")
    source = write_notebook(root / f"{PACKAGE}.ipynb", CELLS)
    model = scan_notebook(source)
    write_package(model, root / "pipeline")
    return root / "pipeline", model


@pytest.fixture
def engine(kernel_name: str) -> Iterator[PapermillEngine]:
    created = PapermillEngine(2, kernel_name=kernel_name)
    yield created
    created.close()


def make_job(
    pipeline: tuple[Path, Pipeline],
    run_dir: Path,
    step: str,
    params: dict | None = None,
    inputs: dict | None = None,
) -> StepJob:
    folder, model = pipeline
    spec = next(s for s in model.steps if s.name == step)
    store = ArtifactStore(run_dir / "store")
    return StepJob(
        pipeline_dir=folder,
        step=step,
        cell=spec.cell,
        module=f"{PACKAGE}.{step}",
        notebook=folder / "notebooks" / f"{step}.ipynb",
        params=params or {},
        input_paths={name: str(store.path_of(ref.hash)) for name, ref in (inputs or {}).items()},
        outputs=list(spec.outputs),
        store_root=run_dir / "store",
        work_dir=run_dir / "work" / step,
        report_path=run_dir / "reports" / f"{step}.ipynb",
    )


def kernel_children() -> set[int]:
    """Kernel processes started by this test process (directly or not): launched kernels,
    and the kernel templates with the kernels they forked."""
    found = set()
    for child in psutil.Process().children(recursive=True):
        try:
            kernel = any(
                "ipykernel_launcher" in part or TEMPLATE_MODULE in part for part in child.cmdline()
            )
            if kernel and child.status() != psutil.STATUS_ZOMBIE:
                found.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return found


def wait_for(path: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def report_outputs(report: Path) -> list[dict]:
    cells = json.loads(report.read_text(encoding="utf-8"))["cells"]
    return [output for cell in cells for output in cell.get("outputs", [])]


def test_is_the_registered_papermill_engine() -> None:
    engine = get_engine("papermill", 3)
    assert isinstance(engine, PapermillEngine)
    assert engine.name == "papermill"
    assert engine.workers == 3
    engine.close()


def test_steps_store_outputs_that_load_back_and_keep_their_report(
    engine: PapermillEngine, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    engine.prepare(2, pipeline_dir=pipeline[0], store_root=tmp_path / "store")
    store = ArtifactStore(tmp_path / "store")

    loaded = engine.run(make_job(pipeline, tmp_path, "load", {"n_rows": 4}))
    assert loaded.ok, loaded.traceback
    assert set(loaded.outputs) == {"rows"}
    assert store.get(loaded.outputs["rows"]) == [0, 1, 2, 3]
    assert loaded.seconds > 0

    doubled = engine.run(
        make_job(pipeline, tmp_path, "double", {"factor": 10}, {"rows": loaded.outputs["rows"]})
    )
    assert doubled.ok, doubled.traceback
    assert store.get(doubled.outputs["doubled"]) == [0, 10, 20, 30]

    assert loaded.report == (tmp_path / "reports" / "load.ipynb").resolve()
    streams = [o for o in report_outputs(loaded.report) if o["output_type"] == "stream"]
    texts = ["".join(o["text"]) for o in streams]
    assert "4 rows loaded\n" in texts
    cells = json.loads(loaded.report.read_text(encoding="utf-8"))["cells"]
    injected = [c for c in cells if "injected-parameters" in c["metadata"].get("tags", [])]
    assert "n_rows = 4" in "".join(injected[0]["source"])
    assert all(c["execution_count"] for c in cells if c["cell_type"] == "code")


def test_kernel_runs_in_the_pipeline_folder_with_the_run_store(
    engine: PapermillEngine, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    job = make_job(pipeline, tmp_path, "environment")
    outcome = engine.run(job)  # no prepare: the kernel starts on demand
    assert outcome.ok, outcome.traceback
    cwd, store_env = ArtifactStore(tmp_path / "store").get(outcome.outputs["seen"])
    assert Path(cwd) == pipeline[0].resolve()
    assert Path(store_env) == (tmp_path / "store").resolve()
    assert not (tmp_path / "work" / "environment" / ".store").exists()


def test_a_failing_step_gives_the_users_traceback_and_keeps_the_report(
    engine: PapermillEngine, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    store = ArtifactStore(tmp_path / "store")
    doubled = store.put("doubled", [1, 2, 3])

    outcome = engine.run(make_job(pipeline, tmp_path, "validate", inputs={"doubled": doubled}))

    assert not outcome.ok
    assert outcome.error == "ValueError: too many values: 3"
    assert outcome.outputs == {}
    trace = outcome.traceback or ""
    assert trace.startswith("Traceback (most recent call last):")
    assert 'raise ValueError(f"too many values: {len(values)}")' in trace
    assert f"{PACKAGE}/common.py" in trace and f"{PACKAGE}/validate.py" in trace
    assert trace.rstrip().endswith("ValueError: too many values: 3")
    for internal in ("papermill", "nbclient", "site-packages", "Cell In[", "\x1b["):
        assert internal not in trace.replace(str(pipeline[0]), "<pipeline>")
    assert outcome.report is not None and outcome.report.exists()
    errors = [o for o in report_outputs(outcome.report) if o["output_type"] == "error"]
    assert errors and errors[0]["ename"] == "ValueError"


def test_a_step_that_saves_no_declared_output_fails(
    engine: PapermillEngine, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    job = make_job(pipeline, tmp_path, "load")
    job = StepJob(**{**job.__dict__, "outputs": ["rows", "extra"]})
    outcome = engine.run(job)
    assert outcome.error == "the step did not save its output(s) extra"
    assert outcome.report is not None and outcome.report.exists()


def test_an_unknown_kernel_is_a_step_error(pipeline: tuple[Path, Pipeline], tmp_path: Path) -> None:
    engine = PapermillEngine(1, kernel_name="no-such-kernel")
    try:
        outcome = engine.run(make_job(pipeline, tmp_path, "load"))
    finally:
        engine.close()
    assert outcome.error is not None
    assert outcome.error.startswith("kernel 'no-such-kernel' failed to start: NoSuchKernel")


def test_two_steps_run_at_the_same_time_from_two_threads(
    engine: PapermillEngine, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    store = ArtifactStore(tmp_path / "store")
    rows = store.put("rows", [1, 2])
    meet_dir = tmp_path / "meet"
    meet_dir.mkdir()
    engine.prepare(2, pipeline_dir=pipeline[0], store_root=tmp_path / "store")
    jobs = [
        make_job(pipeline, tmp_path, side, {"meet_dir": str(meet_dir)}, {"rows": rows})
        for side in ("left", "right")
    ]
    # Each step waits until the other one has started: they only finish when run in parallel.
    with ThreadPoolExecutor(2) as pool:
        left, right = pool.map(engine.run, jobs)
    assert left.ok and right.ok, (left.traceback, right.traceback)
    assert store.get(left.outputs["left_seen"]) == "left2"
    assert store.get(right.outputs["right_seen"]) == "right2"


def test_close_stops_every_kernel_it_started(
    kernel_name: str, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    before = kernel_children()
    engine = PapermillEngine(3, kernel_name=kernel_name)
    engine.prepare(5, pipeline_dir=pipeline[0], store_root=tmp_path / "store")
    assert engine.run(make_job(pipeline, tmp_path, "load")).ok
    store = ArtifactStore(tmp_path / "store")
    failed = engine.run(
        make_job(pipeline, tmp_path, "validate", inputs={"doubled": store.put("d", [1, 2, 3])})
    )
    assert not failed.ok
    assert kernel_children() - before  # warm kernels wait for the steps still expected
    engine.close()
    assert kernel_children() - before == set()
    assert engine.run(make_job(pipeline, tmp_path, "load")).error == "the kernel pool is closed"
    engine.prepare(1, pipeline_dir=pipeline[0], store_root=tmp_path / "store")  # a new run
    assert engine.run(make_job(pipeline, tmp_path, "load")).ok
    engine.close()
    assert kernel_children() - before == set()


def test_close_while_a_step_runs_ends_it_and_its_kernel(
    kernel_name: str, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    before = kernel_children()
    engine = PapermillEngine(2, kernel_name=kernel_name)
    engine.prepare(1, pipeline_dir=pipeline[0], store_root=tmp_path / "store")
    job = make_job(pipeline, tmp_path, "sleeper", {"meet_dir": str(tmp_path), "sleep_seconds": 600})
    outcomes = []
    worker = threading.Thread(target=lambda: outcomes.append(engine.run(job)))
    worker.start()
    wait_for(tmp_path / "sleeping")
    engine.close()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert outcomes[0].error and "Kernel died" in outcomes[0].error
    assert kernel_children() - before == set()


# As in `jupyter mlops run`: the step runs in a worker thread while the main thread waits, and
# Ctrl-C is a real SIGINT. (Running the step in the main thread would hand the signal to
# nbclient's own loop handler, which shuts the kernel down under the cell instead.)
INTERRUPTED_RUN = """
import faulthandler, json, os, signal, sys, threading, time
from pathlib import Path
from jupyter_mlops.execute.engines.base import StepJob
from jupyter_mlops.execute.engines.papermill import PapermillEngine

faulthandler.dump_traceback_later(90, exit=False)  # where it hangs, should it ever
data = json.loads(sys.argv[1])
job = StepJob(**{k: Path(v) if k in PATHS else v for k, v in data.items()})
engine = PapermillEngine(2, kernel_name=sys.argv[2])
engine.prepare(3, pipeline_dir=job.pipeline_dir, store_root=job.store_root)
pids = []

def interrupt():
    while not Path(job.params["meet_dir"], "sleeping").exists():
        time.sleep(0.02)
    pids.extend(engine._pool.kernel_pids())
    os.kill(os.getpid(), signal.SIGINT)

threading.Thread(target=interrupt, daemon=True).start()
step = threading.Thread(target=engine.run, args=(job,), daemon=True)
step.start()
try:
    while step.is_alive():
        step.join(0.1)
    print(json.dumps({"interrupted": False}))
except KeyboardInterrupt:
    engine.close()
    step.join(60)
    print(json.dumps({"interrupted": True, "pids": pids, "left": engine._pool.kernel_pids()}))
"""


def test_keyboard_interrupt_then_close_leaves_no_kernel(
    kernel_name: str, pipeline: tuple[Path, Pipeline], tmp_path: Path
) -> None:
    job = make_job(pipeline, tmp_path, "sleeper", {"meet_dir": str(tmp_path), "sleep_seconds": 600})
    paths = {k for k, v in job.__dict__.items() if isinstance(v, Path)}
    data = {k: str(v) if isinstance(v, Path) else v for k, v in job.__dict__.items()}
    script = f"PATHS = {sorted(paths)!r}\n" + textwrap.dedent(INTERRUPTED_RUN)
    try:
        done = subprocess.run(
            [sys.executable, "-c", script, json.dumps(data), kernel_name],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired as expired:
        stderr = (expired.stderr or b"").decode(errors="replace")  # bytes, whatever text= says
        raise AssertionError(f"the interrupted run hung; its stderr:\n{stderr}") from None
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["interrupted"] and result["left"] == []
    assert len(result["pids"]) >= 2  # the running step's kernel and a warm one
    assert not any(psutil.pid_exists(pid) for pid in result["pids"])


def test_pool_hands_each_kernel_out_once(kernel_name: str, tmp_path: Path) -> None:
    config = LaunchConfig.of(kernel_name, cwd=tmp_path, env={"JM_TEST": "1"})
    with KernelPool() as pool:
        pool.fill(config, 1)
        first = pool.take(config, keep_warm=1)  # starts a replacement at once
        second = pool.take(config)
        assert first is not second
        assert first.has_kernel and second.has_kernel
        assert len(pool.kernel_pids()) == 2
        stopping = pool.discard(first)
        assert stopping is not None
        stopping.result(timeout=30)
        assert not first.has_kernel
        assert len(pool.kernel_pids()) == 1
    assert pool.kernel_pids() == []


def test_kernels_are_forked_from_one_template_that_imported_the_preload(
    kernel_name: str, tmp_path: Path
) -> None:
    config = LaunchConfig.of(kernel_name, cwd=tmp_path)
    with KernelPool(preload=["json"]) as pool:
        pool.fill(config, 2)
        first, second = pool.take(config), pool.take(config)
        parents = {psutil.Process(pid).ppid() for pid in pool.kernel_pids()}
        assert len(parents) == 1 and len(pool.kernel_pids()) == 2
        template = psutil.Process(parents.pop()).cmdline()
        assert TEMPLATE_MODULE in template and "json" in template[-1]  # its preload list
        assert first.provisioner.process.pid != second.provisioner.process.pid  # type: ignore[union-attr]
    assert pool.kernel_pids() == []


def test_user_traceback_keeps_pipeline_frames(tmp_path: Path) -> None:
    step = tmp_path / "pkg" / "step.py"
    parts = [
        "\x1b[31m" + "-" * 75 + "\x1b[39m",
        "\x1b[31mKeyError\x1b[39m                    Traceback (most recent call last)",
        "Cell \x1b[32mIn[4], line 1\x1b[39m\n----> 1 out = step(x=x)\n",
        f"File \x1b[32m{step}:3\x1b[39m, in step(x)\n----> 3     return x['a']\n",
        "File /venv/lib/python3.11/site-packages/lib.py:9, in get()\n----> 9 raise\n",
        "\x1b[31mKeyError\x1b[39m: 'a'",
    ]
    text = user_traceback_text(parts, tmp_path)
    assert text == (
        "Traceback (most recent call last):\n"
        f"File {step}:3, in step(x)\n----> 3     return x['a']\n\nKeyError: 'a'"
    )
    # No frame in the pipeline: every frame stays, so the failure can still be located.
    assert "lib.py:9" in user_traceback_text(parts, tmp_path / "elsewhere")
    assert user_traceback_text(["\x1b[31mboom\x1b[39m"], tmp_path) == "boom"
