"""Parity of the ``/invocations`` formats with MLflow's scoring server: coerced rows equal
what MLflow's parsing and schema enforcement give the model, what MLflow refuses or would
silently alter is refused, random valid payloads round-trip in every format, any JSON gets
rows or a RequestError, and the response body equals MLflow's byte for byte."""

from __future__ import annotations

import base64
import csv
import io
import json
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.models import infer_signature
from mlflow.models.utils import _enforce_schema
from mlflow.pyfunc.scoring_server import (
    _split_data_and_params,
    infer_and_parse_data,
    parse_csv_input,
    predictions_to_json,
)
from payload_cases import COLUMNS, SCHEMA, SIGNATURE, parse, refusal, split

from jupyter_mlops.deploy.serving.input_schema import CSV_MISSING, InputSchema
from jupyter_mlops.deploy.serving.payload import Rows, encode_predictions, frame_from_rows
from jupyter_mlops.deploy.serving.request_error import RequestError

# Payloads MLflow accepts without altering a value: our rows, as a frame with the schema's
# dtypes, equal what MLflow's server parses and its schema enforcement hands the model.
PARITY = [
    split([5, 3, "setosa", True], [4.5, 2.0, "virginica", False]),
    split([None, 3, None, True], [float("nan"), -(2**63), "", False]),
    {"dataframe_split": {"columns": COLUMNS[::-1], "data": [[True, "s", 1, 2.25]]}},
    {"dataframe_records": [{"sepal_length": 1, "petals": 2, "species": "a", "wild": True}] * 3},
    {"instances": [{"sepal_length": 1.5, "petals": 2, "species": "a", "wild": False}]},
    {
        "inputs": {
            "sepal_length": [1.5, 2],
            "petals": [2, 3],
            "species": ["a", "b"],
            "wild": [False, True],
        }
    },
    {"inputs": {"sepal_length": 1.5, "petals": 2, "species": "a", "wild": False}},
]


def mlflow_frame(payload: dict[str, Any], signature: Any = SIGNATURE) -> pd.DataFrame:
    data, _ = _split_data_and_params(json.dumps(payload))
    return _enforce_schema(infer_and_parse_data(data, signature.inputs), signature.inputs)


SCHEMA_MLFLOW = SIGNATURE.inputs


