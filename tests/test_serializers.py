"""Serializer choice, exact round trips, fallbacks, errors and entry-point registration."""

from __future__ import annotations

import textwrap
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from jupyter_mlops.artifacts.serializers import registry as serializers
from jupyter_mlops.errors import ArtifactError


def roundtrip(value: Any, tmp_path: Path, name: str = "value") -> tuple[str, Any]:
    serializer, path = serializers.dump(value, tmp_path / name, name=name)
    assert Path(path).name == f"{name}.{serializer.extension}"
    return serializer.name, serializers.get_serializer(serializer.name).load(path)


@pytest.fixture
def frame() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "colour": pd.Categorical(["red", "blue", "red"], categories=["red", "blue", "green"]),
            "label": ["a", None, "c"],
            "when": pd.to_datetime(["2024-01-01", "2024-02-01", "2024-03-01"]).tz_localize(
                "Europe/Paris"
            ),
            "count": [1, 2, 3],
        },
        index=pd.Index([10, 20, 30], name="row_id"),
    )
    frame.columns.name = "features"
    return frame


def test_dataframe_roundtrips_through_parquet(frame: pd.DataFrame, tmp_path: Path) -> None:
    name, back = roundtrip(frame, tmp_path)
    assert name == "parquet"
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert back.index.name == "row_id"
    assert back.columns.name == "features"


def block_structure(frame: pd.DataFrame) -> list[tuple[str, str, list[int]]]:
    """Each block's dtype, memory order (numpy blocks) and column positions."""

    def order(values: Any) -> str:
        if not hasattr(values, "flags"):
            return "extension"
        return "C" if values.flags.c_contiguous else "F" if values.flags.f_contiguous else "strided"

    return [
        (str(b.dtype), order(b.values), [int(i) for i in b.mgr_locs.as_array])
        for b in frame._mgr.blocks
    ]


def frames_in_every_layout() -> dict[str, pd.DataFrame]:
    """Frames whose blocks a parquet round trip would hand back in another memory order."""
    rng = np.random.default_rng(0)
    data = rng.normal(size=(60, 4))
    # Without a copy a frame's block is the array transposed: Fortran-ordered (as in the
    # frames load_diabetes(as_frame=True) and train_test_split give).
    viewed = pd.DataFrame(data, columns=list("abcd"), copy=False)
    taken = viewed.take(rng.permutation(60)[:45])
    mixed = pd.DataFrame({"i": np.arange(60), "x": data[:, 0], "j": np.arange(60) * 2})
    mixed["s"] = pd.Categorical(["u", "v"] * 30)
    return {
        "an array viewed (F-ordered block)": viewed,
        "rows taken as train_test_split does (F-ordered block)": taken,
        "an array copied (C-ordered block)": pd.DataFrame(data, columns=list("abcd")),
        "mixed dtypes and a categorical": mixed,
    }


@pytest.mark.parametrize("name", list(frames_in_every_layout()))
def test_dataframe_comes_back_with_its_block_layout(name: str, tmp_path: Path) -> None:
    """Bit-identical downstream results on any BLAS need the same memory layout, not just
    equal values: each block keeps its columns and its C/F order."""
    frame = frames_in_every_layout()[name]
    _, back = roundtrip(frame, tmp_path)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    assert block_structure(back) == block_structure(frame)
    assert back.to_numpy().flags.c_contiguous == frame.to_numpy().flags.c_contiguous


def test_dataframe_with_non_string_columns_restores_labels(tmp_path: Path) -> None:
    ranged = pd.DataFrame(np.arange(6).reshape(3, 2))
    mixed = pd.DataFrame([[1, 2.5, "x"]], columns=pd.Index([0, 1.5, "z"], name="mixed"))
    duplicated = pd.DataFrame([[1, 2]], columns=["a", "a"])
    for value in (ranged, mixed, duplicated):
        name, back = roundtrip(value, tmp_path)
        assert name == "parquet"
        pd.testing.assert_frame_equal(back, value, check_exact=True, check_column_type=True)
    assert type(roundtrip(ranged, tmp_path)[1].columns) is pd.RangeIndex


def test_dataframe_parquet_cannot_hold_falls_back_to_cloudpickle(tmp_path: Path) -> None:
    objects = pd.DataFrame({"mixed": [1, "two", 3.0]})
    multi = pd.DataFrame([[1, 2]], columns=pd.MultiIndex.from_tuples([("a", 1), ("a", 2)]))
    dated = pd.DataFrame([[1]], columns=pd.DatetimeIndex(["2024-01-01"]))
    for value in (objects, multi, dated):
        name, back = roundtrip(value, tmp_path)
        assert name == "cloudpickle"
        pd.testing.assert_frame_equal(back, value)


