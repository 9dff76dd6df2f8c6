"""Trained models into MLflow: log them in their step run, register versions, move aliases.

A model is logged as an MLflow LoggedModel of the step run that trained it: scikit-learn
estimators with the ``sklearn`` flavor in skops format (cloudpickle when skops cannot write
the estimator or read it back, e.g. a FunctionTransformer of a lambda), anything else with
a ``.predict`` as a ``pyfunc`` wrapper pickled with cloudpickle. A model that refers to the
notebook's or the pipeline's own functions and classes is cloudpickled with that code by
value (``model_code.py``), so it loads in any process that has its requirements. The
signature and a 5-row input example come from the 2-D value the model was fitted on.
``pip_requirements`` are always given (pinned to the installed versions): letting MLflow
infer them costs ~9 s per model.

Every call goes through an explicit client; nothing reads MLflow's process-global tracking
URI (``mlflow.<flavor>.log_model`` and registering a ``models:/<id>`` source both would).
Aliases, not stages, are the promotion mechanism: a new version becomes ``challenger``;
every alias move is recorded in the model's history (``alias_history.py``).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Mapping
from importlib import metadata
from typing import TYPE_CHECKING, Any

from jupyter_mlops.artifacts.trust import MODEL_KIND, folder_digest, seal
from jupyter_mlops.registry.alias_history import move_alias
from jupyter_mlops.registry.model_code import pickled_by_value, top_level_distributions, user_code
from jupyter_mlops.registry.reference_sample import log_reference
from jupyter_mlops.runtime.model_data import expected_features, features_of
from jupyter_mlops.tracking.store import make_client, mlflow_errors
from jupyter_mlops.tracking.tags import MODEL_SEAL

if TYPE_CHECKING:
    from mlflow import MlflowClient

log = logging.getLogger(__name__)

MODEL_NAME = "model"
CHALLENGER = "challenger"
CHAMPION = "champion"
EXAMPLE_ROWS = 5

# Run tags copied onto a model version (lineage), from the step run and its parent run.
_STEP_LINEAGE_PREFIXES = ("mlops.pipeline", "mlops.step", "mlops.cache_key", "mlops.input.")
_PARENT_LINEAGE_TAGS = ("mlops.git_commit", "mlops.notebook_sha256")
# Import names whose distribution name differs.
_DISTRIBUTIONS = {"sklearn": "scikit-learn"}


def is_sklearn_model(model: Any) -> bool:
    """True when ``model`` is a scikit-learn estimator (checked without importing sklearn)."""
    return any(
        cls.__module__.partition(".")[0] == "sklearn" for cls in type(model).__mro__[:-1]
    ) and hasattr(model, "get_params")


def training_input(model: Any, fit_inputs: Mapping[str, Any]) -> tuple[str, Any] | None:
    """The ``(name, value)`` among ``fit_inputs`` the model was most likely fitted on.

    Candidates are the 2-D values holding the features the model expects
    (:func:`~jupyter_mlops.runtime.model_data.features_of`; a frame with more columns gives
    the model's columns). Exact fits win over frames with extra columns; ties go to names
    containing ``train``, then to the order of ``fit_inputs``. None when nothing fits.
    """
    count, names = expected_features(model)
    ranked: list[tuple[bool, bool, int, str, Any]] = []
    for order, (name, value) in enumerate(fit_inputs.items()):
        features, extra = features_of(value, count, names)
        if features is not None:
            ranked.append((bool(extra), "train" not in name.lower(), order, name, features))
    if not ranked:
        return None
    best = min(ranked, key=lambda item: item[:3])
    return best[3], best[4]


def input_example(value: Any, rows: int = EXAMPLE_ROWS) -> Any:
    """The first ``rows`` rows of a DataFrame or array."""
    if hasattr(value, "iloc"):
        return value.iloc[:rows]
    return value[:rows]


def pinned(*names: str) -> list[str]:
    """``dist==version`` for the installed distribution of each import name in ``names``
    (names of no installed distribution, e.g. a local package, are skipped)."""
    requirements: list[str] = []
    for name in names:
        for dist in _distributions_of(name):
            requirement = f"{dist}=={metadata.version(dist)}"
            if requirement not in requirements:
                requirements.append(requirement)
    return requirements


def _distributions_of(name: str) -> list[str]:
    dist = _DISTRIBUTIONS.get(name, name)
    try:
        metadata.version(dist)
        return [dist]
    except metadata.PackageNotFoundError:
        return top_level_distributions().get(name, [])


def model_packages(model: Any) -> list[str]:
    """Top-level packages (not stdlib, not ``__main__``) defining the classes of ``model``
    and, for estimators with ``get_params``, of their nested estimators."""
    objects = [model]
    if hasattr(model, "get_params"):
        with contextlib.suppress(Exception):
            objects += list(model.get_params(deep=True).values())
    packages: list[str] = []
    for obj in objects:
        for cls in type(obj).__mro__[:-1]:
            top = cls.__module__.partition(".")[0]
            if top not in packages and top not in sys.stdlib_module_names and top != "__main__":
                packages.append(top)
    return packages


def _skops_trusted_types(model: Any) -> list[str] | None:
    """The types skops must trust to load ``model`` back; None when skops cannot write it."""
    try:
        from skops.io import dumps, get_untrusted_types

        return list(get_untrusted_types(data=dumps(model)))
    except Exception as exc:
        log.info("skops cannot serialize %s (%s); using cloudpickle", type(model).__name__, exc)
        return None


def _python_model(model: Any) -> Any:
    """A pyfunc wrapper calling ``model.predict``; defined here so cloudpickle stores the
    class by value and loading needs neither jupyter_mlops nor this module."""
    import mlflow.pyfunc
    import pandas

    class PredictModel(mlflow.pyfunc.PythonModel):  # type: ignore[misc,name-defined]
        def __init__(self, model: Any) -> None:
            self.model = model

        def predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
            return self.model.predict(model_input)

        # A hint MLflow infers no schema from (the signature does that), set as an object
        # because this module's string annotations cannot be resolved at load time; without
        # one MLflow warns on every class definition.
        predict.__annotations__["model_input"] = pandas.DataFrame

    return PredictModel(model)


def _signature(model: Any, fit_inputs: Mapping[str, Any]) -> tuple[Any, Any]:
    """``(signature, input_example)`` from the training data, or ``(None, None)``."""
    from mlflow.models import infer_signature

    found = training_input(model, fit_inputs)
    if found is None:
        log.warning("no 2-D fit input matches the model; logging it without a signature")
        return None, None
    example = input_example(found[1])
    # A generic hint MLflow prints for every integer column; a permanent filter, because
    # catch_warnings() is not thread-safe.
    warnings.filterwarnings(
        "ignore", message="Hint: Inferred schema contains integer", category=UserWarning
    )
    try:
        return infer_signature(example, model.predict(example)), example
    except Exception as exc:
        log.warning("cannot infer the model signature from '%s': %s", found[0], exc)
        return None, None


class _CloudpickleCaution(logging.Filter):
    """Drops MLflow's warning on every cloudpickled scikit-learn model: cloudpickle is chosen
    here only for models skops cannot carry (the user's own code, lambdas)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(_CLOUDPICKLE_CAUTION)


_CLOUDPICKLE_CAUTION = "Saving scikit-learn models in the pickle or cloudpickle format"


def _quiet_cloudpickle_caution() -> None:
    logger = logging.getLogger("mlflow.sklearn")
    if not any(isinstance(f, _CloudpickleCaution) for f in logger.filters):
        logger.addFilter(_CloudpickleCaution())


def save_model(model: Any, path: str, mlflow_model: Any, fit_inputs: Mapping[str, Any]) -> str:
    """Write ``model`` as an MLflow model directory at ``path``; returns the flavor used.

    A model referring to the user's own code (:mod:`jupyter_mlops.registry.model_code`) is
    cloudpickled with that code by value, and its requirements pin every installed package
    the pickle refers to; other scikit-learn models are saved with skops.
    """
    signature, example = _signature(model, fit_inputs)
    packages = model_packages(model)
    code = user_code(model)
    if code.user:
        log.info("model refers to code of %s: pickled by value", ", ".join(code.user))
        packages += [name for name in code.installed if name not in packages]
    if is_sklearn_model(model):
        import mlflow.sklearn

        def save_sklearn(serialization: str, trusted: list[str] | None) -> str:
            mlflow.sklearn.save_model(
                model,
                path,
                mlflow_model=copy.deepcopy(mlflow_model),
                serialization_format=serialization,
                skops_trusted_types=trusted,
                signature=signature,
                input_example=example,
                pip_requirements=pinned("sklearn", serialization, *packages),
            )
            return "sklearn"

        trusted = None if code.user else _skops_trusted_types(model)
        if trusted is not None:
            try:
                return save_sklearn("skops", trusted or None)
            except Exception as exc:  # skops writes, but cannot load e.g. lambdas
                log.info("skops cannot round-trip %s (%s)", type(model).__name__, exc)
                shutil.rmtree(path, ignore_errors=True)
        _quiet_cloudpickle_caution()
        with pickled_by_value(code.by_value):
            return save_sklearn("cloudpickle", None)
    if not callable(getattr(model, "predict", None)):
        raise TypeError(f"{type(model).__name__} has no predict method")
    import mlflow.pyfunc

    with pickled_by_value(code.by_value):
        mlflow.pyfunc.save_model(
            path,
            mlflow_model=mlflow_model,
            python_model=_python_model(model),
            signature=signature,
            input_example=example,
            pip_requirements=pinned("cloudpickle", *packages),
        )
    return "pyfunc"


def log_model(client: MlflowClient, run_id: str, model: Any, fit_inputs: Mapping[str, Any]) -> Any:
    """Log ``model`` as a LoggedModel named ``model`` of run ``run_id``; returns the
    LoggedModel (READY; FAILED if writing it failed). Its ``mlops.model_seal`` tag seals its
    files with this user's key, so the gates may load it back (:mod:`artifacts.trust`)."""
    from mlflow.entities import LoggedModelOutput, LoggedModelStatus
    from mlflow.models import Model

    experiment_id = client.get_run(run_id).info.experiment_id
    logged = client.create_logged_model(experiment_id, name=MODEL_NAME, source_run_id=run_id)
    try:
        mlflow_model = Model(
            artifact_path=logged.artifact_location,
            model_uuid=logged.model_id,
            run_id=run_id,
            model_id=logged.model_id,
        )
        with tempfile.TemporaryDirectory(prefix="mlops-model-") as tmp:
            local = os.path.join(tmp, MODEL_NAME)
            flavor = save_model(model, local, mlflow_model, fit_inputs)
            model_seal = seal(folder_digest(local), MODEL_KIND)
            client.log_model_artifacts(logged.model_id, local)
        client.set_logged_model_tags(
            logged.model_id, {"mlops.flavor": flavor, MODEL_SEAL: model_seal}
        )
        client.log_outputs(run_id, [LoggedModelOutput(logged.model_id, step=0)])
    except BaseException:
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.FAILED)
        raise
    return client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)