def assert_same_frame(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """Equal values; equal dtypes except text, which MLflow leaves as object or str."""
    text = [c for c, kind in zip(SCHEMA.columns, SCHEMA.types, strict=True) if kind == "string"]
    numeric = [c for c in SCHEMA.columns if c not in text]
    pd.testing.assert_frame_equal(ours[numeric], theirs[numeric])
    for column in text:
        assert [None if pd.isna(v) else v for v in ours[column]] == [
            None if pd.isna(v) else v for v in theirs[column]
        ]


@pytest.mark.parametrize("payload", PARITY)
def test_coercion_equals_mlflow_enforcement(payload: dict[str, Any]) -> None:
    assert_same_frame(frame_from_rows(parse(payload), SCHEMA), mlflow_frame(payload))


# float32, int32, binary and datetime columns: base64 binary in the dataframe formats,
# text binary in instances and inputs, as MLflow reads them.
NARROW_FRAME = pd.DataFrame(
    {
        "f": np.array([1.5, 2.0], dtype=np.float32),
        "i": np.array([1, 2], dtype=np.int32),
        "raw": [b"ab", b"c"],
        "when": pd.to_datetime(["2024-01-02 00:00:00", "2024-01-03 04:05:06"]),
    }
)
with warnings.catch_warnings():  # MLflow's hint that integer columns cannot hold NaN
    warnings.simplefilter("ignore")
    NARROW_SIGNATURE = infer_signature(NARROW_FRAME)
NARROW = InputSchema.from_signature(NARROW_SIGNATURE)
XYZ = base64.b64encode(b"xyz\x00\xff").decode()


@pytest.mark.parametrize(
    "payload",
    [
        {
            "dataframe_split": {
                "columns": ["f", "i", "raw", "when"],
                "data": [[0.1, 3, XYZ, "2024-05-06T07:08:09"]],
            }
        },
        {"dataframe_records": [{"f": 2, "i": 3.0, "raw": XYZ, "when": "2024-05-06"}] * 2},
        {"instances": [{"f": 1e-3, "i": -7, "raw": "text", "when": "2024-05-06 01:02:03.500"}]},
        {
            "inputs": {
                "f": [0.1, 3],
                "i": [7, 8],
                "raw": ["cQ==", "x"],
                "when": ["2024-05-06", "2024-05-07"],
            }
        },
    ],
)
def test_narrow_binary_and_datetime_columns_equal_mlflow(payload: dict[str, Any]) -> None:
    assert NARROW.types == ("float", "integer", "binary", "datetime")
    rows = parse(payload, schema=NARROW)
    theirs = mlflow_frame(payload, NARROW_SIGNATURE)
    pd.testing.assert_frame_equal(frame_from_rows(rows, NARROW), theirs)


def test_csv_coercion_equals_mlflow() -> None:
    body = "petals,wild,species,sepal_length\n3,True,setosa,5\n4,false,,\n"
    theirs = _enforce_schema(parse_csv_input(io.StringIO(body), SCHEMA_MLFLOW), SCHEMA_MLFLOW)
    assert_same_frame(frame_from_rows(parse(body.encode(), "text/csv"), SCHEMA), theirs)


@pytest.mark.parametrize(
    "row",
    [["abc", 3, "s", True], [1.0, None, "s", True], [1.0, 2**64, "s", True]],
)
def test_what_mlflow_refuses_is_refused(row: list[Any]) -> None:
    refusal(split(row))
    with pytest.raises(Exception, match="Failed to convert column"):
        mlflow_frame(split(row))


@pytest.mark.parametrize(
    ("row", "column", "altered"),
    [
        ([1.0, 2.5, "s", True], "petals", 2),
        ([1.0, 2, "s", None], "wild", False),
        ([1.0, 2, "s", "false"], "wild", True),
        ([True, 2, "s", True], "sepal_length", 1.0),
    ],
)
def test_what_mlflow_silently_alters_is_refused(row: list[Any], column: str, altered: Any) -> None:
    assert mlflow_frame(split(row))[column][0] == altered
    assert f"column '{column}' row 0" in refusal(split(row)).message


# Round trip: random valid rows, sent in any format, come back as the same Rows.
KINDS = {
    "double": st.one_of(
        st.floats(allow_nan=False, allow_infinity=False), st.integers(-(2**53), 2**53)
    ),
    "long": st.integers(-(2**63), 2**63 - 1),
    "string": st.text(st.characters(blacklist_categories=("Cs",)), max_size=8),
    "boolean": st.booleans(),
}
PROPERTY = settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[InputSchema, list[list[Any]]]:
    width = draw(st.integers(1, 6))
    types = tuple(draw(st.sampled_from(sorted(KINDS))) for _ in range(width))
    names = tuple(
        draw(
            st.lists(
                st.from_regex(r"[a-z][a-z0-9_]{0,6}", fullmatch=True),
                min_size=width,
                max_size=width,
                unique=True,
            )
        )
    )
    schema = InputSchema(columns=names, types=types, required=(True,) * width)
    data = draw(
        st.lists(st.tuples(*(KINDS[kind] for kind in types)).map(list), min_size=1, max_size=5)
    )
    return schema, data


def expected(schema: InputSchema, data: list[list[Any]]) -> Rows:
    cast = {"double": float, "long": int, "string": str, "boolean": bool}
    return Rows(
        schema.columns,
        [tuple(cast[k](v) for k, v in zip(schema.types, row, strict=True)) for row in data],
    )


def encodings(schema: InputSchema, data: list[list[Any]], order: list[int]) -> list[dict[str, Any]]:
    names = list(schema.columns)
    records = [dict((names[i], row[i]) for i in order) for row in data]
    return [
        {
            "dataframe_split": {
                "columns": [names[i] for i in order],
                "data": [[row[i] for i in order] for row in data],
            }
        },
        {"dataframe_split": {"data": data}},
        {"dataframe_records": records},
        {"instances": records},
        {"instances": data} if len(names) > 1 else {"instances": [row[0] for row in data]},
        {"inputs": {names[i]: [row[i] for row in data] for i in order}},
    ]


@PROPERTY
@given(tables(), st.randoms())
def test_valid_payloads_round_trip_to_the_same_rows(table: Any, random: Any) -> None:
    schema, data = table
    order = list(range(len(schema.columns)))
    random.shuffle(order)
    want = expected(schema, data)
    for payload in encodings(schema, data, order):
        assert parse(payload, schema=schema) == want, payload


@PROPERTY
@given(tables())
def test_valid_csv_round_trips_to_the_same_rows(table: Any) -> None:
    schema, data = table
    sent = [[None if isinstance(v, str) and v in CSV_MISSING else v for v in row] for row in data]
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(schema.columns)
    writer.writerows([[repr(v) if type(v) is float else v for v in row] for row in sent])
    typed = expected(schema, [["" if v is None else v for v in row] for row in sent]).values
    want = [
        tuple(None if v is None else t for v, t in zip(row, typed_row, strict=True))
        for row, typed_row in zip(sent, typed, strict=True)
    ]
    assert parse(text.getvalue().encode(), "text/csv", schema).values == want


# The response body equals MLflow's own, byte for byte.
@pytest.mark.parametrize(
    "predictions",
    [
        np.array([1.5, float("nan"), 3.0]),
        np.array([1, 2, 3], dtype=np.int64),
        np.array([[0.25, 0.75], [1.0, 0.0]], dtype=np.float32),
        np.array(["setosa", "virginica"], dtype=object),
        np.array([True, False]),
        [np.int64(2), np.float64(0.5), "x", None],
        pd.Series([1.0, float("nan")], name="score"),
        pd.Series([1, 2]),
        pd.DataFrame(
            {"label": ["a", "b"], "p": [0.1, float("nan")], "n": np.array([1, 2], dtype=np.int64)}
        ),
        pd.DataFrame({"when": pd.to_datetime(["2024-01-02", "2024-03-04"])}),
        pd.Timestamp("2024-01-02 03:04:05"),
        np.array([b"ab", b"c"]),
        np.float64(0.5),
        {"label": np.int64(1), "raw": b"\x00"},
    ],
)
def test_response_body_equals_mlflow(predictions: Any) -> None:
    theirs = io.StringIO()
    predictions_to_json(predictions, theirs)
    assert encode_predictions(predictions) == theirs.getvalue().encode()


# Whatever JSON arrives, the answer is rows or a RequestError: never another exception.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=6),
    st.sampled_from(COLUMNS),
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(st.sampled_from(COLUMNS), st.text(max_size=4)), inner, max_size=5
        ),
    ),
    max_leaves=30,
)
DOCUMENTS = st.one_of(
    JSON_VALUES,
    st.dictionaries(
        st.sampled_from(["dataframe_split", "dataframe_records", "instances", "inputs", "params"]),
        JSON_VALUES,
        min_size=1,
        max_size=2,
    ),
    st.builds(
        lambda rows, columns: {"dataframe_split": {"columns": columns, "data": rows}},
        st.lists(st.lists(SCALARS, max_size=5), max_size=4),
        st.lists(
            st.one_of(st.sampled_from(COLUMNS), SCALARS, st.lists(SCALARS, max_size=1)), max_size=5
        ),
    ),
)


@PROPERTY
@given(DOCUMENTS, st.sampled_from([SCHEMA, InputSchema()]))
def test_any_json_gives_rows_or_a_request_error(document: Any, schema: InputSchema) -> None:
    body = json.dumps(document).encode()
    try:
        rows = parse(body, schema=schema)
    except RequestError as error:
        assert 400 <= error.status < 500 and error.message
    else:
        assert len(rows.values) >= 1
        assert all(len(row) == len(rows.columns) for row in rows.values)


@PROPERTY
@given(st.binary(max_size=200), st.sampled_from(["application/json", "text/csv"]))
def test_any_bytes_give_rows_or_a_request_error(body: bytes, content_type: str) -> None:
    try:
        parse(body, content_type)
    except RequestError as error:
        assert 400 <= error.status < 500
