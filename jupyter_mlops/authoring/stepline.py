"""Parse the ``%%mlstep NAME [options]`` line that marks a cell as a pipeline step."""

from __future__ import annotations

import keyword
import shlex
import unicodedata
from dataclasses import dataclass

from jupyter_mlops.errors import PipelineError, StepDeclarationError
from jupyter_mlops.pipeline.model_names import MODEL_NAME
from jupyter_mlops.pipeline.resources import parse_resources

MAGIC = "%%mlstep"
RESERVED_STEP_NAMES = frozenset({"common"})

_LIST_OPTIONS = {"--inputs": "inputs", "--outputs": "outputs"}
_VAR_OPTIONS = {
    "--model": "model",
    "--model-name": "model_name",
    "--metrics": "metrics",
    "--resources": "resources",
}
_NEEDS = {"model_name": "a model name", "resources": "amounts, like cpu=2,memory=4GB"}
_FLAG_OPTIONS = {"--no-cache": "no_cache"}
OPTIONS_HELP = (
    "%%mlstep NAME [--inputs A B ...] [--outputs C D ...] [--model VAR [--model-name NAME]] "
    "[--metrics VAR] [--no-cache] [--resources cpu=2,memory=4GB]"
)


@dataclass(frozen=True)
class StepOptions:
    """What the ``%%mlstep`` line declares for one step."""

    name: str
    inputs: tuple[str, ...] | None = None
    outputs: tuple[str, ...] | None = None
    model: str | None = None
    model_name: str | None = None  # the registered model name (default: see model_names.py)
    metrics: str | None = None
    no_cache: bool = False
    resources: dict[str, float] | None = None  # --resources: what a cluster worker must offer


def is_step_cell(source: str) -> bool:
    """True when the cell's first line is a ``%%mlstep`` magic."""
    first = source.lstrip("\n").split("\n", 1)[0].strip()
    return first == MAGIC or first.startswith(MAGIC + " ")


def split_step_cell(source: str) -> tuple[str, str]:
    """Return (the arguments after ``%%mlstep``, the cell body)."""
    first, _, body = source.lstrip("\n").partition("\n")
    return first.strip()[len(MAGIC) :].strip(), body


def check_identifier(name: str, what: str) -> None:
    """Refuse ``name`` unless it is a Python identifier that is not a keyword, written as
    Python reads it: source identifiers are NFKC-normalized, so ``ﬁt`` (a ligature) names
    ``fit`` in code but would be another name in files, the registry and the generated code."""
    if not name.isidentifier() or keyword.iskeyword(name):
        raise StepDeclarationError(f"{what} '{name}' is not a valid Python identifier", name=name)
    normalized = unicodedata.normalize("NFKC", name)
    if normalized != name:
        raise StepDeclarationError(
            f"{what} '{name}' is read by Python as '{normalized}' (NFKC normalization): "
            f"write '{normalized}'",
            name=name,
        )


def parse_step_line(args: str) -> StepOptions:
    """Parse the text after ``%%mlstep`` into StepOptions, or raise StepDeclarationError."""
    try:
        tokens = shlex.split(args)
    except ValueError as exc:
        raise StepDeclarationError(f"cannot parse '%%mlstep {args}': {exc}") from None
    if not tokens or tokens[0].startswith("-"):
        raise StepDeclarationError(f"a step needs a name: {OPTIONS_HELP}")
    name = tokens[0]
    check_identifier(name, "step name")
    if name in RESERVED_STEP_NAMES:
        raise StepDeclarationError(
            f"step name '{name}' is reserved (the shared setup module is called {name}.py)",
            step=name,
            name=name,
        )
    values: dict[str, object] = {}
    current: str | None = None
    for token in tokens[1:]:
        if token.startswith("--"):
            current = _take_option(token, values, name)
            continue
        if current is None:
            raise StepDeclarationError(
                f"unexpected argument '{token}'; usage: {OPTIONS_HELP}", step=name, name=token
            )
        _add_value(current, token, values, name)
        if current in _VAR_OPTIONS.values():
            current = None
    for key in (*_LIST_OPTIONS.values(), *_VAR_OPTIONS.values()):
        if key in values and values[key] in ((), None):
            what = _NEEDS.get(key, "a variable name")
            option = "--" + key.replace("_", "-")
            raise StepDeclarationError(f"option {option} needs {what}", step=name)
    if values.get("model_name") and not values.get("model"):
        raise StepDeclarationError(
            "option --model-name needs --model VAR (the variable it names)", step=name
        )
    return StepOptions(name=name, **values)  # type: ignore[arg-type]


def _take_option(token: str, values: dict[str, object], step: str) -> str | None:
    if token in _FLAG_OPTIONS:
        values[_FLAG_OPTIONS[token]] = True
        return None
    key = _LIST_OPTIONS.get(token) or _VAR_OPTIONS.get(token)
    if key is None:
        raise StepDeclarationError(
            f"unknown option '{token}'; usage: {OPTIONS_HELP}", step=step, name=token
        )
    if key in values:
        raise StepDeclarationError(f"option {token} given twice", step=step, name=token)
    values[key] = () if key in _LIST_OPTIONS.values() else None
    return key


def _add_value(key: str, token: str, values: dict[str, object], step: str) -> None:
    if key == "model_name":
        if not MODEL_NAME.fullmatch(token):
            raise StepDeclarationError(
                f"--model-name '{token}' is not a model name (letters, digits, '_', '.', '-')",
                step=step,
                name=token,
            )
        values[key] = token
        return
    if key == "resources":
        values[key] = _resources(token, step)
        return
    check_identifier(token, f"--{key} variable")
    if key in _LIST_OPTIONS.values():
        current = values[key]
        assert isinstance(current, tuple)
        if token in current:
            raise StepDeclarationError(f"--{key} lists '{token}' twice", step=step, name=token)
        values[key] = (*current, token)
    else:
        values[key] = token


def _resources(token: str, step: str) -> dict[str, float]:
    """The amounts of ``--resources`` (``pipeline/resources.py``'s syntax and errors)."""
    try:
        return parse_resources(token, "--resources")
    except PipelineError as exc:
        raise StepDeclarationError(f"option {exc.message}", step=step, name="--resources") from None
