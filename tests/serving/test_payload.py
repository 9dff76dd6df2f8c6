"""The ``/invocations`` request formats of the prediction service: every MLflow format on a
real signature, CSV, models without a signature or with a tensor signature, and each
refusal with its status, error code and message."""

from __future__ import annotations

import datetime
import json
import math
from typing import Any

import numpy as np
import pytest
from mlflow.models import infer_signature
from payload_cases import COLUMNS, GOOD, ONE_ROW, SCHEMA, TRAINING, parse, refusal, split

from jupyter_mlops.deploy.serving.input_schema import InputSchema
from jupyter_mlops.deploy.serving.payload import Rows, check_body_size
from jupyter_mlops.deploy.serving.request_error import RequestError


def test_schema_from_a_real_signature() -> None:
    assert SCHEMA.columns == tuple(COLUMNS)
    assert SCHEMA.types == ("double", "long", "string", "boolean")
    assert SCHEMA.named and not SCHEMA.open
    assert InputSchema.from_signature(None).open


@pytest.mark.parametrize(
    "payload",
    [
        {"dataframe_split": {"columns": COLUMNS, "data": [[5, 3, "setosa", True]]}},
        {"dataframe_split": {"data": [[5.0, 3, "setosa", True]]}, "params": {"x": 1}},
        {
            "dataframe_split": {
                "columns": ["wild", "species", "petals", "sepal_length"],
                "data": [[True, "setosa", 3.0, 5]],
            }
        },
        {"dataframe_split": {"columns": COLUMNS, "data": [[5, 3, "setosa", True]], "index": [7]}},
        {
            "dataframe_records": [
                {"wild": True, "species": "setosa", "petals": 3, "sepal_length": 5.0}
            ]
        },
        {"instances": [{"sepal_length": 5, "petals": 3, "species": "setosa", "wild": True}]},
        {"instances": [[5.0, 3, "setosa", True]]},
        {"inputs": [{"sepal_length": 5, "petals": 3, "species": "setosa", "wild": True}]},
        {"inputs": [[5.0, 3, "setosa", True]]},
        {"inputs": {"sepal_length": [5.0], "petals": [3], "species": ["setosa"], "wild": [True]}},
        {"inputs": {"sepal_length": 5.0, "petals": 3, "species": "setosa", "wild": True}},
    ],
)
def test_every_json_format_gives_the_same_rows(payload: dict[str, Any]) -> None:
    rows = parse(payload, "application/json; charset=utf-8")
    assert rows == ONE_ROW
    assert [type(value) for value in rows.values[0]] == [float, int, str, bool]


def test_csv_with_a_header_row() -> None:
    body = b"wild,species,petals,sepal_length\ntrue,setosa,3,5\nFalse,,4,\n"
    rows = parse(body, "text/csv")
    assert rows.columns == tuple(COLUMNS)
    assert rows.values[0] == (5.0, 3, "setosa", True)
    assert math.isnan(rows.values[1][0]) and rows.values[1][1:] == (4, None, False)


def test_nulls_and_nan_in_a_double_column_are_nan() -> None:
    body = b'{"dataframe_split": {"columns": %s, "data": [[null, 1, "a", true], [NaN, 2, null, false]]}}'
    rows = parse(body % json.dumps(COLUMNS).encode())
    assert all(math.isnan(row[0]) for row in rows.values)
    assert rows.values[1][2] is None


