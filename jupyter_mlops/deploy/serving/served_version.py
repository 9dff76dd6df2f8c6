"""One registered model version, loaded for serving: sealed files, schema, the fastest
predict path that answers exactly as MLflow's pyfunc does, and whether batching is exact.

MLflow's server turns every request into a DataFrame and enforces the signature before
``predict`` (about 1 ms of pandas per request). A scikit-learn model whose inputs are all
numeric answers the same from a float64 array; which path a version takes is decided when
it is loaded, by predicting its input example both ways and keeping the array path only
when the answers are identical. Micro-batching is kept only when predicting the example's
rows together equals predicting each row alone.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.serving.input_schema import InputSchema
from jupyter_mlops.deploy.serving.payload import Rows, frame_from_rows
from jupyter_mlops.registry.model_ref import download_version

log = logging.getLogger(__name__)

NUMERIC_TYPES = frozenset({"double", "float", "long", "integer"})
ARRAY_PATH = "array"
FRAME_PATH = "frame"

Predict = Callable[[Rows], Any]


@dataclass
class ServedVersion:
    """A loaded version. ``predict`` takes validated rows and returns one prediction per
    row (a numpy array, a list, or a pandas object, as the model gives them)."""

    name: str
    version: str
    schema: InputSchema
    predict: Predict
    path: str  # ARRAY_PATH or FRAME_PATH
    batching: bool
    example: Rows | None
    folder: Path
    loaded_at: float = field(default_factory=time.time)
    inflight: int = 0

    def release(self) -> None:
        """Forget the downloaded files (the model object goes with the last reference)."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def describe(self) -> dict[str, Any]:
        """What ``/version`` shows of this version."""
        return {
            "version": self.version,
            "path": self.path,
            "batching": self.batching,
            "loaded_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.loaded_at)),
        }


def load_version(
    tracking_uri: str, name: str, version: str, workdir: Path, trusted_digest: str | None = None
) -> ServedVersion:
    """Download, check the seal (or the ``trusted_digest``) of, load and warm version
    ``version`` of model ``name``."""
    import mlflow.pyfunc

    folder = Path(tempfile.mkdtemp(prefix=f"v{version}-", dir=workdir))
    try:
        local = download_version(tracking_uri, name, version, folder, trusted_digest)
        pyfunc = mlflow.pyfunc.load_model(str(local))
        schema = InputSchema.from_signature(pyfunc.metadata.signature)
        example = _input_example(local)
        predict, path = _fastest_exact_predict(pyfunc, schema, example)
        batching = example is not None and _batching_is_exact(predict, example)
    except Exception:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    log.info("loaded %s version %s (%s path, batching %s)", name, version, path, batching)
    return ServedVersion(name, version, schema, predict, path, batching, example, folder)


def _input_example(local: Path) -> Rows | None:
    """The version's input example as rows, or None when it was logged without one."""
    from mlflow.models import Model

    frame: Any = Model.load(str(local)).load_input_example(str(local))
    if frame is None or not hasattr(frame, "itertuples"):
        return None
    return Rows(tuple(str(c) for c in frame.columns), list(frame.itertuples(index=False)))


def _fastest_exact_predict(
    pyfunc: Any, schema: InputSchema, example: Rows | None
) -> tuple[Predict, str]:
    """The array path when it answers the example exactly as pyfunc; else pyfunc itself."""

    def by_frame(rows: Rows) -> Any:
        return pyfunc.predict(frame_from_rows(rows, schema))

    estimator = _sklearn_estimator(pyfunc)
    if estimator is None or example is None or not schema.columns:
        return by_frame, FRAME_PATH
    if any(kind not in NUMERIC_TYPES for kind in schema.types):
        return by_frame, FRAME_PATH
    _ignore_feature_name_warning()

    def by_array(rows: Rows) -> Any:
        import numpy

        return estimator.predict(numpy.asarray(rows.values, dtype=numpy.float64))

    try:
        same = identical(by_array(example), by_frame(example))
    except Exception as exc:
        log.info("array path refused by %s: %s", type(estimator).__name__, exc)
        same = False
    return (by_array, ARRAY_PATH) if same else (by_frame, FRAME_PATH)


def _sklearn_estimator(pyfunc: Any) -> Any:
    """The scikit-learn estimator behind a pyfunc model of the sklearn flavor, else None."""
    if pyfunc.metadata.flavors.get("python_function", {}).get("loader_module") != "mlflow.sklearn":
        return None
    return getattr(pyfunc._model_impl, "sklearn_model", None)


def _ignore_feature_name_warning() -> None:
    """scikit-learn warns when an estimator fitted on a DataFrame predicts on an array;
    the columns are in the signature's order, so the warning says nothing here. A
    permanent filter: ``catch_warnings`` is not thread-safe."""
    warnings.filterwarnings("ignore", message="X does not have valid feature names")


def _batching_is_exact(predict: Predict, example: Rows) -> bool:
    """Whether predicting rows together answers each row as predicting it alone does."""
    rows = Rows(example.columns, list(example.values) * 3)
    try:
        together = predict(rows)
        alone = [predict(Rows(rows.columns, [row])) for row in rows.values]
        return all(identical(take(together, i, i + 1), one) for i, one in enumerate(alone))
    except Exception as exc:
        log.info("micro-batching off: predicting rows together failed (%s)", exc)
        return False


def take(predictions: Any, start: int, stop: int) -> Any:
    """Rows ``start:stop`` of a batch's predictions (numpy, pandas or a list)."""
    if hasattr(predictions, "iloc"):
        return predictions.iloc[start:stop]
    return predictions[start:stop]


def identical(left: Any, right: Any) -> bool:
    """Exact equality of two predictions: same type, dtype, shape and values (NaN equal)."""
    import numpy
    import pandas

    if type(left) is not type(right):
        return False
    if isinstance(left, pandas.DataFrame | pandas.Series):
        return bool(left.reset_index(drop=True).equals(right.reset_index(drop=True)))
    if isinstance(left, numpy.ndarray):
        if left.dtype != right.dtype or left.shape != right.shape:
            return False
        return bool(numpy.array_equal(left, right, equal_nan=left.dtype.kind in "fc"))
    return bool(left == right)
