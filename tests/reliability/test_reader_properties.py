"""Property tests (hypothesis) of the notebook reader and the cell analysis.

Whatever a notebook holds — any JSON, any nbformat variant, any cell source, any metadata —
reading and analysing it gives a pipeline model or one ``MlopsError`` naming what is wrong;
never another exception, never a traceback in the message.

Examples are derived from a fixed seed (``derandomize``), so ``make test`` is repeatable;
``JUPYTER_MLOPS_PROPERTY_EXAMPLES=5000`` runs a longer, randomized search.
"""

from __future__ import annotations

import json
import os
import string
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jupyter_mlops import api
from jupyter_mlops.errors import MlopsError

LONG_RUN = int(os.environ.get("JUPYTER_MLOPS_PROPERTY_EXAMPLES", "0"))
PROPERTY = settings(
    max_examples=LONG_RUN or 150,
    derandomize=not LONG_RUN,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

NAMES = st.sampled_from(["x", "y", "df", "model", "data", "n", "f", "pd", "np", "_", "ﬁt"])
NUMBERS = st.one_of(
    st.integers(-(10**30), 10**30).map(str), st.sampled_from(["0.5", "1e308", "1j", "0x1f"])
)


def _expression(depth: int = 3) -> st.SearchStrategy[str]:
    leaf = st.one_of(NAMES, NUMBERS, st.text(max_size=8).map(repr))
    if depth == 0:
        return leaf
    inner = _expression(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(
            inner, st.sampled_from(["+", "*", "-", " and ", " if x else ", ".", "["]), inner
        ).map(lambda t: f"{t[0]}{t[1]}{t[2]}" + ("]" if t[1] == "[" else "")),
        st.tuples(NAMES, st.lists(inner, max_size=3)).map(lambda t: f"{t[0]}({', '.join(t[1])})"),
        st.lists(inner, max_size=3).map(lambda items: "[" + ", ".join(items) + "]"),
        inner.map(lambda e: f"[v for v in {e} if v]"),
        inner.map(lambda e: f"lambda q: {e}"),
    )


EXPRESSIONS = _expression()
STATEMENTS = st.one_of(
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"{t[0]} = {t[1]}"),
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"{t[0]} += {t[1]}"),
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"{t[0]}[0] = {t[1]}"),
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"for {t[0]} in {t[1]}:\n    pass"),
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"def {t[0]}(a={t[1]}):\n    return a"),
    st.tuples(NAMES, EXPRESSIONS).map(lambda t: f"with {t[1]} as {t[0]}:\n    pass"),
    NAMES.map(lambda n: f"del {n}"),
    NAMES.map(lambda n: f"import {n}"),
    NAMES.map(lambda n: f"global {n}"),
    EXPRESSIONS,
    st.sampled_from(["%time x = 1", "!pip install x", "x?", "%%timeit\nx", "%matplotlib inline"]),
    st.text(string.printable, max_size=40),
)
STEP_LINES = st.one_of(
    st.tuples(NAMES, st.sampled_from(["", " --model model", " --metrics x", " --bogus"])).map(
        lambda t: f"%%mlstep {t[0]}{t[1]}"
    ),
    st.text(max_size=30).map(lambda s: f"%%mlstep {s}"),
)
CODE_SOURCES = st.one_of(
    st.lists(STATEMENTS, max_size=5).map("\n".join),
    st.tuples(STEP_LINES, st.lists(STATEMENTS, max_size=4)).map(lambda t: "\n".join([t[0], *t[1]])),
)
METADATA: st.SearchStrategy[Any] = st.one_of(
    st.just({}),
    st.fixed_dictionaries({"tags": st.lists(st.sampled_from(["parameters", "x", ""]), max_size=2)}),
    st.dictionaries(st.text(max_size=5), st.one_of(st.none(), st.integers(), st.text(max_size=5))),
    st.fixed_dictionaries({"tags": st.one_of(st.none(), st.integers(), st.text(max_size=4))}),
)
CELLS = st.fixed_dictionaries(
    {
        "cell_type": st.sampled_from(["code", "code", "code", "markdown", "raw"]),
        "source": st.one_of(CODE_SOURCES, CODE_SOURCES.map(lambda s: s.splitlines(True))),
        "metadata": METADATA,
    }
)
NOTEBOOKS = st.fixed_dictionaries(
    {
        "nbformat": st.sampled_from([4, 4, 4, 3, 5, "4", None]),
        "nbformat_minor": st.sampled_from([0, 4, 5, -1]),
        "metadata": METADATA,
        "cells": st.lists(CELLS, max_size=6),
    }
)
JSON_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


SCENARIO = "notebook reader and analysis on generated notebooks (hypothesis)"


def _model_or_one_error(read: Any, figures: Any) -> None:
    """``read()`` gives a pipeline, or an MlopsError whose message is no traceback."""
    try:
        pipeline = read()
    except MlopsError as error:
        message = str(error)
        figures.add(SCENARIO, notebooks=1, one_line_errors=1)
        assert message.strip(), "an error with no message"
        assert "Traceback" not in message, message
        return
    except Exception:
        figures.add(SCENARIO, notebooks=1, tracebacks=1)
        raise
    figures.add(SCENARIO, notebooks=1, pipelines=1)
    assert pipeline.name


@PROPERTY
@given(notebook=NOTEBOOKS)
def test_any_notebook_gives_a_pipeline_or_one_error(notebook: dict[str, Any], figures: Any) -> None:
    _model_or_one_error(lambda: api.load_unsaved_pipeline("work/flow.ipynb", notebook), figures)


@PROPERTY
@given(document=JSON_VALUES)
def test_any_json_document_gives_a_pipeline_or_one_error(document: Any, figures: Any) -> None:
    _model_or_one_error(lambda: api.load_unsaved_pipeline("work/flow.ipynb", document), figures)


@PROPERTY
@given(
    cells=st.lists(
        st.one_of(JSON_VALUES, CELLS, st.builds(dict, cell_type=st.just("code"))), max_size=5
    )
)
def test_any_cell_list_gives_a_pipeline_or_one_error(cells: list[Any], figures: Any) -> None:
    notebook = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}
    _model_or_one_error(lambda: api.load_unsaved_pipeline("work/flow.ipynb", notebook), figures)


@PROPERTY
@given(
    content=st.one_of(st.binary(max_size=200), NOTEBOOKS.map(lambda nb: json.dumps(nb).encode()))
)
def test_any_file_gives_a_pipeline_or_one_error(
    content: bytes, tmp_path: Path, figures: Any
) -> None:
    path = tmp_path / "flow.ipynb"
    path.write_bytes(content)
    _model_or_one_error(lambda: api.load_pipeline(path), figures)