@pytest.mark.parametrize(
    ("payload", "code", "message"),
    [
        (
            b'{"dataframe_split": {"data": [[1,',
            "MALFORMED_REQUEST",
            "malformed JSON at line 1 column 34 (char 33): Expecting value",
        ),
        (b"\xff\xfe", "MALFORMED_REQUEST", "not UTF-8"),
        ([GOOD], "BAD_REQUEST", "the body must be a JSON object, got a list"),
        (
            {"rows": [GOOD]},
            "BAD_REQUEST",
            "unknown key(s) 'rows'; send exactly one of 'dataframe_split', 'dataframe_records', 'instances', 'inputs'",
        ),
        ({"params": {}}, "BAD_REQUEST", "the request has no input key"),
        (
            {"instances": [GOOD], "inputs": [GOOD]},
            "BAD_REQUEST",
            "several input keys 'instances', 'inputs'",
        ),
        (
            split(GOOD[:3], columns=COLUMNS[:3]),
            "BAD_REQUEST",
            "missing column(s) 'wild'; the model takes sepal_length, petals, species, wild",
        ),
        (
            split(GOOD + [1], columns=COLUMNS + ["extra"]),
            "BAD_REQUEST",
            "unknown column(s) 'extra'",
        ),
        (
            split(GOOD, columns=COLUMNS[:2] + ["petals", "wild"]),
            "BAD_REQUEST",
            "column(s) 'petals' appear more than once",
        ),
        (
            split(["abc", 3, "setosa", True]),
            "BAD_REQUEST",
            "column 'sepal_length' row 0: 'abc' is not a number (double)",
        ),
        (
            split(GOOD, [True, 3, "x", True]),
            "BAD_REQUEST",
            "column 'sepal_length' row 1: true is not a number (double)",
        ),
        (
            split([5.0, 3.5, "setosa", True]),
            "BAD_REQUEST",
            "column 'petals' row 0: 3.5 is not an integer (long)",
        ),
        (
            split([5.0, None, "setosa", True]),
            "BAD_REQUEST",
            "column 'petals' row 0: null is not an integer (long)",
        ),
        (
            split([5.0, 2**63, "setosa", True]),
            "BAD_REQUEST",
            f"column 'petals' row 0: {2**63} is out of range for long",
        ),
        (
            split([5.0, 3, 7, True]),
            "BAD_REQUEST",
            "column 'species' row 0: 7 is not a string (string)",
        ),
        (
            split([5.0, 3, "x", 1]),
            "BAD_REQUEST",
            "column 'wild' row 0: 1 is not a boolean (boolean)",
        ),
        (
            split([5.0, 3, "x", None]),
            "BAD_REQUEST",
            "column 'wild' row 0: null is not a boolean (boolean)",
        ),
        (split(GOOD, GOOD[:3]), "MALFORMED_REQUEST", "row 1 has 3 values; expected 4"),
        (split(GOOD, 5.0), "MALFORMED_REQUEST", "row 1 is 5.0, not a list of values"),
        (
            {"dataframe_split": {"data": [GOOD[:3]]}},
            "BAD_REQUEST",
            "the rows have 3 values; the model takes 4 column(s)",
        ),
        (
            {"dataframe_split": {"data": [GOOD], "orient": "x"}},
            "BAD_REQUEST",
            "dataframe_split has unknown key(s) 'orient'",
        ),
        (
            {"dataframe_split": [GOOD]},
            "BAD_REQUEST",
            "dataframe_split must be an object with 'data'",
        ),
        (split(), "BAD_REQUEST", "the input has no rows"),
        ({"dataframe_records": []}, "BAD_REQUEST", "the input has no rows"),
        (
            {"dataframe_records": [{"sepal_length": 1.0}, 3]},
            "BAD_REQUEST",
            "dataframe_records record 1 is 3, not an object",
        ),
        (
            {"instances": [1.0, 2.0]},
            "BAD_REQUEST",
            "instances is a list of scalars, which fits a one-column model; this model takes 4 columns",
        ),
        (
            {"inputs": {"sepal_length": [1.0, 2.0], "petals": [1]}},
            "MALFORMED_REQUEST",
            "inputs columns differ in length: 'sepal_length' has 2, 'petals' has 1",
        ),
        (
            {"inputs": {"sepal_length": [1.0], "petals": 1}},
            "MALFORMED_REQUEST",
            "inputs mixes lists and single values: 'petals' are not lists",
        ),
    ],
)
def test_bad_json_is_refused_with_a_precise_message(payload: Any, code: str, message: str) -> None:
    error = refusal(payload)
    assert error.status == 400
    assert error.error_code == code
    assert message in error.message
    assert json.loads(error.to_body()) == {"error_code": code, "message": error.message}


