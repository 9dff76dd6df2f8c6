"""The drift statistics equal scipy's on the same arrays, keep false alarms near their nominal
rate, and detect a mean shift, a variance doubling and a new category."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from scipy.spatial import distance

from jupyter_mlops.monitor import stattests
from jupyter_mlops.monitor.column_drift import column_drift, dataset_drift
from jupyter_mlops.monitor.settings import MonitorSettings

RTOL = 1e-9
SIZES = [(1, 1), (7, 13), (50, 2_000), (900, 12_000), (12_000, 900), (20_000, 30_000)]


def _samples(n_ref: int, n_cur: int, integers: bool, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reference, current = rng.normal(0.0, 1.0, n_ref), rng.normal(0.2, 1.3, n_cur)
    if integers:  # many ties
        reference, current = np.round(reference * 3), np.round(current * 3)
    return reference, current


@pytest.mark.parametrize("integers", [False, True])
@pytest.mark.parametrize(("n_ref", "n_cur"), SIZES)
def test_ks_equals_scipy(n_ref: int, n_cur: int, integers: bool) -> None:
    reference, current = _samples(n_ref, n_cur, integers, seed=n_ref + n_cur)
    statistic, p_value = stattests.ks(
        stattests.sorted_finite(reference), stattests.sorted_finite(current)
    )
    expected = stats.ks_2samp(reference, current)
    assert statistic == pytest.approx(expected.statistic, rel=RTOL, abs=1e-15)
    assert p_value == pytest.approx(expected.pvalue, rel=RTOL, abs=1e-300)


@pytest.mark.parametrize("integers", [False, True])
@pytest.mark.parametrize(("n_ref", "n_cur"), [*SIZES, (100_000, 300_000)])
def test_wasserstein_equals_scipy(n_ref: int, n_cur: int, integers: bool) -> None:
    reference, current = _samples(n_ref, n_cur, integers, seed=n_ref * 3 + n_cur)
    ours = stattests.wasserstein(
        stattests.sorted_finite(reference), stattests.sorted_finite(current)
    )
    assert ours == pytest.approx(
        stats.wasserstein_distance(reference, current), rel=RTOL, abs=1e-15
    )


def test_normalized_wasserstein_divides_by_the_reference_std() -> None:
    reference, current = _samples(3_000, 5_000, False, seed=3)
    column = column_drift("x", reference, current, MonitorSettings())
    expected = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert column.test == "wasserstein"
    assert column.statistic == pytest.approx(expected, rel=RTOL)


def test_ks_large_current_side_uses_the_asymptotic_p_value() -> None:
    reference, current = _samples(800, 400_000, True, seed=5)
    statistic, p_value = stattests.ks(
        stattests.sorted_finite(reference), stattests.sorted_finite(current)
    )
    expected = stats.ks_2samp(reference, current)
    assert (statistic, p_value) == pytest.approx((expected.statistic, expected.pvalue), rel=RTOL)


def _category_samples(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    reference = rng.choice(["a", "b", "c", "d"], size=700, p=[0.4, 0.3, 0.2, 0.1])
    current = rng.choice(["a", "b", "c"], size=1_300, p=[0.3, 0.3, 0.4])  # "d" missing here
    return reference, current


def test_chi2_equals_scipy_contingency_with_a_category_missing_on_one_side() -> None:
    reference, current = _category_samples(seed=11)
    categories, ref_counts, cur_counts = stattests.category_counts(reference, current)
    assert categories == ["a", "b", "c", "d"] and cur_counts[3] == 0
    for table in ([ref_counts, cur_counts], [cur_counts, ref_counts]):
        expected = stats.chi2_contingency(np.array(table), correction=False)
        statistic, p_value = stattests.chi2(*table)
        assert (statistic, p_value) == pytest.approx(
            (expected.statistic, expected.pvalue), rel=RTOL
        )


def test_a_category_the_reference_never_had_drifts() -> None:
    reference, current = _category_samples(seed=12)
    column = column_drift("c", current[:900], reference, MonitorSettings())
    assert column.test == "chi2" and column.drifted and column.to_json()["statistic"] > 0


def test_z_test_equals_the_two_proportion_formula() -> None:
    rng = np.random.default_rng(13)
    reference, current = rng.random(600) < 0.3, rng.random(900) < 0.36
    ref_counts = np.array([np.sum(~reference), np.sum(reference)], dtype=float)  # False sorts first
    cur_counts = np.array([np.sum(~current), np.sum(current)], dtype=float)
    p1, p2 = ref_counts[0] / 600, cur_counts[0] / 900
    pooled = (ref_counts[0] + cur_counts[0]) / 1500
    z = (p1 - p2) / math.sqrt(pooled * (1 - pooled) * (1 / 600 + 1 / 900))
    assert stattests.z_test(ref_counts, cur_counts) == pytest.approx(
        (z, 2 * stats.norm.sf(abs(z))), rel=RTOL
    )
    column = column_drift("flag", reference, current, MonitorSettings())
    assert (column.kind, column.test) == ("binary", "z")
    assert column.statistic == pytest.approx(z, rel=RTOL)


def test_jensenshannon_and_psi_equal_scipy_and_numpy_on_categories() -> None:
    reference, current = _category_samples(seed=14)
    _, ref_counts, cur_counts = stattests.category_counts(reference, current)
    ref, cur = ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum()
    assert stattests.jensenshannon(ref, cur) == pytest.approx(
        distance.jensenshannon(ref, cur), rel=RTOL
    )
    filled_cur = np.where(cur == 0, 0.0001, cur)  # Evidently's fill for an empty bin
    expected_psi = np.sum((ref - filled_cur) * np.log(ref / filled_cur))
    assert stattests.psi(ref, cur) == pytest.approx(expected_psi, rel=RTOL)


@pytest.mark.parametrize("integers", [False, True])
def test_numeric_psi_bins_equal_numpy_histogram(integers: bool) -> None:
    reference, current = _samples(5_000, 20_000, integers, seed=15)
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins=10)
    ref = np.histogram(reference, edges)[0] / len(reference)
    cur = np.histogram(current, edges)[0] / len(current)
    ref_sorted, cur_sorted = stattests.sorted_finite(reference), stattests.sorted_finite(current)
    ours_edges = stattests.bin_edges(ref_sorted, cur_sorted, 10)
    np.testing.assert_allclose(ours_edges, edges, rtol=RTOL)
    np.testing.assert_allclose(stattests.bin_fractions(cur_sorted, ours_edges), cur, rtol=RTOL)
    ref, cur = _evidently_fill(ref), _evidently_fill(cur)
    expected = np.sum((ref - cur) * np.log(ref / cur))
    assert column_drift("x", reference, current, MonitorSettings()).psi == pytest.approx(
        expected, rel=RTOL
    )


def _evidently_fill(fractions: np.ndarray) -> np.ndarray:
    smallest = fractions[fractions > 0].min()
    return np.where(fractions == 0, smallest / 1e6 if smallest <= 0.0001 else 0.0001, fractions)


def test_missing_values_are_dropped_and_reported() -> None:
    reference, current = _samples(500, 1_000, False, seed=16)
    current[::4] = np.nan
    column = column_drift("x", pd.Series(reference), pd.Series(current), MonitorSettings())
    expected = stats.ks_2samp(reference, current[np.isfinite(current)])
    assert column.statistic == pytest.approx(expected.statistic, rel=RTOL)
    assert column.missing == pytest.approx(0.25)


# --- false alarms and detection ---------------------------------------------------------------

SMALL, LARGE, CURRENT = 800, 20_000, 2_000
CASES = {
    "numeric": lambda rng, n: rng.normal(10.0, 2.0, n),
    "categorical": lambda rng, n: rng.choice(["a", "b", "c", "d"], n, p=[0.4, 0.3, 0.2, 0.1]),
    "binary": lambda rng, n: rng.choice(["yes", "no"], n, p=[0.3, 0.7]),
}
EXPECTED_TEST = {
    ("numeric", SMALL): "ks",
    ("numeric", LARGE): "wasserstein",
    ("categorical", SMALL): "chi2",
    ("categorical", LARGE): "jensenshannon",
    ("binary", SMALL): "z",
    ("binary", LARGE): "jensenshannon",
}


@pytest.mark.parametrize("reference_rows", [SMALL, LARGE])
@pytest.mark.parametrize("kind", list(CASES))
def test_false_alarm_rate_is_at_most_five_percent(kind: str, reference_rows: int) -> None:
    rng = np.random.default_rng(100 + reference_rows)
    draw = CASES[kind]
    reference = draw(rng, reference_rows)
    columns = [
        column_drift("x", reference, draw(rng, CURRENT), MonitorSettings()) for _ in range(100)
    ]
    assert {(column.kind, column.test) for column in columns} == {
        (kind, EXPECTED_TEST[kind, reference_rows])
    }
    assert sum(column.drifted for column in columns) <= 5


SHIFTS = {
    "mean shift of 0.5 std": lambda rng, n: rng.normal(11.0, 2.0, n),
    "variance doubling": lambda rng, n: rng.normal(10.0, 2.0 * math.sqrt(2.0), n),
}


@pytest.mark.parametrize("reference_rows", [SMALL, LARGE])
@pytest.mark.parametrize("shift", list(SHIFTS))
def test_numeric_shifts_are_detected(shift: str, reference_rows: int) -> None:
    rng = np.random.default_rng(200 + reference_rows)
    reference = CASES["numeric"](rng, reference_rows)
    column = column_drift("x", reference, SHIFTS[shift](rng, CURRENT), MonitorSettings())
    assert column.drifted, column


@pytest.mark.parametrize("reference_rows", [SMALL, LARGE])
def test_a_new_category_at_twenty_percent_is_detected(reference_rows: int) -> None:
    rng = np.random.default_rng(300 + reference_rows)
    reference = CASES["categorical"](rng, reference_rows)
    current = np.where(rng.random(CURRENT) < 0.2, "new", CASES["categorical"](rng, CURRENT))
    column = column_drift("x", reference, current, MonitorSettings())
    assert column.drifted and column.test == EXPECTED_TEST["categorical", reference_rows]


def test_dataset_drifts_when_half_the_columns_drift() -> None:
    rng = np.random.default_rng(400)
    reference = pd.DataFrame({name: rng.normal(0.0, 1.0, 2_000) for name in "abcd"})
    current = pd.DataFrame(
        {name: rng.normal(1.0 if name in "ab" else 0.0, 1.0, 3_000) for name in "abcd"}
    )
    drift = dataset_drift(reference, current, MonitorSettings())
    assert [column.drifted for column in drift.columns] == [True, True, False, False]
    assert drift.share == 0.5 and drift.drifted
    assert not dataset_drift(reference, current, MonitorSettings(drift_share=0.75)).drifted
    payload = drift.to_json()
    assert payload["drift_share"] == 0.5 and [
        column["column"] for column in payload["columns"]
    ] == list("abcd")


def test_nullable_and_boolean_pandas_columns() -> None:
    reference = pd.Series([1, 2, 3, 4, 5, 6, 7, None] * 50, dtype="Int64")
    current = pd.Series([2, 3, 4, 5, 6, 7, 8, None] * 50, dtype="Int64")
    column = column_drift("n", reference, current, MonitorSettings())
    expected = stats.ks_2samp(reference.dropna().to_numpy(float), current.dropna().to_numpy(float))
    assert (column.kind, column.test) == ("numeric", "ks") and column.missing == pytest.approx(
        0.125
    )
    assert column.statistic == pytest.approx(expected.statistic, rel=RTOL)
    flags = column_drift(
        "b",
        pd.Series([True, False] * 100),
        pd.Series([True, False, False] * 100),
        MonitorSettings(),
    )
    assert (flags.kind, flags.test) == ("binary", "z")
