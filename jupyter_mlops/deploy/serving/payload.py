"""MLflow's ``/invocations`` request and response bodies, without pandas: a JSON or CSV body
becomes validated ``Rows`` in the model's column order, and predictions become
``{"predictions": ...}`` byte for byte as MLflow's scoring server writes them."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from jupyter_mlops.deploy.serving.input_schema import CSV_MISSING, RAW, TEXT, InputSchema, show
from jupyter_mlops.deploy.serving.prediction_json import encode_predictions as encode_predictions
from jupyter_mlops.deploy.serving.request_error import (
    PAYLOAD_TOO_LARGE,
    UNSUPPORTED_MEDIA_TYPE,
    RequestError,
    bad_request,
    malformed,
)
from jupyter_mlops.deploy.serving.rows import Rows as Rows
from jupyter_mlops.deploy.serving.rows import build_rows, listing

FORMATS = ("dataframe_split", "dataframe_records", "instances", "inputs")
PARAMS = "params"
ALLOWED_KEYS = "send exactly one of 'dataframe_split', 'dataframe_records', 'instances', 'inputs' (and optionally 'params')"
JSON_TYPE = "application/json"
CSV_TYPE = "text/csv"
PANDAS_DTYPES = {"double": "float64", "float": "float32", "long": "int64", "integer": "int32"}
PANDAS_DTYPES |= {"boolean": "bool", "datetime": "datetime64[ns]"}


def check_body_size(length: int, limit: int) -> None:
    """413 when a body of ``length`` bytes is over ``limit``."""
    if length > limit:
        raise RequestError(
            413, PAYLOAD_TOO_LARGE, f"the body has {length} bytes; the limit is {limit} bytes"
        )


def parse_invocation(body: bytes, content_type: str, schema: InputSchema, max_rows: int) -> Rows:
    """The rows of a ``POST /invocations`` body (JSON in one of MLflow's four formats, or CSV)."""
    media = media_type(content_type)
    if media == JSON_TYPE:
        return parse_json(body, schema, max_rows)
    if media == CSV_TYPE:
        return parse_csv(body, schema, max_rows)
    raise RequestError(
        415,
        UNSUPPORTED_MEDIA_TYPE,
        f"content type '{content_type}' is not supported; send {JSON_TYPE} or {CSV_TYPE}",
    )


def media_type(content_type: str) -> str:
    """The media type of a Content-Type header; 415 for a charset other than UTF-8."""
    media, _, parameters = content_type.partition(";")
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset" and value.strip().strip('"').lower() != "utf-8":
            raise RequestError(
                415,
                UNSUPPORTED_MEDIA_TYPE,
                f"charset '{value.strip()}' is not supported; send UTF-8",
            )
    return media.strip().lower()


def load_json(body: bytes) -> Any:
    """The parsed UTF-8 body; 400 MALFORMED_REQUEST naming the position of a syntax error."""
    try:
        return json.loads(body.decode("utf-8-sig"))
    except json.JSONDecodeError as error:
        raise malformed(
            f"malformed JSON at line {error.lineno} column {error.colno} (char {error.pos}): {error.msg}"
        ) from None
    except UnicodeDecodeError as error:
        raise malformed(f"the body is not UTF-8 text (byte {error.start})") from None
    except RecursionError:
        raise malformed("malformed JSON: nested too deeply") from None


def parse_json(body: bytes, schema: InputSchema, max_rows: int) -> Rows:
    """The rows of an MLflow JSON scoring request."""
    document = load_json(body)
    if type(document) is not dict:
        kind = "a list" if isinstance(document, list) else f"{show(document)}"
        raise bad_request(f"the body must be a JSON object, got {kind}; {ALLOWED_KEYS}")
    key = format_key(document)
    payload = document[key]
    if key == "dataframe_split":
        names, data = _split_table(payload)
    elif key == "dataframe_records":
        names, data = _records_table(payload, key)
    else:  # MLflow reads binary values of these two as text, not base64
        names, data = _instances_table(payload, key, schema)
        return build_rows(names, data, schema, max_rows, RAW)
    return build_rows(names, data, schema, max_rows)


def format_key(document: dict[str, Any]) -> str:
    """The one format key of a request; 400 listing the allowed keys otherwise."""
    if len(document) == 1:
        key = next(iter(document))
        if key in FORMATS:
            return key
    found = [key for key in document if key in FORMATS]
    unknown = [key for key in document if key not in FORMATS and key != PARAMS]
    if unknown:
        raise bad_request(f"unknown key(s) {listing(unknown)}; {ALLOWED_KEYS}")
    if not found:
        raise bad_request(f"the request has no input key; {ALLOWED_KEYS}")
    if len(found) > 1:
        raise bad_request(f"the request has several input keys {listing(found)}; {ALLOWED_KEYS}")
    return found[0]


def _split_table(payload: Any) -> tuple[list[Any] | None, list[Any]]:
    """Column names and rows of a ``dataframe_split`` value."""
    if type(payload) is not dict or "data" not in payload:
        raise bad_request(
            "dataframe_split must be an object with 'data' (a list of rows) and optionally 'columns'"
        )
    if len(payload) > 1 and not payload.keys() <= {"columns", "data", "index"}:
        extra = sorted(set(payload) - {"columns", "data", "index"})
        raise bad_request(
            f"dataframe_split has unknown key(s) {listing(extra)}; it takes 'columns', 'data', 'index'"
        )
    names, data = payload.get("columns"), payload["data"]
    if names is not None and type(names) is not list:
        raise bad_request("dataframe_split 'columns' must be a list of column names")
    if type(data) is not list:
        raise bad_request("dataframe_split 'data' must be a list of rows")
    return names, data


def _records_table(records: Any, key: str) -> tuple[list[Any], list[Any]]:
    """Column names and rows of a list of ``{column: value}`` records."""
    if type(records) is not list:
        raise bad_request(f"{key} must be a list of records (objects)")
    if not records:
        return [], []
    names: list[Any] = []
    known: set[Any] = set()
    for number, record in enumerate(records):
        if type(record) is not dict:
            raise bad_request(f"{key} record {number} is {show(record)}, not an object")
        for name in record:
            if name not in known:
                known.add(name)
                names.append(name)
    if len(records) == 1:
        return names, [list(records[0].values())]
    return names, [[record.get(name) for name in names] for record in records]


def _instances_table(
    payload: Any, key: str, schema: InputSchema
) -> tuple[list[Any] | None, list[Any]]:
    """Column names and rows of an ``instances`` or ``inputs`` value."""
    if type(payload) is dict:
        return _columns_table(payload, key)
    if type(payload) is not list:
        raise bad_request(f"{key} must be a list of rows or records, or an object of columns")
    if not payload or type(payload[0]) is dict:
        return _records_table(payload, key)
    if type(payload[0]) is list:
        return None, payload
    if len(schema.columns) > 1:
        raise bad_request(
            f"{key} is a list of scalars, which fits a one-column model; this model takes "
            f"{len(schema.columns)} columns: {', '.join(schema.columns)}"
        )
    return list(schema.columns[:1]) or None, [[value] for value in payload]


def _columns_table(columns: dict[str, Any], key: str) -> tuple[list[Any], list[Any]]:
    """Rows of ``{column: [values]}`` (or ``{column: value}``, one row)."""
    names = list(columns)
    lists = [type(value) is list for value in columns.values()]
    if not any(lists):
        return names, [list(columns.values())]
    if not all(lists):
        scalars = [name for name, is_list in zip(names, lists, strict=True) if not is_list]
        raise malformed(f"{key} mixes lists and single values: {listing(scalars)} are not lists")
    lengths = {name: len(value) for name, value in columns.items()}
    if len(set(lengths.values())) > 1:
        counts = ", ".join(f"'{name}' has {count}" for name, count in lengths.items())
        raise malformed(f"{key} columns differ in length: {counts}")
    return names, [list(row) for row in zip(*columns.values(), strict=True)]


def parse_csv(body: bytes, schema: InputSchema, max_rows: int) -> Rows:
    """The rows of a CSV body with a header row, each cell converted to its column's type."""
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise malformed(f"the CSV body is not UTF-8 text (byte {error.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        table = [row for row in reader if row]
    except csv.Error as error:
        raise malformed(f"malformed CSV at line {reader.line_num}: {error}") from None
    if not table:
        raise bad_request("the CSV body is empty; it needs a header row and at least one row")
    names, data = table[0], table[1:]
    if schema.open and len(data) <= max_rows:
        data = _infer_cells(data, len(names))
    return build_rows(names, data, schema, max_rows, TEXT)


def _infer_cells(data: list[list[str]], width: int) -> list[Any]:
    """CSV cells typed as pandas would for a model without a signature: a column of
    integers, else of numbers, else of text (missing cells: None)."""
    if any(len(row) != width for row in data):
        return data  # the shape check names the ragged row
    columns = [_infer_column([row[i] for row in data]) for i in range(width)]
    return [list(row) for row in zip(*columns, strict=True)] if data else data


def _infer_column(cells: list[str]) -> list[Any]:
    for kind in (int, float):
        try:
            return [None if cell in CSV_MISSING else kind(cell) for cell in cells]
        except ValueError:
            continue
    return [None if cell in CSV_MISSING else cell for cell in cells]


def frame_from_rows(rows: Rows, schema: InputSchema) -> Any:
    """The rows as a pandas DataFrame with the schema's dtypes (what MLflow's enforcement
    gives the model)."""
    import pandas

    frame = pandas.DataFrame.from_records(rows.values, columns=list(rows.columns))
    for column, kind in zip(schema.columns, schema.types, strict=True):
        if kind in PANDAS_DTYPES:
            frame[column] = frame[column].astype(PANDAS_DTYPES[kind])
    return frame
