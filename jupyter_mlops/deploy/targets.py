"""Deploy targets: the ``deploy:`` section of pipeline.yaml, read and checked key by key.

::

    deploy:
      prod:                          # the target's name: `jupyter mlops deploy PIPELINE prod`
        kind: rest                   # a prediction service (`jupyter mlops serve`)
        model: regression-ridge      # the registered model (default: the pipeline's one model)
        alias: production            # the alias the service serves (default: production)
        url: http://127.0.0.1:8080   # where it runs, for verification
        strategy: canary             # canary | blue-green | ab | shadow (default: canary)
        steps: [10, 50]              # canary: candidate percentages before 100; ab: [its share]
        interval: 30s                # analysis window per step (default: 30s)
        duration: 10m                # ab and shadow: how long the one phase lasts (default: interval)
        sticky: x-client-id          # ab: the header pinning a client to one version
        log_dir: serve-log           # ab: the service's --log-dir (relative: to the pipeline
                                     # folder), to compare the versions on POST /feedback labels
        token_env: SERVE_TOKEN       # environment variable holding the service's bearer token
        auto: false                  # deploy after a validated run (default: false)
        analysis: {max_error_rate: 0.01, max_p99_ms: 100, max_prediction_drift: 0.2,
                   failure_limit: 1, min_requests: 10, feedback_alpha: 0.05}

That is a ``rest`` target (this module). The other kinds parse their own keys:
``batch`` (``batch/target.py``: a pre-scored table), ``package`` (``package/target.py``: a
wheel, container context or Kubernetes/KServe manifests in a folder) and ``mlflow``
(``mlflow_target/target.py``: any MLflow deployment plugin). ``KINDS`` maps a kind to its
parser; ``kinds.py`` to what deploying, rolling back and showing it means. Errors are
``DeployError`` naming the key path, e.g. ``deploy.prod.steps[1]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, ClassVar

from jupyter_mlops.deploy.batch.target import BatchTarget, parse_batch
from jupyter_mlops.deploy.mlflow_target.target import MlflowTarget, parse_mlflow
from jupyter_mlops.deploy.package.target import PackageTarget, parse_package
from jupyter_mlops.deploy.target_base import TargetBase
from jupyter_mlops.deploy.target_fields import (
    NAME,
    URL,
    common_settings,
    count,
    duration,
    fail,
    fraction,
    header,
    known_keys,
    optional_identifier,
    positive,
    text,
)
from jupyter_mlops.errors import DeployError
from jupyter_mlops.pipeline.pipeline_file import PipelineFile

STRATEGIES = ("canary", "blue-green", "ab", "shadow")
DEFAULT_STEPS = {"canary": (10, 50), "ab": (50,)}
REST_KEYS = (
    "kind",
    "model",
    "alias",
    "url",
    "strategy",
    "steps",
    "interval",
    "duration",
    "sticky",
    "analysis",
    "token_env",
    "auto",
    "log_dir",
)
ANALYSIS_KEYS = (
    "max_error_rate",
    "max_p99_ms",
    "max_prediction_drift",
    "failure_limit",
    "min_requests",
    "feedback_alpha",
)


@dataclass(frozen=True)
class Analysis:
    """The checks of each analysis window: a check left None is not made."""

    max_error_rate: float = 0.01
    max_p99_ms: float | None = None
    max_prediction_drift: float | None = None
    failure_limit: int = 1  # failed windows that trigger the rollback
    min_requests: int = 10  # fewer requests to the analysed version: a failed window
    feedback_alpha: float = 0.05  # ab: significance level of "the candidate scores worse"

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON."""
        return {key: getattr(self, key) for key in ANALYSIS_KEYS}


@dataclass(frozen=True)
class RestTarget(TargetBase):
    """A prediction service following ``alias`` of the model, reachable at ``url``."""

    kind: ClassVar[str] = "rest"
    url: str
    strategy: str = "canary"
    steps: tuple[int, ...] = (10, 50)
    interval: float = 30.0
    duration: float | None = None
    sticky: str | None = None
    analysis: Analysis = field(default_factory=Analysis)
    token_env: str | None = None
    log_dir: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The settings as JSON."""
        return {
            **self.common_json(),
            "url": self.url,
            "strategy": self.strategy,
            "steps": list(self.steps),
            "interval": self.interval,
            "duration": self.duration,
            "sticky": self.sticky,
            "analysis": self.analysis.to_json(),
            "token_env": self.token_env,
            "auto": self.auto,
            "log_dir": self.log_dir,
        }


Target = RestTarget | BatchTarget | PackageTarget | MlflowTarget
KINDS: dict[str, Callable[[str, dict[str, Any], str], Target]] = {}
"""Kind name → parser of a target's keys (name, mapping, key path)."""


def read_targets(pipeline_file: PipelineFile) -> dict[str, Target]:
    """Every target of the ``deploy:`` section (empty when absent), checked."""
    section = pipeline_file.settings.get("deploy")
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise DeployError(
            f"deploy must map target names to their settings, not {section!r}",
            name="deploy",
            path=str(pipeline_file.path),
        )
    try:
        targets = {str(name): parse_target(str(name), value) for name, value in section.items()}
    except DeployError as error:
        raise DeployError(error.message, name=error.name, path=str(pipeline_file.path)) from None
    for name, target in targets.items():
        _check_model(pipeline_file, name, target)
        if isinstance(target, BatchTarget | PackageTarget):
            targets[name] = target.in_folder(pipeline_file.folder)
        elif isinstance(target, RestTarget) and target.log_dir is not None:
            folder = pipeline_file.folder / Path(target.log_dir).expanduser()
            targets[name] = replace(target, log_dir=str(folder))
    return targets


