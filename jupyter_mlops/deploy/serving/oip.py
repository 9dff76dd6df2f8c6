"""The Open Inference Protocol v2 (KServe) JSON bodies: ``POST /v2/models/{name}/infer``
requests become validated ``Rows``; predictions and model metadata become its responses.

A request sends either one input per model column (named as the column, shape ``[n]`` or
``[n, 1]``) or one two-dimensional input of shape ``[n, columns]`` (data flat or nested),
whose columns are the model's in order. BYTES values of a binary column are their UTF-8
bytes (no base64), as MLflow reads binary values of ``instances`` and ``inputs``."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from jupyter_mlops.deploy.serving.input_schema import RAW, InputSchema, show
from jupyter_mlops.deploy.serving.payload import load_json
from jupyter_mlops.deploy.serving.prediction_json import ENCODER, jsonable
from jupyter_mlops.deploy.serving.request_error import bad_request, malformed
from jupyter_mlops.deploy.serving.rows import Rows, build_rows, listing

REQUEST_KEYS = ("id", "inputs", "outputs", "parameters")
TENSOR_KEYS = ("name", "shape", "datatype", "data", "parameters")
INTEGER_TYPES = frozenset(f"{sign}INT{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64))
FLOAT_TYPES = frozenset({"FP16", "FP32", "FP64"})
DATATYPES = INTEGER_TYPES | FLOAT_TYPES | {"BOOL", "BYTES"}
MLFLOW_TO_OIP = {"double": "FP64", "float": "FP32", "long": "INT64", "integer": "INT32"}
MLFLOW_TO_OIP["boolean"] = "BOOL"
OUTPUT_NAME = "predict"


@dataclass(frozen=True)
class Tensor:
    """One request input: its name, shape, datatype and values flattened row-major."""

    name: str
    shape: tuple[int, ...]
    datatype: str
    values: list[Any]


def parse_infer(body: bytes, schema: InputSchema, max_rows: int) -> tuple[Rows, str | None]:
    """The rows and request id of an inference request."""
    document = load_json(body)
    if type(document) is not dict or type(document.get("inputs")) is not list:
        raise bad_request("the body must be a JSON object with 'inputs': a list of tensors")
    unknown = [key for key in document if key not in REQUEST_KEYS]
    if unknown:
        raise bad_request(f"unknown key(s) {listing(unknown)}; allowed: {', '.join(REQUEST_KEYS)}")
    request_id = document.get("id")
    if request_id is not None and type(request_id) is not str:
        raise bad_request(f"'id' must be a string, got {show(request_id)}")
    if not document["inputs"]:
        raise bad_request(
            "'inputs' is empty; send one tensor per column or one [rows, columns] tensor"
        )
    tensors = [read_tensor(item, number) for number, item in enumerate(document["inputs"])]
    if _is_matrix(tensors, schema):
        return _matrix_rows(tensors[0], schema, max_rows), request_id
    return _column_rows(tensors, schema, max_rows), request_id


def read_tensor(item: Any, number: int) -> Tensor:
    """Input ``number`` of a request, its shape and datatype checked against its data."""
    if type(item) is not dict:
        raise bad_request(f"input {number} is {show(item)}, not an object")
    name = item.get("name")
    label = f"input {show(name)}" if type(name) is str else f"input {number}"
    if type(name) is not str or not name:
        raise bad_request(f"{label} has no 'name'")
    unknown = [key for key in item if key not in TENSOR_KEYS]
    if unknown:
        raise bad_request(f"{label} has unknown key(s) {listing(unknown)}")
    shape, datatype, data = item.get("shape"), item.get("datatype"), item.get("data")
    if type(shape) is not list or not shape or not all(_is_count(size) for size in shape):
        raise bad_request(f"{label}: 'shape' must be a list of sizes, got {show(shape)}")
    if datatype not in DATATYPES:
        raise bad_request(
            f"{label}: datatype {show(datatype)} is not one of {', '.join(sorted(DATATYPES))}"
        )
    if type(data) is not list:
        raise bad_request(f"{label}: 'data' must be a list, got {show(data)}")
    values = _flat(data)
    if len(values) != math.prod(shape):
        raise malformed(
            f"{label}: shape {shape} needs {math.prod(shape)} values; 'data' has {len(values)}"
        )
    _check_datatype(values, datatype, label)
    return Tensor(name, tuple(shape), datatype, values)


def _is_count(size: Any) -> bool:
    return type(size) is int and size >= 0


def _flat(data: list[Any]) -> list[Any]:
    """Nested lists flattened row-major (a flat list as it is)."""
    if not any(type(value) is list for value in data):
        return data
    flat: list[Any] = []
    stack = [iter(data)]
    while stack:
        for value in stack[-1]:
            if type(value) is list:
                stack.append(iter(value))
                break
            flat.append(value)
        else:
            stack.pop()
    return flat


def _is_number(value: Any) -> bool:
    return type(value) in (float, int)


def _is_int(value: Any) -> bool:
    return type(value) is int


def _is_bool(value: Any) -> bool:
    return type(value) is bool


def _is_str(value: Any) -> bool:
    return type(value) is str


def _check_datatype(values: list[Any], datatype: str, label: str) -> None:
    """400 naming the first value that is not of the tensor's declared datatype."""
    fits = _is_number if datatype in FLOAT_TYPES else _is_int if datatype in INTEGER_TYPES else None
    fits = fits or (_is_bool if datatype == "BOOL" else _is_str)
    for index, value in enumerate(values):
        if not fits(value):
            raise bad_request(
                f"{label} ({datatype}) value {index}: {show(value)} is not {datatype}"
            )


