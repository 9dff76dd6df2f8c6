"""The text files of a container build context: Dockerfile, .dockerignore, README.md.

The image runs ``jupyter-mlops serve`` as a non-root user on ``$SERVE_HOST:$SERVE_PORT``
(0.0.0.0:8080; a non-loopback address needs ``$JUPYTER_MLOPS_SERVE_TOKEN`` at run time),
with a HEALTHCHECK on ``/health``. Only the ``[serve]`` extra is installed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from jupyter_mlops.deploy.package.manifest_spec import default_image

BASE_IMAGE = "python:3.11-slim"
USER = "mlops"
UID = 10001
APP_DIR = "/app"
REGISTRY_DIR = "registry"
BAKED_TRACKING_URI = f"sqlite:///{REGISTRY_DIR}/mlflow.db"
"""Relative to the working directory (``/app`` in the image; the context folder in tests)."""
SECRETS_DIR = "/run/secrets/jupyter-mlops"
HEALTH_PROBE = (
    "import os, urllib.request; "
    "urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['SERVE_PORT'], timeout=4)"
)


@dataclass(frozen=True)
class ContextPlan:
    """What the context holds: the model, its version and alias, where the model comes from
    (``baked`` or ``registry``), the trusted digest of a baked model, and whether a wheel
    folder of jupyter_mlops is copied in."""

    model: str
    version: str
    alias: str
    model_source: str
    digest: str
    has_wheels: bool
    jupyter_mlops_origin: str

    @property
    def baked(self) -> bool:
        return self.model_source == "baked"


def serve_command(plan: ContextPlan) -> str:
    """The shell command of the image's CMD (host, port and log folder from the env)."""
    trust = f" --trust-digest {plan.digest}" if plan.baked else ""
    return (
        f"exec jupyter-mlops serve {_shell_word(plan.model)} --alias {plan.alias}{trust} "
        '--host "$SERVE_HOST" --port "$SERVE_PORT" --log-dir "$SERVE_LOG_DIR"'
    )


def _shell_word(text: str) -> str:
    """``text`` quoted for ``sh`` when it needs it."""
    import shlex

    return shlex.quote(text)


def install_lines(comment: str, env: dict[str, str], has_wheels: bool) -> list[str]:
    """A Dockerfile's first lines, shared by the model and the pipeline images: ``comment``,
    the base image, the common environment plus ``env``, the non-root user, and the pinned
    install of ``requirements.txt`` (from ``wheels/`` too when there are some)."""
    every_env = {
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
        **env,
    }
    env_lines = " \\\n    ".join(f"{key}={value}" for key, value in every_env.items())
    lines = [
        f"# {comment}",
        f"FROM {BASE_IMAGE}",
        "",
        f"ENV {env_lines}",
        "",
        f"RUN useradd --create-home --uid {UID} --user-group {USER}",
        f"WORKDIR {APP_DIR}",
        "COPY requirements.txt ./",
    ]
    if has_wheels:
        lines.append("COPY wheels/ wheels/")
    lines.append("RUN pip install --no-cache-dir -r requirements.txt")
    return lines


def dockerfile_text(plan: ContextPlan) -> str:
    """The Dockerfile."""
    env = {
        "SERVE_HOST": "0.0.0.0",
        "SERVE_PORT": "8080",
        "SERVE_LOG_DIR": f"/home/{USER}/serve-log",
    }
    if plan.baked:
        env["MLFLOW_TRACKING_URI"] = BAKED_TRACKING_URI
    else:
        env["JUPYTER_MLOPS_STATE_DIR"] = SECRETS_DIR
    source = "baked in" if plan.baked else f"fetched from $MLFLOW_TRACKING_URI (alias {plan.alias})"
    comment = f"Model '{plan.model}' version {plan.version}, {source}; packaged by jupyter_mlops."
    lines = install_lines(comment, env, plan.has_wheels)
    if plan.baked:
        lines.append(f"COPY --chown={UID}:{UID} {REGISTRY_DIR}/ {REGISTRY_DIR}/")
    lines += [
        f"USER {UID}",
        "EXPOSE 8080",
        "HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \\",
        f"    CMD {json.dumps(['python', '-c', HEALTH_PROBE])}",
        f"CMD {json.dumps(['sh', '-c', serve_command(plan)])}",
    ]
    return "\n".join(lines) + "\n"


DOCKERIGNORE = "*\n!Dockerfile\n!requirements.txt\n!wheels/\n!registry/\n"


def readme_text(plan: ContextPlan) -> str:
    """README.md of the context: what it holds and how to build and run it."""
    image = default_image(plan.model, plan.version)
    run = "docker run --rm -p 8080:8080 -e JUPYTER_MLOPS_SERVE_TOKEN=$(openssl rand -hex 16) "
    lines = [
        f"# Container of model `{plan.model}` version {plan.version}",
        "",
        "Built by `jupyter mlops package --format container`. The image serves the model",
        "with `jupyter-mlops serve` (the `[serve]` extra only, no JupyterLab) on port 8080",
        "as a non-root user; `GET /health` is its health check. jupyter_mlops is installed",
        f"from {plan.jupyter_mlops_origin}.",
        "",
        "```sh",
        f"docker build -t {image} .",
    ]
    if plan.baked:
        lines += [f"{run}{image}", "```", "", *_baked_notes(plan)]
    else:
        lines += [
            f"{run}\\",
            "  -e MLFLOW_TRACKING_URI=https://mlflow.example.com \\",
            f"  -v ~/.local/state/jupyter_mlops/artifact-key:{SECRETS_DIR}/artifact-key:ro \\",
            f"  {image}",
            "```",
            "",
            *_registry_notes(plan),
        ]
    lines += [
        "",
        "Any address but 127.0.0.1 needs a bearer token: set `JUPYTER_MLOPS_SERVE_TOKEN`",
        "(clients send `Authorization: Bearer <token>`; `/health` and `/ping` are open).",
        "`SERVE_HOST`, `SERVE_PORT` and `SERVE_LOG_DIR` (the request log) can be overridden.",
    ]
    return "\n".join(lines) + "\n"


def _baked_notes(plan: ContextPlan) -> list[str]:
    return [
        f"The model is baked in: `{REGISTRY_DIR}/` is a one-version MLflow registry (SQLite)",
        f"with the model's files, alias `{plan.alias}` on it. The service loads only models",
        "sealed by its user's key, and an image has no key; so the Dockerfile pins the",
        "sha256 of the model folder (`--trust-digest`), reviewed when the context was",
        "built: the service loads those exact files and refuses any other.",
        "",
        f"Model folder digest: `{plan.digest}`.",
    ]


def _registry_notes(plan: ContextPlan) -> list[str]:
    return [
        "The model is fetched at start from the registry at `MLFLOW_TRACKING_URI`: alias",
        f"`{plan.alias}` of `{plan.model}`, followed as it moves. The service loads only",
        "versions sealed by the artifact key of the user who registered them: mount that",
        f"key (`artifact-key`) read-only into `{SECRETS_DIR}` (`JUPYTER_MLOPS_STATE_DIR`),",
        "as a Docker or Kubernetes secret. Give the container the credentials of the",
        "artifact store too (e.g. `AWS_*` for S3).",
    ]
