"""%%mlstep and %mlops: in an InteractiveShell, in a real ipykernel, and under papermill / nbval."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from jupyter_mlops.jupyter.magics import MlopsMagics, StepCellFailed
from jupyter_mlops.jupyter.session import StepSession, summarize_value

NOTEBOOKS = Path(__file__).parent / "notebooks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEAVY_MODULES = ("mlflow", "sklearn", "pandas", "pandera", "papermill", "nbformat", "numpy")


# --------------------------------------------------------------------------- InteractiveShell


@pytest.fixture(scope="module")
def ipython() -> InteractiveShell:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_mlops")
    return shell


@pytest.fixture
def shell(ipython: InteractiveShell) -> Iterator[InteractiveShell]:
    magics(ipython).session.clear()
    yield ipython


def magics(shell: InteractiveShell) -> MlopsMagics:
    instance = shell.magics_manager.registry["MlopsMagics"]
    assert isinstance(instance, MlopsMagics)
    return instance


def session(shell: InteractiveShell) -> StepSession:
    return magics(shell).session


def run(shell: InteractiveShell, code: str):  # -> ExecutionResult
    return shell.run_cell(code, store_history=True)


def test_last_expression_is_displayed_as_the_cells_output(shell, capsys):
    count = shell.execution_count
    result = run(shell, "%%mlstep load\nvalues = [1, 2, 3]\nsum(values) * 7")
    assert result.success
    out = capsys.readouterr().out
    assert f"Out[{count}]: 42" in out
    assert shell.user_ns[f"_{count}"] == 42
    assert shell.user_ns["_"] == 42


def test_one_execution_count_and_one_history_entry_per_step_cell(shell):
    count = shell.execution_count
    run(shell, "%%mlstep load\nvalues = [1, 2]\nvalues")
    assert shell.execution_count == count + 1
    assert shell.user_ns["In"][count].startswith("get_ipython().run_cell_magic('mlstep'")
    assert shell.history_manager.output_hist[count] == [1, 2]


def test_magics_inside_the_body_run_and_their_names_are_recorded(shell, capsys):
    result = run(shell, "%%mlstep timed\n%time x = 41 + 1\ny = x")
    assert result.success
    assert shell.user_ns["y"] == 42
    assert "Wall time" in capsys.readouterr().out
    record = session(shell).get("timed")
    assert record is not None
    assert record.writes == ["x", "y"]


def test_records_reads_writes_duration_state_and_output_summaries(shell):
    import numpy as np
    import pandas as pd

    shell.user_ns["raw"] = [5, 6, 7]
    code = (
        "df = pd.DataFrame({'a': raw, 'b': [0.5, 1.5, 2.5]})\n"
        "arr = np.zeros((2, 3), dtype='float32')\n"
        "n = len(raw)\n"
        "print(n)"
    )
    shell.user_ns.update(pd=pd, np=np)
    result = run(shell, "%%mlstep prepare\n" + code)
    assert result.success
    record = session(shell).get("prepare")
    assert record is not None
    assert record.state == "ok"
    assert record.code.rstrip("\n") == code
    assert record.reads == ["pd", "raw", "np"]  # builtins (len, print) are left out
    assert record.writes == ["df", "arr", "n"]
    assert record.duration > 0
    described = {o.name: o.describe() for o in record.outputs}
    assert described == {
        "df": "df: DataFrame (3, 2) [a: int64, b: float64]",
        "arr": "arr: ndarray (2, 3) float32",
        "n": "n: int",
    }


def test_explicit_inputs_and_outputs_override_analysis(shell):
    shell.user_ns["a"] = 1
    run(shell, "%%mlstep first --inputs a --outputs b\nb = a + 1\nscratch = 0")
    record = session(shell).get("first")
    assert record is not None
    assert (record.reads, record.writes) == (["a"], ["b"])
    assert [o.name for o in record.outputs] == ["b"]


def test_failing_body_fails_the_cell_with_the_user_traceback_once(shell, capsys):
    code = "%%mlstep train\ndef fit():\n    raise ValueError('cannot fit')\n\nmodel = fit()"
    result = run(shell, code)
    assert not result.success
    error = result.error_in_exec
    assert isinstance(error, StepCellFailed)
    assert error.step == "train"
    assert error._render_traceback_() == ["step 'train' failed (see the traceback above)"]
    assert isinstance(error.__cause__, ValueError)
    # %debug after the failure opens the frame that raised, not the magic's.
    tb = error.__traceback__
    while tb.tb_next is not None:
        tb = tb.tb_next
    assert tb.tb_frame.f_code.co_name == "fit"
    shown = capsys.readouterr()
    text = ANSI.sub("", shown.out + shown.err)
    assert text.count("Traceback (most recent call last)") == 1
    assert text.count("ValueError: cannot fit") == 1
    assert text.rstrip().endswith(
        "ValueError: cannot fit\nstep 'train' failed (see the traceback above)"
    )
    assert text.count("step 'train' failed (see the traceback above)") == 1
    assert "StepCellFailed" not in text
    record = session(shell).get("train")
    assert record is not None
    assert (record.state, record.error, record.outputs) == ("failed", "ValueError: cannot fit", [])


def test_syntax_error_in_body_is_reported_like_a_plain_cell(shell, capsys):
    result = run(shell, "%%mlstep broken\nx = (1,\n")
    assert not result.success
    assert isinstance(result.error_in_exec, StepCellFailed)
    assert isinstance(result.error_in_exec.__cause__, SyntaxError)
    assert "SyntaxError" in capsys.readouterr().out
    record = session(shell).get("broken")
    assert record is not None
    assert record.state == "failed"
    assert record.error is not None and record.error.startswith("SyntaxError")


def test_top_level_await_works_where_no_event_loop_runs(shell):
    result = run(shell, "%%mlstep wait\nimport asyncio\nawait asyncio.sleep(0)\nwaited = 1")
    assert result.success
    assert shell.user_ns["waited"] == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("", "a step needs a name"),
        ("--inputs a", "a step needs a name"),
        ("1train", "step name '1train' is not a valid Python identifier"),
        ("common", "step name 'common' is reserved"),
        ("train --epochs 3", "unknown option '--epochs'"),
        ("train --model", "option --model needs a variable name"),
        ("train extra", "unexpected argument 'extra'"),
        ("train --inputs a a", "--inputs lists 'a' twice"),
        ("train 'unclosed", "cannot parse"),
    ],
)
def test_bad_step_line_prints_one_line_and_does_not_run_the_body(shell, capsys, line, message):
    shell.user_ns.pop("body_ran", None)
    result = run(shell, f"%%mlstep {line}\nbody_ran = True")
    assert isinstance(result.error_in_exec, UsageError)
    assert "body_ran" not in shell.user_ns
    assert session(shell).steps == []
    shown = capsys.readouterr()
    lines = (shown.out + shown.err).strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("UsageError: ")
    assert message in lines[0]


def test_mlops_steps_lists_steps_as_text_and_html(shell):
    run(shell, "%%mlstep load\nrows = [1, 2, 3]")
    run(shell, "%%mlstep train\nmodel = len(rows)\nraise RuntimeError('no')")
    with capture_output() as captured:
        shell.run_line_magic("mlops", "steps")
    [bundle] = [o.data for o in captured.outputs]
    text = bundle["text/plain"]
    lines = text.splitlines()
    assert lines[0].split() == ["step", "state", "duration", "reads", "→", "writes", "outputs"]
    assert lines[2].split()[:2] == ["load", "ok"]
    assert lines[2].endswith("- → rows        rows: list len=3")
    assert lines[3].split()[:2] == ["train", "failed"]
    assert "rows → model" in lines[3]
    assert lines[3].endswith("RuntimeError: no")
    html = bundle["text/html"]
    assert html.startswith('<table class="jupyter-mlops-steps">')
    assert "<td>rows → model</td>" in html


def test_mlops_steps_before_any_step(shell):
    with capture_output() as captured:
        shell.run_line_magic("mlops", "steps")
    assert "No steps run in this session yet" in captured.outputs[0].data["text/plain"]


def test_mlops_dag_shows_text_and_svg(shell):
    run(shell, "%%mlstep load\nrows = [1, 2, 3]")
    run(shell, "%%mlstep features\nfeats = [r * 2 for r in rows]")
    run(shell, "%%mlstep labels\nys = [r > 1 for r in rows]")
    run(shell, "%%mlstep train\nmodel = list(zip(feats, ys))")
    with capture_output() as captured:
        shell.run_line_magic("mlops", "dag")
    [bundle] = [o.data for o in captured.outputs]
    assert bundle["text/plain"].splitlines() == [
        "load",
        "features  ← load",
        "labels    ← load",
        "train     ← features, labels",
        "(4 steps, 4 dependencies)",
    ]
    assert bundle["image/svg+xml"].startswith("<svg ")
    assert bundle["image/svg+xml"].count('class="edge"') == 4


def test_rerun_updates_a_step_in_place_and_dependencies_follow_the_latest_code(shell):
    run(shell, "%%mlstep load\nrows = [1]")
    run(shell, "%%mlstep train\nmodel = rows")
    run(shell, "%%mlstep load\nrows = [2]\nextra = 1")
    run(shell, "%%mlstep train\nmodel = extra")
    records = session(shell).steps
    assert [r.name for r in records] == ["load", "train"]
    assert [r.runs for r in records] == [2, 2]
    assert session(shell).dependencies() == [("load", []), ("train", ["load"])]


def test_mlops_without_subcommand_prints_usage(shell, capsys):
    shell.run_line_magic("mlops", "")
    out = capsys.readouterr().out
    assert out.startswith("usage: %mlops steps | dag")
    assert len(out.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("frobnicate", "unknown subcommand 'frobnicate'; usage: %mlops steps | dag"),
        ("steps now", "%mlops steps takes no arguments (got 'now')"),
        ("dag --svg", "%mlops dag takes no arguments (got '--svg')"),
    ],
)
def test_mlops_bad_subcommand_is_a_usage_error(shell, line, message):
    with pytest.raises(UsageError) as info:
        shell.run_line_magic("mlops", line)
    assert message in str(info.value)


def test_unload_and_reload_extension():
    shell = InteractiveShell.instance()
    shell.run_line_magic("unload_ext", "jupyter_mlops")
    assert "mlstep" not in shell.magics_manager.magics["cell"]
    assert "mlops" not in shell.magics_manager.magics["line"]
    shell.run_line_magic("load_ext", "jupyter_mlops")
    assert "mlstep" in shell.magics_manager.magics["cell"]
    assert magics(shell).session.steps == []


# --------------------------------------------------------------------------- session (core)


class _RaisingShape:
    @property
    def shape(self):
        raise RuntimeError("lazy frame")

    def __len__(self) -> int:
        raise TypeError("no len")


class _ColumnarFrame:
    """The shape of a polars DataFrame: dtypes and columns are lists."""

    shape = (4, 2)
    columns = ["id", "score"]
    dtypes = ["Int64", "Float64"]


def test_summaries_never_raise_and_need_no_library_import():
    assert summarize_value("f", _RaisingShape()).describe() == "f: _RaisingShape"
    assert summarize_value("c", dict).describe() == "c: type"
    assert summarize_value("p", _ColumnarFrame()).describe() == (
        "p: _ColumnarFrame (4, 2) [id: Int64, score: Float64]"
    )
    assert summarize_value("s", "abc").describe() == "s: str len=3"
    assert summarize_value("d", {"a": 1}).describe() == "d: dict len=1"


def test_summary_of_wide_frame_lists_first_columns_only():
    import pandas as pd

    frame = pd.DataFrame({f"c{i}": [i] for i in range(12)})
    summary = summarize_value("wide", frame)
    assert summary.shape == (1, 12)
    assert summary.more_columns == 4
    assert summary.describe().endswith("c7: int64, … 4 more]")
    assert summarize_value("s", frame["c0"]).describe() == "s: Series (1,) int64"
    assert summary.to_json()["dtypes"]["c0"] == "int64"


# --------------------------------------------------------------------------- fresh processes


def test_load_ext_and_magics_import_nothing_heavy():
    script = f"""
