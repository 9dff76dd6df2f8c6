"""The signature, payloads and helpers the payload and OIP tests share: a real MLflow
signature inferred from a small frame with double, long, string and boolean columns."""

from __future__ import annotations

import json
import warnings
from typing import Any

import pandas as pd
import pytest
from mlflow.models import infer_signature

from jupyter_mlops.deploy.serving.input_schema import InputSchema
from jupyter_mlops.deploy.serving.payload import Rows, parse_invocation
from jupyter_mlops.deploy.serving.request_error import RequestError

JSON = "application/json"
COLUMNS = ["sepal_length", "petals", "species", "wild"]
TRAINING = pd.DataFrame(
    {
        "sepal_length": [5.1, 4.9],
        "petals": [3, 2],
        "species": ["setosa", "virginica"],
        "wild": [True, False],
    }
)
with warnings.catch_warnings():  # MLflow's hint that integer columns cannot hold NaN
    warnings.simplefilter("ignore")
    SIGNATURE = infer_signature(TRAINING)
SCHEMA = InputSchema.from_signature(SIGNATURE)
ONE_ROW = Rows(tuple(COLUMNS), [(5.0, 3, "setosa", True)])


def parse(
    payload: Any, content_type: str = JSON, schema: InputSchema = SCHEMA, max_rows: int = 100
) -> Rows:
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_invocation(body, content_type, schema, max_rows)


def refusal(
    payload: Any, content_type: str = JSON, schema: InputSchema = SCHEMA, max_rows: int = 100
) -> RequestError:
    with pytest.raises(RequestError) as caught:
        parse(payload, content_type, schema, max_rows)
    return caught.value


def split(*rows: list[Any], columns: list[str] = COLUMNS) -> dict[str, Any]:
    return {"dataframe_split": {"columns": columns, "data": list(rows)}}


GOOD = [5.0, 3, "setosa", True]