def test_too_many_rows_names_both_numbers() -> None:
    error = refusal(split(GOOD, GOOD, GOOD), max_rows=2)
    assert error.message == "the input has 3 rows; the limit is 2"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "the CSV body is empty"),
        (b"sepal_length,petals,species,wild\n", "the input has no rows"),
        (b"sepal_length,petals,species\n1,2,x\n", "missing column(s) 'wild'"),
        (
            b"sepal_length,petals,species,wild\nx,2,a,true\n",
            "column 'sepal_length' row 0: 'x' is not a number (double)",
        ),
        (
            b"sepal_length,petals,species,wild\n1,2.5,a,true\n",
            "column 'petals' row 0: '2.5' is not an integer (long)",
        ),
        (
            b"sepal_length,petals,species,wild\n1,,a,true\n",
            "column 'petals' row 0: null is not an integer (long)",
        ),
        (
            b"sepal_length,petals,species,wild\n1,2,a,yes\n",
            "column 'wild' row 0: 'yes' is not a boolean (boolean)",
        ),
        (b"sepal_length,petals,species,wild\n1,2,a,true\n1,2\n", "row 1 has 2 values; expected 4"),
    ],
)
def test_bad_csv_is_refused_with_a_precise_message(body: bytes, message: str) -> None:
    error = refusal(body, "text/csv")
    assert error.status == 400 and message in error.message


@pytest.mark.parametrize(
    ("content_type", "message"),
    [
        (
            "text/plain",
            "content type 'text/plain' is not supported; send application/json or text/csv",
        ),
        ("application/json; charset=latin-1", "charset 'latin-1' is not supported"),
        ("", "content type '' is not supported"),
    ],
)
def test_unsupported_content_types_get_415(content_type: str, message: str) -> None:
    error = refusal(split(GOOD), content_type)
    assert (error.status, error.error_code) == (415, "UNSUPPORTED_MEDIA_TYPE")
    assert message in error.message


def test_body_size_limit_is_413_naming_both_numbers() -> None:
    check_body_size(10, 10)
    with pytest.raises(RequestError) as caught:
        check_body_size(11, 10)
    assert (caught.value.status, caught.value.error_code) == (413, "PAYLOAD_TOO_LARGE")
    assert caught.value.message == "the body has 11 bytes; the limit is 10 bytes"


def test_a_model_without_signature_takes_any_columns_unchecked() -> None:
    schema = InputSchema.from_signature(None)
    rows = parse({"dataframe_records": [{"a": 1, "b": "x"}, {"b": "y"}]}, schema=schema)
    assert rows == Rows(("a", "b"), [(1, "x"), (None, "y")])
    assert parse({"instances": [[1, 2]]}, schema=schema) == Rows(("0", "1"), [(1, 2)])
    csv_rows = parse(b"a,b,c\n1,2.5,x\n,3,y\n", "text/csv", schema)
    assert csv_rows == Rows(("a", "b", "c"), [(1, 2.5, "x"), (None, 3.0, "y")])
    assert refusal(b"a,b\n1,2\n3\n", "text/csv", schema).message == "row 1 has 1 values; expected 2"
    assert "the input has 2 rows" in refusal(b"a\n1\n2\n", "text/csv", schema, max_rows=1).message
    assert refusal(b"a,b\n", "text/csv", schema).message == "the input has no rows"


@pytest.mark.filterwarnings("ignore:Hint. Inferred schema contains integer")
def test_optional_columns_may_be_left_out() -> None:
    frame = TRAINING.assign(note=["a", None])
    schema = InputSchema.from_signature(infer_signature(frame))
    assert schema.required[-1] is False
    rows = parse(split(GOOD), schema=schema)
    assert rows.values == [(5.0, 3, "setosa", True, None)]