def _check_model(pipeline_file: PipelineFile, name: str, target: Target) -> None:
    """A target's ``model`` must be one the pipeline registers; required when it registers
    several (a service serves one model)."""
    from jupyter_mlops.pipeline.model_names import model_names

    names = sorted(model_names(pipeline_file.pipeline).values())
    if target.model is None and len(names) > 1:
        problem = f"the pipeline registers {len(names)} models ({', '.join(names)}): name the one this target serves"
    elif target.model is not None and target.model not in names:
        known = ", ".join(names) or "none: no step has --model"
        problem = f"'{target.model}' is not a model of this pipeline ({known})"
    else:
        return
    where = f"deploy.{name}.model"
    raise DeployError(f"{where}: {problem}", name=where, path=str(pipeline_file.path))


def read_target(pipeline_file: PipelineFile, name: str) -> Target:
    """Target ``name``; ``DeployError`` naming the targets there are when it is not one."""
    targets = read_targets(pipeline_file)
    if name not in targets:
        known = ", ".join(targets) or "none: pipeline.yaml has no deploy: section"
        raise DeployError(
            f"no deploy target '{name}' (targets: {known})",
            path=str(pipeline_file.path),
            name=name,
        )
    return targets[name]


def parse_target(name: str, settings: Any) -> Target:
    """One target's settings, checked; errors name ``deploy.<name>.<key>``."""
    where = f"deploy.{name}"
    if not NAME.fullmatch(name):
        raise fail(where, "is not a target name (letters, digits, '_' and '-')")
    if not isinstance(settings, dict):
        raise fail(where, f"must be a mapping of settings, not {settings!r}")
    kind = settings.get("kind", "rest")
    parser = KINDS.get(kind) if isinstance(kind, str) else None
    if parser is None:
        raise fail(f"{where}.kind", f"is {kind!r}, not a known kind ({', '.join(KINDS)})")
    return parser(name, settings, where)


def parse_rest(name: str, settings: dict[str, Any], where: str) -> RestTarget:
    """A ``rest`` target."""
    known_keys(settings, where, REST_KEYS)
    strategy = settings.get("strategy", "canary")
    if strategy not in STRATEGIES:
        raise fail(f"{where}.strategy", f"is {strategy!r}, not one of {', '.join(STRATEGIES)}")
    url = settings.get("url")
    if not isinstance(url, str) or not URL.fullmatch(url):
        raise fail(f"{where}.url", f"must be the service's http(s) URL, not {url!r}")
    interval = duration(settings.get("interval", "30s"), f"{where}.interval")
    given = settings.get("duration")
    return RestTarget(
        name=name,
        url=url.rstrip("/"),
        strategy=strategy,
        steps=steps(settings.get("steps"), strategy, f"{where}.steps"),
        interval=interval,
        duration=None if given is None else duration(given, f"{where}.duration"),
        sticky=header(settings.get("sticky"), f"{where}.sticky"),
        analysis=analysis(settings.get("analysis"), f"{where}.analysis"),
        token_env=optional_identifier(settings.get("token_env"), f"{where}.token_env"),
        log_dir=text(settings.get("log_dir"), f"{where}.log_dir"),
        **common_settings(settings, where),
    )


KINDS["rest"] = parse_rest
KINDS["batch"] = parse_batch
KINDS["package"] = parse_package
KINDS["mlflow"] = parse_mlflow


def steps(value: Any, strategy: str, where: str) -> tuple[int, ...]:
    """Candidate percentages, strictly increasing in 1..99 (``ab``: exactly one)."""
    if value is None:
        return DEFAULT_STEPS.get(strategy, ())
    if not isinstance(value, list) or not value:
        raise fail(where, f"must be a list of percentages, not {value!r}")
    previous = 0
    for index, step in enumerate(value):
        if isinstance(step, bool) or not isinstance(step, int) or not 1 <= step <= 99:
            raise fail(f"{where}[{index}]", f"must be an integer percentage 1..99, not {step!r}")
        if step <= previous:
            raise fail(f"{where}[{index}]", f"must be above the step before ({previous})")
        previous = step
    if strategy == "ab" and len(value) != 1:
        raise fail(where, "of an ab target must be one percentage: the candidate's share")
    return tuple(value)


def analysis(value: Any, where: str) -> Analysis:
    """The ``analysis`` mapping (absent: the defaults)."""
    if value is None:
        return Analysis()
    if not isinstance(value, dict):
        raise fail(where, f"must be a mapping, not {value!r}")
    known_keys(value, where, ANALYSIS_KEYS)
    defaults = Analysis()
    return Analysis(
        max_error_rate=fraction(value, "max_error_rate", where, defaults.max_error_rate),
        max_p99_ms=positive(value, "max_p99_ms", where),
        max_prediction_drift=fraction(value, "max_prediction_drift", where, None),
        failure_limit=count(value, "failure_limit", where, defaults.failure_limit, 1),
        min_requests=count(value, "min_requests", where, defaults.min_requests, 0),
        feedback_alpha=fraction(value, "feedback_alpha", where, defaults.feedback_alpha),
    )