def lineage_tags(client: MlflowClient, run_id: str) -> dict[str, str]:
    """Lineage tags of the step run ``run_id`` and its parent run, for a model version."""
    run_tags = client.get_run(run_id).data.tags
    tags = {k: v for k, v in run_tags.items() if k.startswith(_STEP_LINEAGE_PREFIXES)}
    parent_id = run_tags.get("mlflow.parentRunId")
    if parent_id:
        parent_tags = client.get_run(parent_id).data.tags
        tags.update({k: parent_tags[k] for k in _PARENT_LINEAGE_TAGS if k in parent_tags})
        tags["mlops.parent_run_id"] = parent_id
    return tags


def ensure_registered_model(client: MlflowClient, name: str, tags: Mapping[str, str]) -> None:
    """Create registered model ``name`` unless it exists."""
    from mlflow.exceptions import MlflowException

    try:
        client.create_registered_model(name, tags=dict(tags))
    except MlflowException as exc:
        if exc.error_code != "RESOURCE_ALREADY_EXISTS":
            raise


def log_and_register_model(
    tracking_uri: str,
    run_id: str,
    model: Any,
    fit_inputs: Mapping[str, Any],
    pipeline_name: str,
    tags: Mapping[str, str],
    registered_name: str | None = None,
    alias: str | None = CHALLENGER,
) -> str:
    """Log ``model`` in step run ``run_id``, register it as a new version of
    ``registered_name or pipeline_name``, tag the version with its lineage (run id, the run's
    input hashes, git commit and notebook hash, then ``tags``) and point ``alias`` (default
    ``challenger``; None: no alias, e.g. until the gates decide) at it. The version's run
    also gets its monitoring reference (``reference_sample.py``). Returns the version
    number as a string.
    """
    name = registered_name or pipeline_name
    with mlflow_errors(tracking_uri, f"log and register model '{name}'"):
        client = make_client(tracking_uri)
        logged = log_model(client, run_id, model, fit_inputs)
        log_reference(client, run_id, model, fit_inputs)
        version_tags = {
            **lineage_tags(client, run_id),
            "mlops.run_id": run_id,
            "mlops.model_id": logged.model_id,
            MODEL_SEAL: logged.tags[MODEL_SEAL],
            **{str(k): str(v) for k, v in tags.items()},
        }
        ensure_registered_model(client, name, {"mlops.pipeline": pipeline_name})
        # Source = the artifact location, not models:/<id>: the SQL registry resolves the
        # latter through MLflow's global tracking URI.
        version = client.create_model_version(
            name,
            source=logged.artifact_location,
            run_id=run_id,
            tags=version_tags,
            model_id=logged.model_id,
        )
        if alias is not None:
            move_alias(client, name, alias, version.version, "register")
    return str(version.version)


def get_alias_version(tracking_uri: str, name: str, alias: str) -> str | None:
    """The version ``alias`` points at in registered model ``name``; None when the model or
    the alias does not exist."""
    from mlflow.exceptions import MlflowException

    with mlflow_errors(tracking_uri, f"read alias '{alias}' of model '{name}'"):
        client = make_client(tracking_uri)
        try:
            aliases = client.get_registered_model(name).aliases
        except MlflowException as exc:
            if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
                return None
            raise
    version = aliases.get(alias)
    return str(version) if version is not None else None


def set_alias(
    tracking_uri: str,
    name: str,
    alias: str,
    version: str | int,
    reason: str = "register",
    gate: str | None = None,
) -> None:
    """Point ``alias`` of registered model ``name`` at ``version`` (moving it if set),
    recorded in the model's alias history with ``reason`` and the ``gate`` outcome."""
    with mlflow_errors(tracking_uri, f"set alias '{alias}' of model '{name}'"):
        move_alias(make_client(tracking_uri), name, alias, version, reason, gate=gate)
