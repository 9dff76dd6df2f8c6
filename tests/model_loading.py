"""Registered models loaded in a fresh interpreter that cannot import the notebook's code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

# Refuse to load when a forbidden folder is on sys.path or a forbidden package importable;
# then load each ``models:/<name>@challenger`` and predict on its saved input example.
LOAD_WITH_EXAMPLES = textwrap.dedent(
    """
    import importlib.util, json, os, sys
    models, forbidden, packages = (json.loads(arg) for arg in sys.argv[1:4])
    paths = [os.path.abspath(p or os.getcwd()) for p in sys.path]
    assert not [p for p in paths for f in forbidden if p.startswith(f)], paths
    assert not [p for p in packages if importlib.util.find_spec(p) is not None], packages

    import mlflow.pyfunc

    loaded = {}
    for uri, name in models:
        mlflow.set_tracking_uri(uri)
        mlflow.set_registry_uri(uri)
        model_uri = f"models:/{name}@challenger"
        model = mlflow.pyfunc.load_model(model_uri)
        example = model.metadata.load_input_example(model_uri)
        if example is None:
            signature = model.metadata.signature is not None
            loaded[f"{uri} {name}"] = {"example": None, "signature": signature}
            continue
        predictions = model.predict(example)
        loaded[f"{uri} {name}"] = {"rows": len(example), "predicted": len(predictions)}
    print(json.dumps({"loaded": loaded, "jupyter_mlops": "jupyter_mlops" in sys.modules}))
    """
)


def python(code: str, *args: str, cwd: Path, env: dict[str, str] | None = None) -> Any:
    """Run ``code`` in a new interpreter; its last stdout line, as JSON."""
    environ = {k: v for k, v in (env or os.environ).items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def load_with_examples(
    models: list[tuple[str, str]], empty: Path, forbidden: list[Path], packages: list[str]
) -> dict[str, Any]:
    """Each ``(tracking uri, name)``'s challenger, loaded in one fresh process whose cwd is the
    ``empty`` folder, with neither ``forbidden`` on ``sys.path`` nor ``packages`` importable,
    and its predictions on the model's saved input example: ``{"loaded": {"<uri> <name>":
    {"rows", "predicted"} or, without an example, {"example": None, "signature": bool}},
    "jupyter_mlops": imported?}``."""
    empty.mkdir(exist_ok=True)
    args = [json.dumps(models), json.dumps([str(f.resolve()) for f in forbidden])]
    loaded: dict[str, Any] = python(LOAD_WITH_EXAMPLES, *args, json.dumps(packages), cwd=empty)
    return loaded