def test_dtypes_parquet_stores_differently_are_restored(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "seconds": pd.to_datetime(["2020-01-01", "2020-01-02"]).as_unit("s"),
            "python_str": pd.array(["a", None], dtype="string[python]"),
            "nullable": pd.array([1, None], dtype="Int64"),
            "raw": np.array([b"a", b"b"], dtype=object),
        },
        index=pd.to_timedelta([1, 2], unit="s").as_unit("s"),
    )
    name, back = roundtrip(frame, tmp_path)
    assert name == "parquet"
    pd.testing.assert_frame_equal(back, frame, check_exact=True)


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"lists": pd.Series([[1], [2, 3]], dtype=object).array}),
        pd.DataFrame({"ints": pd.Series([1, None], dtype=object).array}),
        pd.DataFrame({"x": [1, 2]}, index=pd.Index(["a", "b"], dtype=object)),
    ],
    ids=["list-values", "object-ints", "object-index"],
)
def test_object_data_parquet_would_change_goes_to_cloudpickle(
    frame: pd.DataFrame, tmp_path: Path
) -> None:
    name, back = roundtrip(frame, tmp_path)
    assert name == "cloudpickle"
    pd.testing.assert_frame_equal(back, frame, check_exact=True)


@pytest.mark.parametrize("series_name", ["target", 3, None])
def test_series_roundtrips_as_series_with_its_name(series_name: Any, tmp_path: Path) -> None:
    series = pd.Series([1.5, 2.5, None], index=pd.Index(["x", "y", "z"], name="k"))
    series.name = series_name
    name, back = roundtrip(series, tmp_path)
    assert name == "parquet"
    assert isinstance(back, pd.Series)
    pd.testing.assert_series_equal(back, series, check_exact=True)
    assert back.name == series_name and type(back.name) is type(series_name)


def test_categorical_series_roundtrips(tmp_path: Path) -> None:
    series = pd.Series(pd.Categorical(["a", "b", "a"]), name="cat")
    _, back = roundtrip(series, tmp_path)
    pd.testing.assert_series_equal(back, series, check_exact=True)


def test_ndarray_roundtrips_through_npy(tmp_path: Path) -> None:
    array = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4))
    name, back = roundtrip(array, tmp_path)
    assert name == "npy"
    assert back.dtype == np.float32 and back.flags.f_contiguous
    np.testing.assert_array_equal(back, array)


def test_object_ndarray_falls_through_to_cloudpickle(tmp_path: Path) -> None:
    array = np.array([{"a": 1}, None], dtype=object)
    assert serializers.serializer_for(array).name == "cloudpickle"
    name, back = roundtrip(array, tmp_path)
    assert name == "cloudpickle"
    assert back.tolist() == array.tolist()


@pytest.fixture(scope="module")
def xy() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(n_samples=120, n_features=6, random_state=0)


def test_random_forest_roundtrips_through_skops(xy: tuple[Any, Any], tmp_path: Path) -> None:
    x, y = xy
    model = RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y)
    name, back = roundtrip(model, tmp_path)
    assert name == "skops"
    np.testing.assert_array_equal(back.predict(x), model.predict(x))
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))


def test_pipeline_roundtrips_through_skops(xy: tuple[Any, Any], tmp_path: Path) -> None:
    x, y = xy
    model = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]).fit(x, y)
    name, back = roundtrip(model, tmp_path)
    assert name == "skops"
    assert isinstance(back, Pipeline)
    np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))


