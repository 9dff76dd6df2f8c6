"""The ``__init__.py`` generated into a model's wheel: readable, formatted as ``ruff
format`` would, and the same text for the same model version."""

from __future__ import annotations

import json
from string import Template

from jupyter_mlops.deploy.package.source import PackageSource

HEADER = Template('''"""Model '$model' version $version from the MLflow registry, packaged by jupyter_mlops.

    import $package

    row = $example_row
    $package.predict([row])

``predict(rows)`` answers exactly as ``mlflow.pyfunc.load_model(...).predict`` does on
the same rows. ``rows`` is a pandas DataFrame, a list of dicts, or a 2-D list whose
values are in the order of ``COLUMNS``. The model (``model/``, sha256 ``model_digest``)
is loaded on first use, once.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

_HERE = Path(__file__).parent

model_name = "$model"
model_version = "$version"
model_digest = "$digest"
signature: dict[str, Any] = json.loads((_HERE / "signature.json").read_text())
COLUMNS: tuple[str, ...] = ($columns)

_MODEL_DIR = str(_HERE / "model")
_lock = threading.Lock()
_loaded: dict[str, Any] = {}


def predict(rows: Any) -> Any:
    """One prediction per row, as the model's pyfunc ``predict`` gives them."""
    return _load("pyfunc").predict(_frame(rows))
''')

PROBA = Template('''

def predict_proba(rows: Any) -> Any:
    """Class probabilities, one row per input row (columns: ``classes_``)."""
    return _load("$kind").predict_proba(_frame(rows))
''')

LOADERS = '''

def _load(kind: str) -> Any:
    """The pyfunc model or the model object it wraps, loaded once."""
    with _lock:
        if kind not in _loaded:
            _loaded[kind] = _LOADERS[kind]()
        return _loaded[kind]


def _load_pyfunc() -> Any:
    import mlflow.pyfunc

    return mlflow.pyfunc.load_model(_MODEL_DIR)
'''

SKLEARN_LOADER = """

def _load_sklearn() -> Any:
    import mlflow.sklearn

    return mlflow.sklearn.load_model(_MODEL_DIR)
"""

WRAPPED_LOADER = """

def _load_wrapped() -> Any:
    inner = _load("pyfunc").unwrap_python_model()
    return getattr(inner, "model", inner)
"""

FRAME = '''

def _frame(rows: Any) -> Any:
    """``rows`` as a DataFrame with the signature's columns; ``ValueError`` naming a
    missing column or a row of the wrong length."""
    import pandas

    if isinstance(rows, pandas.DataFrame):
        return rows
    rows = list(rows)
    for number, row in enumerate(rows):
        if isinstance(row, dict):
            missing = [column for column in COLUMNS if column not in row]
            if missing:
                raise ValueError(f"row {number} has no column {missing[0]!r}")
        elif len(row) != len(COLUMNS):
            raise ValueError(f"row {number} has {len(row)} values, not {len(COLUMNS)}")
    if rows and isinstance(rows[0], dict):
        rows = [[row[column] for column in COLUMNS] for row in rows]
    return pandas.DataFrame(rows, columns=list(COLUMNS))
'''


def module_text(source: PackageSource, package: str, has_proba: bool) -> str:
    """The wheel's ``__init__.py`` for ``source`` (``predict_proba`` when ``has_proba``)."""
    kind = "sklearn" if "sklearn" in source.flavors else "wrapped"
    loaders = {"pyfunc": "_load_pyfunc", **({kind: f"_load_{kind}"} if has_proba else {})}
    parts = [
        HEADER.substitute(
            model=source.name,
            version=source.version,
            package=package,
            digest=source.digest,
            columns=_tuple_literal(source.columns),
            example_row=_example_row(source),
        )
    ]
    if has_proba:
        parts.append(PROBA.substitute(kind=kind))
    parts.append(LOADERS)
    if has_proba:
        parts.append(SKLEARN_LOADER if kind == "sklearn" else WRAPPED_LOADER)
    parts.append(FRAME)
    entries = "".join(f'\n    "{key}": {value},' for key, value in loaders.items())
    parts.append(f"\n\n_LOADERS = {{{entries}\n}}\n")
    return "".join(parts)


def _tuple_literal(values: tuple[str, ...]) -> str:
    """A tuple literal, one value per line (as ``ruff format`` keeps it)."""
    if not values:
        return ""
    return "".join(f"\n    {json.dumps(value)}," for value in values) + "\n"


def _example_row(source: PackageSource) -> str:
    """The first row of the input example as a dict literal, for the module's docstring."""
    example = source.input_example
    if example is None or not hasattr(example, "iloc") or len(example) == 0:
        return "{...}"
    first = example.iloc[0]
    items = "".join(
        f"\n        {json.dumps(str(column))}: {_plain(first[column])!r},"
        for column in example.columns
    )
    return "{" + items + "\n    }"


def _plain(value: object) -> object:
    """A numpy scalar as the Python value it holds (for a readable literal)."""
    item = getattr(value, "item", None)
    return item() if callable(item) else value
