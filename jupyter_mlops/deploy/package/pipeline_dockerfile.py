"""The text files of a pipeline image's build context: Dockerfile, .dockerignore, README.md.

The image is the one ``jupyter mlops export`` tasks run in: the model container's base,
user and pinned installs (``dockerfile.py``), jupyter_mlops with ``[jupyter,dask]``, the
extracted pipeline folder at the export's ``--pipeline-dir`` owned by the user (a run
writes its lock there), and ``jupyter-mlops`` as the entrypoint, so a task's command
(``jupyter-mlops run /pipeline --only STEP …``) and ``docker run IMAGE run …`` both work.
The artifact key is never in the image: it is mounted at run time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from jupyter_mlops.artifacts.trust import KEY_FILE, STATE_ENV
from jupyter_mlops.deploy.package.dockerfile import SECRETS_DIR, UID, USER, install_lines

PIPELINE_COPY = "pipeline"
"""The context's copy of the pipeline folder."""
DOCKERIGNORE = "*\n!Dockerfile\n!requirements.txt\n!wheels/\n!pipeline/\n"


@dataclass(frozen=True)
class ImagePlan:
    """What the image holds: the pipeline, its tag, where the folder goes, whether a wheel
    of jupyter_mlops is copied in, where jupyter_mlops comes from, a step to show."""

    pipeline: str
    image: str
    pipeline_dir: str
    has_wheels: bool
    jupyter_mlops_origin: str
    first_step: str


def dockerfile_text(plan: ImagePlan) -> str:
    """The Dockerfile."""
    comment = f"Steps of pipeline '{plan.pipeline}' (jupyter mlops export); image {plan.image}."
    lines = install_lines(comment, {STATE_ENV: SECRETS_DIR}, plan.has_wheels)
    lines += [
        f"COPY --chown={UID}:{UID} {PIPELINE_COPY}/ {plan.pipeline_dir}/",
        f"USER {UID}",
        f"WORKDIR {plan.pipeline_dir}",
        f"ENTRYPOINT {json.dumps(['jupyter-mlops'])}",
        f"CMD {json.dumps(['show', plan.pipeline_dir])}",
    ]
    return "\n".join(lines) + "\n"


def readme_text(plan: ImagePlan) -> str:
    """README.md of the context: what it holds, how to build it and run a step."""
    return "\n".join(
        [
            f"# Image of pipeline `{plan.pipeline}`",
            "",
            "Written by `jupyter mlops export --image-context`. Every exported task runs",
            f"`jupyter-mlops run {plan.pipeline_dir} --only STEP --store URL -p …` in this",
            "image: jupyter_mlops with its `[jupyter,dask]` extras (installed from",
            f"{plan.jupyter_mlops_origin}), the pipeline's libraries pinned in",
            f"`requirements.txt`, and the extracted pipeline folder at `{plan.pipeline_dir}`",
            f"(without `.mlops/` or caches), as the non-root user {USER} ({UID}).",
            "",
            "```sh",
            f"docker build -t {plan.image} .",
            f"docker run --rm -v ~/.local/state/jupyter_mlops/{KEY_FILE}:{SECRETS_DIR}/{KEY_FILE}:ro \\",
            "  -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY \\",
            f"  {plan.image} run {plan.pipeline_dir} --only {plan.first_step} --store s3://bucket/mlops",
            "```",
            "",
            "Pickled step outputs are sealed with the artifact key of whoever wrote them, and",
            "refused when the key differs: every task, and every machine sharing the store,",
            f"needs the same key. It is not in the image: mount the `{KEY_FILE}` file",
            f"read-only into `{SECRETS_DIR}` (`{STATE_ENV}`), as a Docker or Kubernetes",
            "secret (`kubectl create secret generic jupyter-mlops-artifact-key",
            f"--from-file={KEY_FILE}=$HOME/.local/state/jupyter_mlops/{KEY_FILE}`, mounted",
            f"at `{SECRETS_DIR}`). Give the pods the store's credentials too (e.g. `AWS_*`).",
            "",
        ]
    )