import sys
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
shell.run_line_magic("load_ext", "jupyter_mlops")
after_load = sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)
shell.run_cell("%%mlstep load\\nrows = [1, 2]\\nrows", store_history=True)
shell.run_cell("%mlops steps")
shell.run_cell("%mlops dag")
after_use = sorted(m for m in {HEAVY_MODULES!r} if m in sys.modules)
print("RESULT", {{"load": after_load, "use": after_use}})
"""
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    result = proc.stdout.split("RESULT ", 1)[1]
    assert result.strip() == "{'load': [], 'use': []}"


def test_import_jupyter_mlops_does_not_import_ipython():
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, jupyter_mlops; print('IPython' in sys.modules)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert proc.stdout.strip() == "False"


# --------------------------------------------------------------------------- real ipykernel


def test_kernelspec_python3_runs_this_venv():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec("python3")
    # jupyter_client launches "python" as the interpreter running it (this venv's python);
    # `make kernel` writes this venv's interpreter by absolute path.
    interpreter = spec.argv[0]
    assert interpreter == "python" or Path(interpreter).parent == Path(sys.executable).parent


@pytest.fixture(scope="module")
def kernel():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        yield client
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def execute(client, code: str) -> tuple[dict, list[tuple[str, dict]]]:
    """Run code; return the execute_reply content and the iopub outputs of this request."""
    msg_id = client.execute(code)
    outputs = []
    while True:
        msg = client.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind = msg["msg_type"]
        if kind == "status" and msg["content"]["execution_state"] == "idle":
            break
        if kind in ("stream", "execute_result", "display_data", "error"):
            outputs.append((kind, msg["content"]))
    reply = client.get_shell_msg(timeout=60)
    while reply["parent_header"].get("msg_id") != msg_id:
        reply = client.get_shell_msg(timeout=60)
    return reply["content"], outputs


def test_real_kernel_step_cells(kernel):
    reply, outputs = execute(kernel, "import sys; sys.executable")
    kernel_python = Path(eval(outputs[0][1]["data"]["text/plain"]))
    assert kernel_python.parent == Path(sys.executable).parent  # this venv's interpreter
    reply, outputs = execute(kernel, "%load_ext jupyter_mlops")
    assert reply["status"] == "ok"

    reply, outputs = execute(kernel, "%%mlstep load\nrows = [1, 2]\n%time n = len(rows)\nn * 21")
    assert reply["status"] == "ok"
    kinds = [kind for kind, _ in outputs]
    assert kinds == ["stream", "execute_result"]
    assert "Wall time" in outputs[0][1]["text"]
    assert outputs[1][1]["data"]["text/plain"] == "42"
    assert outputs[1][1]["execution_count"] == reply["execution_count"]

    reply, outputs = execute(kernel, "%%mlstep train\nmodel = rows[5]")
    assert reply["status"] == "error"
    errors = [content for kind, content in outputs if kind == "error"]
    assert [e["ename"] for e in errors] == ["IndexError", "StepCellFailed"]
    user_traceback = ANSI.sub("", "\n".join(errors[0]["traceback"]))
    assert "----> 2 model = rows[5]" in user_traceback  # the line number the cell shows
    assert user_traceback.endswith("IndexError: list index out of range")
    assert errors[1]["traceback"] == ["step 'train' failed (see the traceback above)"]
    shown = ANSI.sub("", "\n".join(line for e in errors for line in e["traceback"]))
    assert shown.count("IndexError: list index out of range") == 1

    reply, outputs = execute(kernel, "%%mlstep train --epochs 2\nbody_ran = True")
    assert reply["status"] == "error"
    assert reply["ename"] == "UsageError"
    assert outputs == [
        (
            "stream",
            {
                "name": "stderr",
                "text": "UsageError: step 'train': unknown option '--epochs'; usage: "
                "%%mlstep NAME [--inputs A B ...] [--outputs C D ...] "
                "[--model VAR [--model-name NAME]] [--metrics VAR] [--no-cache] "
                "[--resources cpu=2,memory=4GB]\n",
            },
        ),
    ]
    reply, outputs = execute(kernel, "%%mlstep wait\nimport asyncio\nawait asyncio.sleep(0)")
    assert reply["ename"] == "UsageError"
    [(kind, content)] = outputs
    assert content["text"].startswith("UsageError: top-level await cannot run inside a %%mlstep")

    reply, outputs = execute(kernel, "'body_ran' in globals()")
    assert outputs[0][1]["data"]["text/plain"] == "False"

    reply, outputs = execute(kernel, "%mlops steps")
    [(kind, content)] = outputs
    assert kind == "display_data"
    assert set(content["data"]) == {"text/plain", "text/html"}
    assert "train  failed" in content["data"]["text/plain"]

    reply, outputs = execute(kernel, "%mlops dag")
    [(kind, content)] = outputs
    assert kind == "display_data"
    assert content["data"]["text/plain"].startswith("load\ntrain  ← load\n")
    assert content["data"]["image/svg+xml"].startswith("<svg ")


# --------------------------------------------------------------------------- papermill, nbval


def run_papermill(tmp_path: Path, name: str):
    import papermill

    output = tmp_path / name
    try:
        papermill.execute_notebook(
            str(NOTEBOOKS / name),
            str(output),
            kernel_name="python3",
            cwd=str(tmp_path),
            progress_bar=False,
        )
        error = None
    except papermill.PapermillExecutionError as exc:
        error = exc
    import nbformat

    nb = nbformat.read(output, as_version=4)
    # papermill puts an error banner (markdown) on top of a failed notebook: keep code cells
    return [cell for cell in nb.cells if cell.cell_type == "code"], error


def test_papermill_runs_step_cells_like_plain_cells(tmp_path):
    cells, error = run_papermill(tmp_path, "magics_steps.ipynb")
    assert error is None
    load, split, train = cells[1], cells[2], cells[4]
    assert load.outputs[0]["output_type"] == "execute_result"
    assert load.outputs[0]["data"]["text/plain"] == "30"
    assert load.outputs[0]["execution_count"] == load.execution_count
    assert "Wall time" in split.outputs[0]["text"]
    assert train.outputs[0]["data"]["text/plain"] == "{'size': 1.0}"

    steps_text = cells[5].outputs[0]["data"]["text/plain"]
    assert [line.split()[:2] for line in steps_text.splitlines()[2:]] == [
        ["load_data", "ok"],
        ["split", "ok"],
        ["features", "ok"],
        ["train", "ok"],
    ]
    assert "rows → train_rows, test_rows" in steps_text
    assert "text/html" in cells[5].outputs[0]["data"]

    dag_output = cells[6].outputs[0]
    assert dag_output["data"]["text/plain"].splitlines() == [
        "load_data",
        "split      ← load_data",
        "features   ← load_data",
        "train      ← split, features",
        "(4 steps, 4 dependencies)",
    ]
    assert dag_output["data"]["image/svg+xml"].startswith("<svg ")


def test_papermill_fails_on_a_failing_step_with_one_user_traceback(tmp_path):
    cells, error = run_papermill(tmp_path, "magics_failing_step.ipynb")
    assert error is not None
    assert error.ename == "ValueError"
    assert error.evalue == "cannot fit 3 rows"
    failed = cells[2]
    assert failed.source.startswith("%%mlstep train")
    errors = [o for o in failed.outputs if o["output_type"] == "error"]
    assert [e["ename"] for e in errors] == ["ValueError", "StepCellFailed"]
    assert errors[1]["traceback"] == ["step 'train' failed (see the traceback above)"]
    shown = ANSI.sub("", "\n".join(line for e in errors for line in e["traceback"]))
    assert shown.count("Traceback (most recent call last)") == 1
    assert shown.count("ValueError: cannot fit 3 rows") == 1
    assert "----> 5 model = fit(rows)" in shown  # the line number the cell shows
    assert cells[3].outputs == [] and cells[3].execution_count is None


def test_papermill_fails_on_a_bad_step_line_without_running_the_body(tmp_path):
    cells, error = run_papermill(tmp_path, "magics_bad_step_line.ipynb")
    assert error is not None
    bad = cells[1]
    assert bad.metadata["papermill"]["exception"] is True
    assert bad.outputs == [
        {
            "output_type": "stream",
            "name": "stderr",
            "text": "UsageError: step 'train': unknown option '--epochs'; usage: %%mlstep NAME [--inputs A B ...] "
            "[--outputs C D ...] [--model VAR [--model-name NAME]] [--metrics VAR] [--no-cache] "
            "[--resources cpu=2,memory=4GB]\n",
        }
    ]
    assert cells[2].execution_count is None


def test_nbval_sees_a_failing_step(tmp_path):
    proc = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax",
            "--rootdir", str(tmp_path), str(NOTEBOOKS / "magics_failing_step.ipynb"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "cannot fit 3 rows" in proc.stdout
    assert "1 failed" in proc.stdout
