"""Open Inference Protocol v2 (KServe) bodies of the prediction service: both request forms
on a real signature, each refusal naming the input at fault, and the response bodies."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mlflow.models import infer_signature
from payload_cases import SCHEMA

from jupyter_mlops.deploy.serving.input_schema import InputSchema
from jupyter_mlops.deploy.serving.oip import encode_infer, model_metadata, parse_infer
from jupyter_mlops.deploy.serving.payload import Rows
from jupyter_mlops.deploy.serving.request_error import RequestError

NUMERIC = InputSchema.from_signature(infer_signature(np.zeros((2, 3))))
TWO_ROWS = Rows(
    ("sepal_length", "petals", "species", "wild"),
    [(5.0, 3, "setosa", True), (4.5, 2, "virginica", False)],
)


def column(
    name: str, datatype: str, data: list[Any], shape: list[int] | None = None
) -> dict[str, Any]:
    return {"name": name, "shape": shape or [len(data)], "datatype": datatype, "data": data}


COLUMNS = [
    column("sepal_length", "FP64", [5, 4.5]),
    column("petals", "INT64", [3, 2]),
    column("species", "BYTES", ["setosa", "virginica"]),
    column("wild", "BOOL", [True, False]),
]


def infer(
    document: Any, schema: InputSchema = SCHEMA, max_rows: int = 100
) -> tuple[Rows, str | None]:
    return parse_infer(json.dumps(document).encode(), schema, max_rows)


def refusal(document: Any, schema: InputSchema = SCHEMA, max_rows: int = 100) -> RequestError:
    with pytest.raises(RequestError) as caught:
        infer(document, schema, max_rows)
    return caught.value


def test_one_input_per_column_in_any_order() -> None:
    rows, request_id = infer({"id": "r-1", "inputs": COLUMNS[::-1], "parameters": {"x": 1}})
    assert rows == TWO_ROWS and request_id == "r-1"
    assert [type(value) for value in rows.values[0]] == [float, int, str, bool]


def test_column_inputs_of_shape_n_by_one() -> None:
    inputs = [dict(item, shape=[2, 1], data=[[v] for v in item["data"]]) for item in COLUMNS]
    assert infer({"inputs": inputs}) == (TWO_ROWS, None)


@pytest.mark.parametrize("data", [[1, 2, 3.5, 4, 5, 6], [[1, 2, 3.5], [4, 5, 6]]])
def test_one_two_dimensional_input_flat_or_nested(data: list[Any]) -> None:
    rows, _ = infer({"inputs": [column("input-0", "FP64", data, [2, 3])]}, NUMERIC)
    assert rows == Rows(("0", "1", "2"), [(1.0, 2.0, 3.5), (4.0, 5.0, 6.0)])


def test_a_two_dimensional_input_fills_named_columns_in_order() -> None:
    schema = InputSchema(
        columns=("width", "count"), types=("double", "long"), required=(True, True)
    )
    rows, _ = infer({"inputs": [column("input-0", "FP64", [[1.5, 2], [2.5, 3.0]], [2, 2])]}, schema)
    assert rows == Rows(("width", "count"), [(1.5, 2), (2.5, 3)])
    error = refusal({"inputs": [column("input-0", "FP64", [1.5, 2.5], [1, 2])]}, schema)
    assert error.message == "column 'count' row 0: 2.5 is not an integer (long)"


def test_values_are_coerced_to_the_column_types() -> None:
    inputs = [column("petals", "FP64", [3.0, 2.0])] + [c for c in COLUMNS if c["name"] != "petals"]
    assert infer({"inputs": inputs})[0] == TWO_ROWS
    inputs = [column("petals", "FP64", [3.5, 2.0])] + [c for c in COLUMNS if c["name"] != "petals"]
    assert (
        refusal({"inputs": inputs}).message == "column 'petals' row 0: 3.5 is not an integer (long)"
    )


def replace(target: str, **changes: Any) -> list[dict[str, Any]]:
    return [dict(item, **changes) if item["name"] == target else item for item in COLUMNS]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([1], "the body must be a JSON object with 'inputs': a list of tensors"),
        (
            {"inputs": COLUMNS, "model": "x"},
            "unknown key(s) 'model'; allowed: id, inputs, outputs, parameters",
        ),
        ({"inputs": []}, "'inputs' is empty"),
        ({"id": 7, "inputs": COLUMNS}, "'id' must be a string, got 7"),
        ({"inputs": [{"shape": [1], "datatype": "FP64", "data": [1]}]}, "input 0 has no 'name'"),
        (
            {"inputs": replace("petals", shape="2")},
            "input 'petals': 'shape' must be a list of sizes, got '2'",
        ),
        (
            {"inputs": replace("petals", datatype="INT")},
            "input 'petals': datatype 'INT' is not one of BOOL, BYTES",
        ),
        (
            {"inputs": replace("petals", data=[3])},
            "input 'petals': shape [2] needs 2 values; 'data' has 1",
        ),
        (
            {"inputs": replace("petals", data=[3, 2.5])},
            "input 'petals' (INT64) value 1: 2.5 is not INT64",
        ),
        ({"inputs": replace("wild", data=[1, 0])}, "input 'wild' (BOOL) value 0: 1 is not BOOL"),
        (
            {"inputs": replace("petals", data=[3, 2, 1], shape=[3])},
            "input 'petals' has 3 rows; input 'sepal_length' has 2",
        ),
        (
            {"inputs": replace("petals", data=[3, 2, 1, 0], shape=[2, 2])},
            "input 'petals' has shape [2, 2]; a column input takes shape [n] or [n, 1]",
        ),
        (
            {"inputs": replace("petals", name="petal_count")},
            "missing column(s) 'petals'; unknown column(s) 'petal_count'",
        ),
        ({"inputs": COLUMNS[:3]}, "missing column(s) 'wild'"),
        ({"inputs": replace("petals", unit="cm")}, "input 'petals' has unknown key(s) 'unit'"),
    ],
)
def test_bad_requests_name_the_input(document: Any, message: str) -> None:
    error = refusal(document)
    assert error.status == 400 and error.error_code in ("BAD_REQUEST", "MALFORMED_REQUEST")
    assert message in error.message


def test_a_matrix_of_the_wrong_width_names_the_columns() -> None:
    error = refusal({"inputs": [column("input-0", "FP64", [1, 2, 3, 4], [2, 2])]}, NUMERIC)
    assert error.message == "input 'input-0' has 2 columns; the model takes 3: 0, 1, 2"


def test_too_many_rows() -> None:
    error = refusal({"inputs": COLUMNS}, max_rows=1)
    assert error.message == "the input has 2 rows; the limit is 1"


def test_malformed_json() -> None:
    with pytest.raises(RequestError, match=r"malformed JSON at line 1 column 2 \(char 1\)"):
        parse_infer(b"{", SCHEMA, 10)


@pytest.mark.parametrize(
    ("predictions", "output"),
    [
        (np.array([0, 2], dtype=np.int64), {"shape": [2], "datatype": "INT64", "data": [0, 2]}),
        (
            np.array([[0.25, 0.75]], dtype=np.float32),
            {"shape": [1, 2], "datatype": "FP32", "data": [0.25, 0.75]},
        ),
        (
            np.array(["setosa"], dtype=object),
            {"shape": [1], "datatype": "BYTES", "data": ["setosa"]},
        ),
        ([True, False], {"shape": [2], "datatype": "BOOL", "data": [True, False]}),
        (pd.Series([1.5, 2.5]), {"shape": [2], "datatype": "FP64", "data": [1.5, 2.5]}),
        (pd.DataFrame({"p": [1.5]}), {"shape": [1], "datatype": "FP64", "data": [1.5]}),
    ],
)
def test_infer_response(predictions: Any, output: dict[str, Any]) -> None:
    body = json.loads(encode_infer("iris", "3", "r-1", predictions))
    assert body == {
        "model_name": "iris",
        "model_version": "3",
        "id": "r-1",
        "outputs": [{"name": "predict", **output}],
    }


def test_a_frame_of_several_columns_is_one_output_per_column() -> None:
    body = json.loads(encode_infer("iris", "3", None, pd.DataFrame({"a": [1], "b": ["x"]})))
    assert "id" not in body
    assert body["outputs"] == [
        {"name": "a", "shape": [1], "datatype": "INT64", "data": [1]},
        {"name": "b", "shape": [1], "datatype": "BYTES", "data": ["x"]},
    ]


def test_model_metadata() -> None:
    body = json.loads(model_metadata("iris", ["3", "4"], SCHEMA))
    assert body == {
        "name": "iris",
        "versions": ["3", "4"],
        "platform": "mlflow",
        "inputs": [
            {"name": "sepal_length", "datatype": "FP64", "shape": [-1]},
            {"name": "petals", "datatype": "INT64", "shape": [-1]},
            {"name": "species", "datatype": "BYTES", "shape": [-1]},
            {"name": "wild", "datatype": "BOOL", "shape": [-1]},
        ],
        "outputs": [],
    }
    positional = json.loads(model_metadata("m", ["1"], NUMERIC))["inputs"]
    assert positional == [{"name": "input-0", "datatype": "FP64", "shape": [-1, 3]}]
    assert json.loads(model_metadata("m", ["1"], InputSchema()))["inputs"] == []


SIZES = st.lists(st.integers(0, 4), min_size=0, max_size=3)
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(), st.text(max_size=3)
)
TENSORS = st.fixed_dictionaries(
    {
        "name": st.one_of(st.sampled_from([*SCHEMA.columns, "input-0"]), VALUES),
        "shape": st.one_of(SIZES, VALUES),
        "datatype": st.sampled_from(["FP64", "FP32", "INT64", "INT32", "BOOL", "BYTES", "X"]),
        "data": st.one_of(
            st.lists(VALUES, max_size=8), st.lists(st.lists(VALUES, max_size=4), max_size=4)
        ),
    }
)


@settings(
    max_examples=200,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.fixed_dictionaries({"inputs": st.lists(TENSORS, max_size=5)}, optional={"id": VALUES}),
    st.sampled_from([SCHEMA, NUMERIC, InputSchema()]),
)
def test_any_infer_request_gives_rows_or_a_request_error(
    document: Any, schema: InputSchema
) -> None:
    try:
        rows, _ = infer(document, schema)
    except RequestError as error:
        assert 400 <= error.status < 500 and error.message
    else:
        assert rows.values and all(len(row) == len(rows.columns) for row in rows.values)
