"""Parameter overrides are checked against the type of their default (``resolve_params``),
with the wording the panel's form uses (labextension/src/core/paramForm.ts)."""

from __future__ import annotations

from typing import Any

import pytest

from jupyter_mlops.errors import ParameterError
from jupyter_mlops.pipeline.params import parse_value, resolve_params

DECLARED = {"n_estimators": 100, "rate": 0.5, "flag": False, "layers": [8, 4], "name": "rf"}


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("n_estimators", "3.5", "parameter 'n_estimators' expects an integer, got 3.5"),
        ("n_estimators", "abc", "parameter 'n_estimators' expects an integer, got 'abc'"),
        ("n_estimators", "True", "parameter 'n_estimators' expects an integer, got True"),
        ("rate", "fast", "parameter 'rate' expects a number, got 'fast'"),
        ("flag", "1", "parameter 'flag' expects True or False, got 1"),
        ("layers", "8", "parameter 'layers' expects a list, got 8"),
    ],
)
def test_a_value_of_another_type_is_refused(name: str, text: str, message: str) -> None:
    with pytest.raises(ParameterError) as raised:
        resolve_params(DECLARED, {name: parse_value(text)})
    assert str(raised.value) == message
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("n_estimators", "1500", 1500),
        ("n_estimators", "1500.0", 1500),
        ("rate", "1e-3", 0.001),
        ("rate", "2", 2.0),
        ("flag", "true", True),
        ("layers", "[16, 8, 4]", [16, 8, 4]),
        ("name", "5", 5),
    ],
)
def test_a_value_of_the_default_type_is_taken(name: str, text: str, value: Any) -> None:
    resolved = resolve_params(DECLARED, {name: parse_value(text)})
    assert resolved[name] == value and type(resolved[name]) is type(value)
    assert {n: v for n, v in resolved.items() if n != name} == {
        n: v for n, v in DECLARED.items() if n != name
    }


def test_each_default_has_a_parameter_type() -> None:
    from jupyter_mlops.pipeline.params import param_type

    defaults = [100, 1.0, True, "rf", [1, 2], (1,), None, {"a": 1}]
    assert [param_type(d) for d in defaults] == [
        "int",
        "float",
        "bool",
        "str",
        "list",
        "list",
        "any",
        "any",
    ]