def _is_matrix(tensors: list[Tensor], schema: InputSchema) -> bool:
    """Whether the request is one [rows, columns] tensor rather than one tensor per column."""
    if len(tensors) != 1 or len(tensors[0].shape) != 2:
        return False
    tensor = tensors[0]
    return tensor.shape[1] != 1 or tensor.name not in schema.index


def _matrix_rows(tensor: Tensor, schema: InputSchema, max_rows: int) -> Rows:
    count, width = tensor.shape
    if width == 0 or (not schema.open and width != len(schema.columns)):
        raise bad_request(
            f"input {show(tensor.name)} has {width} columns; the model takes "
            f"{len(schema.columns)}: {', '.join(schema.columns)}"
        )
    values = tensor.values
    data = [values[start : start + width] for start in range(0, count * width, width)]
    return build_rows(None, data, schema, max_rows, RAW)


def _column_rows(tensors: list[Tensor], schema: InputSchema, max_rows: int) -> Rows:
    first = tensors[0]
    for tensor in tensors:
        if len(tensor.shape) > 2 or tensor.shape[1:] not in ((), (1,)):
            raise bad_request(
                f"input {show(tensor.name)} has shape {list(tensor.shape)}; a column input takes "
                "shape [n] or [n, 1] (or send one [n, columns] input)"
            )
        if tensor.shape[0] != first.shape[0]:
            raise malformed(
                f"input {show(tensor.name)} has {tensor.shape[0]} rows; "
                f"input {show(first.name)} has {first.shape[0]}"
            )
    names = [tensor.name for tensor in tensors]
    data = [list(row) for row in zip(*(tensor.values for tensor in tensors), strict=True)]
    return build_rows(names, data, schema, max_rows, RAW)


def encode_infer(model_name: str, version: str, request_id: str | None, predictions: Any) -> bytes:
    """The inference response: one output ``predict`` (one per column for a DataFrame)."""
    body: dict[str, Any] = {"model_name": model_name, "model_version": str(version)}
    if request_id is not None:
        body["id"] = request_id
    body["outputs"] = outputs(predictions)
    return ENCODER.encode(body).encode()


def outputs(predictions: Any) -> list[dict[str, Any]]:
    """The output tensors of a prediction (numpy array, list, pandas Series or DataFrame)."""
    import numpy

    if type(predictions).__module__.startswith("pandas"):
        if hasattr(predictions, "columns"):
            if len(predictions.columns) != 1:
                return [_tensor(str(c), predictions[c].to_numpy()) for c in predictions.columns]
            predictions = predictions.iloc[:, 0]
        predictions = predictions.to_numpy()
    return [_tensor(OUTPUT_NAME, numpy.asarray(predictions))]


def _tensor(name: str, array: Any) -> dict[str, Any]:
    shape = list(array.shape) or [1]
    data = jsonable(array.reshape(-1))
    return {"name": name, "shape": shape, "datatype": oip_datatype(array.dtype), "data": data}


def oip_datatype(dtype: Any) -> str:
    """The OIP datatype of a numpy dtype (BYTES for text and objects)."""
    bits = dtype.itemsize * 8
    kinds = {"f": f"FP{bits}", "i": f"INT{bits}", "u": f"UINT{bits}", "b": "BOOL"}
    return kinds.get(dtype.kind, "BYTES")


def model_metadata(name: str, versions: list[str], schema: InputSchema) -> bytes:
    """``GET /v2/models/{name}``: name, versions, platform and the input tensors (outputs
    are left empty: the served signature does not fix their datatype)."""
    body = {
        "name": name,
        "versions": [str(version) for version in versions],
        "platform": "mlflow",
        "inputs": metadata_inputs(schema),
        "outputs": [],
    }
    return json.dumps(body).encode()


def metadata_inputs(schema: InputSchema) -> list[dict[str, Any]]:
    """One input per named column, or one [-1, columns] input for a positional schema."""
    if schema.open:
        return []
    if schema.named:
        return [
            {"name": column, "datatype": MLFLOW_TO_OIP.get(kind, "BYTES"), "shape": [-1]}
            for column, kind in zip(schema.columns, schema.types, strict=True)
        ]
    kinds = {MLFLOW_TO_OIP.get(kind, "BYTES") for kind in schema.types}
    datatype = kinds.pop() if len(kinds) == 1 else "BYTES"
    return [{"name": "input-0", "datatype": datatype, "shape": [-1, len(schema.columns)]}]