def test_a_tensor_signature_is_unnamed_numeric_columns() -> None:
    schema = InputSchema.from_signature(infer_signature(np.zeros((2, 3))))
    assert (schema.columns, schema.types, schema.named, schema.tensor) == (
        ("0", "1", "2"),
        ("double",) * 3,
        False,
        "float64",
    )
    assert parse({"instances": [[1, 2, 3.5]]}, schema=schema).values == [(1.0, 2.0, 3.5)]
    named = parse(
        {"dataframe_split": {"columns": ["a", "b", "c"], "data": [[1, 2, 3]]}}, schema=schema
    )
    assert named.values == [(1.0, 2.0, 3.0)]
    assert "the model takes 3 column(s)" in refusal({"inputs": [[1, 2]]}, schema=schema).message


def test_an_unservable_tensor_signature_is_a_deploy_error() -> None:
    from jupyter_mlops.errors import DeployError

    with pytest.raises(
        DeployError, match=r"one unnamed numeric tensor of shape \(-1,\) or \(-1, n\)"
    ):
        InputSchema.from_signature(infer_signature(np.zeros((2, 3, 4))))


NARROW = InputSchema(
    columns=("f", "i", "raw", "when"),
    types=("float", "integer", "binary", "datetime"),
    required=(True,) * 4,
)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ([1e39, 1, "YQ==", "2024-01-02"], "column 'f' row 0: 1e+39 is out of range for float"),
        (
            [1.0, 2**31, "YQ==", "2024-01-02"],
            f"column 'i' row 0: {2**31} is out of range for integer",
        ),
        ([1.0, 1, "Y", "2024-01-02"], "column 'raw' row 0: 'Y' is not valid base64 (binary)"),
        ([1.0, 1, 5, "2024-01-02"], "column 'raw' row 0: 5 is not a base64 string (binary)"),
        (
            [1.0, 1, "YQ==", "soon"],
            "column 'when' row 0: 'soon' is not an ISO 8601 date-time (datetime)",
        ),
        (
            [1.0, 1, "YQ==", "2024-01-02T03:04:05+02:00"],
            "has a time zone; datetime columns take naive times",
        ),
        (
            [10**400, 1, "YQ==", "2024-01-02"],
            "column 'f' row 0: an integer of 401 digits is out of range for double",
        ),
    ],
)
def test_narrow_types_are_range_checked(row: list[Any], message: str) -> None:
    payload = {"dataframe_split": {"columns": list(NARROW.columns), "data": [row]}}
    assert message in refusal(payload, schema=NARROW).message


def test_narrow_types_are_coerced() -> None:
    payload = {"dataframe_split": {"data": [[1, 2.0, "YQ==", "2024-01-02T03:04:05"]]}}
    (row,) = parse(payload, schema=NARROW).values
    assert row == (1.0, 2, b"a", datetime.datetime(2024, 1, 2, 3, 4, 5))
    text = parse({"inputs": {"f": [1], "i": [2], "raw": ["YQ=="], "when": [None]}}, schema=NARROW)
    assert text.values == [(1.0, 2, b"YQ==", None)]
    csv_rows = parse(b"f,i,raw,when\n1,2,YQ==,\n", "text/csv", NARROW)
    assert csv_rows.values == [(1.0, 2, b"YQ==", None)]


def test_unnamed_column_signature_is_positional() -> None:
    from mlflow.models.signature import ModelSignature
    from mlflow.types.schema import ColSpec, Schema

    schema = InputSchema.from_signature(
        ModelSignature(Schema([ColSpec("double"), ColSpec("long")]))
    )
    assert (schema.columns, schema.types, schema.named) == (("0", "1"), ("double", "long"), False)
    rows = parse({"dataframe_split": {"columns": ["x", "y"], "data": [[1, 2]]}}, schema=schema)
    assert rows == Rows(("0", "1"), [(1.0, 2)])
