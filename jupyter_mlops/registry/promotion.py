"""Promotion: move a registry alias (``champion`` by default) to a model version.

The version defaults to the current ``challenger`` — the latest version the gates validated
(or, without gates, the latest registered). A version whose gate outcome (tag
``mlops.gate``) is ``rejected`` is refused unless forced; a forced promotion is recorded on
the version as tag ``mlops.forced_promotion.<alias>``. Each move is recorded in the model's
alias history (``alias_history.py``, reason ``promote``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import PromotionError, PromotionRefused
from jupyter_mlops.registry import alias_history
from jupyter_mlops.registry.alias_history import move_alias
from jupyter_mlops.registry.models import CHALLENGER, CHAMPION
from jupyter_mlops.tracking.store import make_client, mlflow_errors, resolve_tracking_uri
from jupyter_mlops.tracking.tags import GATE as GATE_TAG
from jupyter_mlops.tracking.tags import GATE_REASONS as REASONS_TAG

_ALIAS = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
FORCED_TAG = "mlops.forced_promotion.{alias}"


@dataclass(frozen=True)
class Promotion:
    """What ``promote`` did: ``alias`` of ``name`` now points at ``version``."""

    name: str
    alias: str
    version: str
    previous: str | None  # the version the alias pointed at before (None: not set)
    gate: str | None  # the version's gate outcome (None: not gated)
    forced: bool = False
    gate_reasons: str | None = None  # the reasons recorded with the gate outcome

    def describe(self) -> str:
        """E.g. ``classification: champion 1 → 2 (gate: validated)``."""
        gate = f"gate: {self.gate}" if self.gate else "not gated"
        forced = ", forced" if self.forced else ""
        if self.previous == self.version:
            return f"{self.name}: {self.alias} already at {self.version} ({gate})"
        before = self.previous if self.previous is not None else "(unset)"
        return f"{self.name}: {self.alias} {before} → {self.version} ({gate}{forced})"


def promote(
    tracking_uri: str,
    name: str,
    version: str | int | None = None,
    alias: str = CHAMPION,
    force: bool = False,
) -> Promotion:
    """Point ``alias`` of registered model ``name`` at ``version`` (default: the
    ``challenger``). ``PromotionRefused`` (exit 1) for a version the gates rejected unless
    ``force``; ``PromotionError`` (exit 2) for an unknown model, version or a bad alias."""
    if not _ALIAS.fullmatch(alias) or alias == "latest":
        raise PromotionError(f"'{alias}' is not a usable alias name", name=alias)
    with mlflow_errors(tracking_uri, f"promote model '{name}'"):
        client = make_client(tracking_uri)
        aliases = registered_aliases(client, name, tracking_uri)
        if version is None:
            version = aliases.get(CHALLENGER)
            if version is None:
                raise PromotionError(
                    f"model '{name}' has no '{CHALLENGER}' version (no version passed the "
                    "gates yet); name one with --version",
                    name=name,
                )
        version = str(version)
        tags = version_tags(client, name, version)
        gate = tags.get(GATE_TAG)
        forced = gate == "rejected"
        if forced and not force:
            reasons = tags.get(REASONS_TAG) or "no reason recorded"
            raise PromotionRefused(
                f"version {version} of model '{name}' was rejected by the gates ({reasons}); "
                "pass --force to promote it anyway",
                name=name,
            )
        note = "forced" if forced else None
        move = move_alias(client, name, alias, version, "promote", gate=gate, note=note)
        if forced:
            client.set_model_version_tag(name, version, FORCED_TAG.format(alias=alias), "true")
    recorded = tags.get(REASONS_TAG) or None
    return Promotion(name, alias, version, move.from_version, gate, forced, recorded)


def registered_aliases(client: Any, name: str, tracking_uri: str) -> dict[str, str]:
    """Alias → version of registered model ``name``; ``PromotionError`` when it is unknown
    (``tracking_uri``: the store ``client`` is bound to)."""
    return alias_history.registered_aliases(client, name)


def version_tags(client: Any, name: str, version: str) -> dict[str, str]:
    """The tags of version ``version``; ``PromotionError`` when there is no such version."""
    from mlflow.exceptions import MlflowException

    if not version.isdigit():
        raise PromotionError(f"version must be a number, not '{version}'", name=name)
    try:
        return dict(client.get_model_version(name, version).tags)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise PromotionError(f"model '{name}' has no version {version}", name=name) from None
        raise


def resolve_model(
    target: str, tracking_uri: str | None, model: str | None = None
) -> tuple[str, str]:
    """``(registered model name, tracking URI)`` of ``target``: a pipeline folder (the
    name of its one ``--model`` step's model; the default URI of its project, as ``run``
    uses), a notebook whose pipeline was extracted next to it, or else a registered model
    name. A pipeline with several models is refused unless ``model`` names one of them."""
    from jupyter_mlops.pipeline.layout import default_output_dir
    from jupyter_mlops.tracking.gitinfo import git_toplevel, project_root

    path = Path(target)
    if path.suffix == ".ipynb":
        path = default_output_dir(path)
    if (path / "pipeline.yaml").is_file():
        from jupyter_mlops.pipeline.pipeline_file import read_pipeline_file

        pipeline_file = read_pipeline_file(path)
        uri = resolve_tracking_uri(tracking_uri, project_root(pipeline_file.folder))
        return model or _single_model(pipeline_file.pipeline, target), uri
    if Path(target).suffix == ".ipynb":
        raise PromotionError(f"no extracted pipeline at {path}: run it first", path=target)
    root = git_toplevel(Path.cwd()) or Path.cwd()
    return target, resolve_tracking_uri(tracking_uri, root)


def _single_model(pipeline: Any, target: str) -> str:
    """The registered model name of a pipeline with at most one ``--model`` step."""
    from jupyter_mlops.pipeline.model_names import model_names

    names = list(model_names(pipeline).values())
    if len(names) > 1:
        raise PromotionError(
            f"pipeline '{pipeline.name}' registers {len(names)} models ({', '.join(names)}): "
            "give the model name instead of the pipeline",
            path=target,
        )
    return names[0] if names else str(pipeline.name)
