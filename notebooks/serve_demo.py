"""Promote a pipeline's model, serve it, ask it for one prediction, show /version, stop it.

    python notebooks/serve_demo.py PIPELINE_FOLDER [--alias champion]

It moves ALIAS of the pipeline's (first) registered model to its validated challenger, starts ``jupyter-mlops serve MODEL --alias ALIAS --port 0`` (a free port on 127.0.0.1),
waits for its ready line, posts the model's own input example (the rows MLflow stored with
the version) to ``/invocations`` in MLflow's ``dataframe_split`` format, prints the answer
and the ``x-model-version`` header, prints ``/version``, then stops the service with
Ctrl-C's signal. ``make demo`` runs it on the demo's champion.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path


def input_example(model: str, alias: str, tracking_uri: str) -> bytes:
    """The version's stored ``serving_input_example.json``: a valid request body."""
    import mlflow

    client = mlflow.MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    version = client.get_model_version_by_alias(model, alias)
    folder = mlflow.artifacts.download_artifacts(
        artifact_uri=client.get_model_version_download_uri(model, version.version),
        tracking_uri=tracking_uri,
    )
    return (Path(folder) / "serving_input_example.json").read_bytes()


def start(command: list[str]) -> tuple[subprocess.Popen[str], str]:
    """The service process and its URL, read from its ready line."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    for line in process.stdout:
        print(f"  | {line}", end="")
        if line.startswith("serving ") and " on http://" in line:
            return process, line.split(" on ", 1)[1].split()[0]
    raise SystemExit(f"the service exited ({process.wait()}) before it was ready")


def main() -> int:
    from jupyter_mlops import api

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", help="an extracted pipeline folder that has run")
    parser.add_argument("--alias", default="champion")
    args = parser.parse_args()
    model = next(iter(api.model_names(args.pipeline).values()))
    tracking_uri = api.tracking_uri_for(args.pipeline)
    print(api.promote(model, alias=args.alias, tracking_uri=tracking_uri).describe())
    mlops = str(Path(sys.executable).parent / "jupyter-mlops")
    command = [mlops, "serve", model, "--alias", args.alias, "--port", "0"]
    command += ["--tracking-uri", tracking_uri, "--no-log"]
    print("$", " ".join(command))
    process, url = start(command)
    try:
        body = input_example(model, args.alias, tracking_uri)
        request = urllib.request.Request(
            f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            version = answer.headers["x-model-version"]
            print(
                f"POST {url}/invocations (the input example) -> {answer.status}, "
                f"x-model-version: {version}"
            )
            print(" ", answer.read().decode())
        with urllib.request.urlopen(f"{url}/version", timeout=60) as answer:
            print(f"GET {url}/version ->")
            print(json.dumps(json.load(answer), indent=2))
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(60)
    print(f"service stopped (exit {code})")
    return code


if __name__ == "__main__":
    sys.exit(main())
