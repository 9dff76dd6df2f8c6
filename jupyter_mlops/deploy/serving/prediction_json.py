"""Predictions as the JSON body MLflow's scoring server writes: ``{"predictions": ...}``
with numpy arrays as lists, a DataFrame or Series as a list of records, NaN as ``NaN``."""

from __future__ import annotations

import base64
import datetime
import json
from typing import Any


def encode_predictions(predictions: Any) -> bytes:
    """``{"predictions": ...}`` as MLflow's scoring server writes it (numpy arrays as lists,
    a DataFrame or Series as a list of records, NaN as ``NaN``)."""
    return ENCODER.encode({"predictions": jsonable(predictions)}).encode()


def jsonable(predictions: Any) -> Any:
    """Predictions as JSON-ready Python values, as MLflow's ``_get_jsonable_obj`` makes them."""
    module = type(predictions).__module__
    if module == "numpy" and hasattr(predictions, "shape") and predictions.shape:
        return predictions.tolist()
    if module.startswith("pandas"):
        return _pandas_records(predictions)
    return predictions


def _pandas_records(predictions: Any) -> Any:
    """A DataFrame or Series as a list of records; other pandas values as they are."""
    import pandas

    if isinstance(predictions, pandas.Series):
        predictions = pandas.DataFrame(predictions)
    if isinstance(predictions, pandas.DataFrame):
        return predictions.to_dict(orient="records")
    return predictions


def _json_default(value: Any) -> Any:
    """What MLflow's ``NumpyEncoder`` makes of a value ``json`` cannot write."""
    import numpy

    if isinstance(value, numpy.ndarray):
        if value.dtype == object:
            return [_json_default(item) if not _plain(item) else item for item in value.tolist()]
        return value.tolist()
    if isinstance(value, numpy.generic):
        return value.item()
    if isinstance(value, bytes | bytearray):
        return base64.encodebytes(value).decode("ascii")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if hasattr(value, "model_dump"):  # a pydantic model
        return value.model_dump()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | list | dict)


ENCODER = json.JSONEncoder(default=_json_default)