def test_estimator_skops_cannot_dump_falls_back_to_joblib(
    xy: tuple[Any, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = xy
    model = Pipeline([("double", FunctionTransformer(np.negative)), ("clf", LogisticRegression())])
    model.fit(x, y)

    def refuse(value: Any, path: Any) -> None:
        Path(path).write_bytes(b"partial")
        raise TypeError("skops cannot dump this")

    monkeypatch.setattr(serializers.SkopsSerializer, "dump", lambda self, v, p: refuse(v, p))
    name, back = roundtrip(model, tmp_path)
    assert name == "joblib"
    assert not (tmp_path / "value.skops").exists()
    np.testing.assert_array_equal(back.predict(x), model.predict(x))


def test_estimator_using_notebook_functions_goes_to_cloudpickle(
    xy: tuple[Any, Any], tmp_path: Path
) -> None:
    x, y = xy

    def shift(data: Any) -> Any:
        return data + 1.0

    shift.__module__ = "__main__"
    shift.__qualname__ = "shift"
    for func in (shift, lambda data: data * 2.0):
        model = Pipeline([("f", FunctionTransformer(func)), ("clf", LogisticRegression())])
        model.fit(x, y)
        name, back = roundtrip(model, tmp_path)
        assert name == "cloudpickle"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["value.pkl"]
        np.testing.assert_array_equal(back.predict_proba(x), model.predict_proba(x))


@pytest.mark.parametrize(
    "value",
    [
        {"a": [1, 2.5, None, True, "é"], "b": {"c": -0.0, "d": 10**30}},
        [1, [2, [3, []]], {}],
        "text",
        None,
        False,
    ],
)
def test_json_values_roundtrip_exactly(value: Any, tmp_path: Path) -> None:
    name, back = roundtrip(value, tmp_path)
    assert name == "json"
    assert back == value
    assert repr(back) == repr(value)


@pytest.mark.parametrize(
    "value",
    [
        (1, 2),
        [1, (2, 3)],
        {1: "int key"},
        float("nan"),
        [float("inf")],
        np.float64(1.5),
        {"s": {1, 2}},
    ],
)
def test_values_json_would_change_are_not_json(value: Any, tmp_path: Path) -> None:
    assert not serializers.is_exact_json(value)
    name, back = roundtrip(value, tmp_path)
    assert name == "cloudpickle"
    assert type(back) is type(value)
    assert repr(back) == repr(value)


def test_shared_or_cyclic_containers_are_not_json(tmp_path: Path) -> None:
    shared = [1]
    cyclic: list[Any] = []
    cyclic.append(cyclic)
    assert not serializers.is_exact_json([shared, shared])
    _, back = roundtrip(cyclic, tmp_path)
    assert back[0] is back


def test_tuple_and_lambda_roundtrip_through_cloudpickle(tmp_path: Path) -> None:
    offset = 3
    name, back = roundtrip((1, "a", None), tmp_path, "pair")
    assert (name, back) == ("cloudpickle", (1, "a", None))
    name, fn = roundtrip(lambda x: x + offset, tmp_path, "fn")
    assert name == "cloudpickle"
    assert fn(1) == 4


def numbers() -> Any:
    yield 1


@pytest.mark.parametrize(
    ("value", "type_text"),
    [(numbers(), "generator"), (threading.Lock(), "_thread.lock")],
)
def test_unserializable_value_error_names_variable_and_type(
    value: Any, type_text: str, tmp_path: Path
) -> None:
    with pytest.raises(ArtifactError) as info:
        serializers.dump(value, tmp_path / "out", name="my_var")
    message = str(info.value)
    assert "'my_var'" in message
    assert f"of type {type_text}" in message
    assert "cloudpickle" in message
    assert info.value.name == "my_var"
    assert list(tmp_path.iterdir()) == []


def test_unknown_serializer_name_is_an_artifact_error() -> None:
    with pytest.raises(ArtifactError, match="no serializer named 'feather'.*known: parquet"):
        serializers.get_serializer("feather")


def test_builtin_priority_order() -> None:
    names = [s.name for s in serializers.all_serializers()]
    assert names[-6:] == ["parquet", "npy", "skops", "joblib", "json", "cloudpickle"]


def test_register_serializer_rejects_non_serializers() -> None:
    with pytest.raises(TypeError, match="is not a serializer"):
        serializers.register_serializer(object())  # type: ignore[arg-type]


PLUGIN = """
    from pathlib import Path

    class Upper:
        "Strings that start with 'UP:' as plain text."
        name = "upper"
        extension = "up"

        def matches(self, value):
            return isinstance(value, str) and value.startswith("UP:")

        def dump(self, value, path):
            Path(path).write_text(value)

        def load(self, path):
            return Path(path).read_text()

    broken = None
"""


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    site = tmp_path / "site"
    dist_info = site / "fake_mlops_plugin-1.0.dist-info"
    dist_info.mkdir(parents=True)
    (dist_info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-mlops-plugin\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(
        "[jupyter_mlops.serializers]\n"
        "upper = fake_mlops_plugin:Upper\n"
        "broken = fake_mlops_plugin:broken\n"
        "missing = no_such_module_xyz:Thing\n"
    )
    (site / "fake_mlops_plugin.py").write_text(textwrap.dedent(PLUGIN))
    monkeypatch.syspath_prepend(str(site))
    serializers.reload_serializers()
    yield
    monkeypatch.undo()
    serializers.reload_serializers()


@pytest.mark.usefixtures("fake_distribution")
def test_entry_point_serializer_is_loaded_and_tried_first(tmp_path: Path) -> None:
    with pytest.warns(UserWarning) as warned:
        upper = serializers.get_serializer("upper")
    texts = " ".join(str(w.message) for w in warned)
    assert "'broken'" in texts and "'missing'" in texts
    assert serializers.serializer_for("UP: hello") is upper
    assert serializers.serializer_for("plain").name == "json"
    name, back = roundtrip("UP: hello", tmp_path)
    assert (name, back) == ("upper", "UP: hello")
    assert (tmp_path / "value.up").read_text() == "UP: hello"


def test_entry_points_are_forgotten_after_reload() -> None:
    with pytest.raises(ArtifactError):
        serializers.get_serializer("upper")


def test_equal_estimators_store_as_equal_bytes(tmp_path) -> None:
    """skops names objects by id() and stamps zip times: both are normalized, so a model
    retrained identically has the same content hash and downstream steps stay cached."""
    import time

    from sklearn.datasets import load_iris
    from sklearn.ensemble import RandomForestClassifier

    from jupyter_mlops.artifacts.store import ArtifactStore

    X, y = load_iris(return_X_y=True, as_frame=True)
    store = ArtifactStore(tmp_path / "store")
    first = store.put("model", RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y))
    time.sleep(2.1)  # zip timestamps have a 2-second resolution
    second = store.put("model", RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y))
    assert first.serializer == "skops"
    assert first.hash == second.hash
    assert (store.get(first).predict(X) == store.get(second).predict(X)).all()
