"""The step-notebook contract: save_outputs / outputs.json / load_input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from jupyter_mlops.artifacts.store import ArtifactRef, ArtifactStore
from jupyter_mlops.errors import ArtifactError
from jupyter_mlops.runtime import stepio


@pytest.fixture(autouse=True)
def no_store_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(stepio.STORE_ENV, raising=False)


def test_save_outputs_then_load_inputs_end_to_end(tmp_path: Path) -> None:
    out = tmp_path / "run" / "prepare"
    frame = pd.DataFrame({"x": [1.0, 2.0]}, index=pd.Index(["a", "b"], name="id"))
    outputs = {"frame": frame, "weights": np.ones(3), "config": {"k": 3}, "pair": (1, 2)}
    stepio.save_outputs(str(out), outputs)

    data = json.loads((out / "outputs.json").read_text())
    assert sorted(data) == ["config", "frame", "pair", "weights"]
    assert data["frame"]["serializer"] == "parquet"
    assert data["pair"]["serializer"] == "cloudpickle"
    refs = stepio.read_outputs(str(out))
    assert refs["weights"] == ArtifactRef.from_dict(data["weights"])
    assert [p.name for p in out.iterdir() if p.name != ".store"] == ["outputs.json"]

    store = ArtifactStore(out / ".store")
    paths = {name: str(store.path_of(ref.hash)) for name, ref in refs.items()}
    pd.testing.assert_frame_equal(stepio.load_input(paths["frame"]), frame)
    np.testing.assert_array_equal(stepio.load_input(paths["weights"]), np.ones(3))
    assert stepio.load_input(paths["config"]) == {"k": 3}
    assert stepio.load_input(paths["pair"]) == (1, 2)


def test_store_env_var_chooses_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(stepio.STORE_ENV, str(tmp_path / "shared"))
    stepio.save_outputs(str(tmp_path / "out"), {"n": 42})
    ref = stepio.read_outputs(str(tmp_path / "out"))["n"]
    assert not (tmp_path / "out" / ".store").exists()
    assert ArtifactStore(tmp_path / "shared").get(ref) == 42


def test_step_notebook_process_hands_outputs_to_the_runner(tmp_path: Path) -> None:
    """A separate process (the step) saves; this one (the runner) picks the refs up."""
    store_root = tmp_path / "store"
    code = textwrap.dedent(
        """
        import sys
        import pandas as pd
        from jupyter_mlops.runtime.stepio import save_outputs
        model = lambda x: x * 2
        save_outputs(sys.argv[1], {"df": pd.DataFrame({"a": [1, 2]}), "model": model})
        """
    )
    env = {**os.environ, stepio.STORE_ENV: str(store_root)}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "out")], check=True, env=env)
    refs = stepio.read_outputs(str(tmp_path / "out"))
    store = ArtifactStore(store_root)
    assert store.get(refs["model"])(21) == 42
    pd.testing.assert_frame_equal(store.get(refs["df"]), pd.DataFrame({"a": [1, 2]}))


def test_failed_save_writes_no_outputs_json(tmp_path: Path) -> None:
    out = tmp_path / "out"
    stepio.save_outputs(str(out), {"old": 1})
    with pytest.raises(ArtifactError, match="cannot store 'bad' of type generator"):
        stepio.save_outputs(str(out), {"good": 1, "bad": (i for i in range(2))})
    assert not (out / "outputs.json").exists()
    with pytest.raises(ArtifactError, match="did not reach save_outputs"):
        stepio.read_outputs(str(out))


def test_output_names_must_be_strings(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="output names must be non-empty strings"):
        stepio.save_outputs(str(tmp_path), {1: "x"})  # type: ignore[dict-item]


def test_load_input_missing_file_names_the_path(tmp_path: Path) -> None:
    stepio.save_outputs(str(tmp_path), {"x": [1, 2]})
    ref = stepio.read_outputs(str(tmp_path))["x"]
    path = ArtifactStore(tmp_path / ".store").path_of(ref.hash)
    path.unlink()
    with pytest.raises(ArtifactError) as info:
        stepio.load_input(str(path))
    assert str(path) in str(info.value)
    assert "missing" in str(info.value)


def test_load_input_corrupt_file_names_the_path(tmp_path: Path) -> None:
    stepio.save_outputs(str(tmp_path), {"x": np.arange(10)})
    ref = stepio.read_outputs(str(tmp_path))["x"]
    path = ArtifactStore(tmp_path / ".store").path_of(ref.hash)
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(ArtifactError, match="corrupt") as info:
        stepio.load_input(str(path))
    assert info.value.path == str(path)
    assert str(info.value).startswith(str(path) + ": ")


def test_load_input_of_a_file_outside_the_store(tmp_path: Path) -> None:
    stray = tmp_path / "data.parquet"
    stray.write_bytes(b"PAR1")
    with pytest.raises(ArtifactError, match="not an artifact object file") as info:
        stepio.load_input(str(stray))
    assert info.value.path == str(stray)


def test_read_outputs_invalid_file(tmp_path: Path) -> None:
    (tmp_path / "outputs.json").write_text("[1, 2")
    with pytest.raises(ArtifactError, match="outputs.json is unreadable"):
        stepio.read_outputs(str(tmp_path))
