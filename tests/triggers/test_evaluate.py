"""Each trigger kind firing and not firing, cool-down, and the consecutive-window rule (the
windows read from a real SQLite MLflow store)."""

from __future__ import annotations

import os
import sqlite3
from datetime import timedelta
from pathlib import Path

from helpers import NOW, context, state, trigger, write_windows

from jupyter_mlops.triggers.evaluate import (
    BASELINE,
    COOLING,
    FIRES,
    NOT_DUE,
    evaluate,
    remember_evaluation,
    remember_fire,
)
from jupyter_mlops.triggers.state import TriggerState, read_states


def iso(delta: timedelta) -> str:
    return (NOW + delta).isoformat()


# --- schedule ---------------------------------------------------------------------------------


def test_a_schedule_starts_its_clock_at_the_first_evaluation(tmp_path: Path) -> None:
    nightly = trigger(tmp_path, kind="schedule", cron="0 3 * * *")
    first = evaluate(nightly, state(), context())
    assert first.status == BASELINE
    assert "next cron time 2026-12-03T03:00:00+00:00" in first.reason


def test_a_schedule_fires_when_a_cron_time_passed_since_the_last_evaluation(
    tmp_path: Path,
) -> None:
    nightly = trigger(tmp_path, kind="schedule", cron="0 3 * * *")
    evening = state(last_evaluated=iso(timedelta(hours=-14)))  # 22:00 the day before
    fired = evaluate(nightly, evening, context())
    assert fired.status == FIRES
    assert fired.reason.startswith("cron '0 3 * * *' time 2026-12-02T03:00:00+00:00 passed")
    morning = state(last_evaluated=iso(timedelta(hours=-8)))  # 04:00: after today's time
    assert evaluate(nightly, morning, context()).status == NOT_DUE


def test_the_cooldown_holds_a_due_trigger_back(tmp_path: Path) -> None:
    hourly = trigger(tmp_path, kind="schedule", cron="0 * * * *", cooldown="6h")
    recent = state(last_evaluated=iso(timedelta(hours=-1)), last_fired=iso(timedelta(hours=-5)))
    held = evaluate(hourly, recent, context())
    assert held.status == COOLING
    assert "cooling down until 2026-12-02T13:00:00+00:00" in held.reason
    assert "cooldown 6h" in held.reason
    older = state(last_evaluated=iso(timedelta(hours=-1)), last_fired=iso(timedelta(hours=-7)))
    assert evaluate(hourly, older, context()).status == FIRES


# --- new_data ---------------------------------------------------------------------------------


def test_new_data_on_a_file(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("a,b\n1,2\n")
    watch = trigger(tmp_path, kind="new_data", path="data.csv", params={"data_path": "{path}"})
    remembered = TriggerState()
    first = evaluate(watch, remembered, context())
    assert first.status == BASELINE and "8 bytes" in first.reason
    remember_evaluation(remembered, first, NOW)
    assert evaluate(watch, remembered, context()).status == NOT_DUE
    data.write_text("a,b\n1,2\n3,4\n")
    changed = evaluate(watch, remembered, context())
    assert changed.status == FIRES
    assert changed.reason.startswith(f"{data} changed: now 12 bytes")
    assert "; was 8 bytes" in changed.reason
    assert watch.filled_params() == {"data_path": str(data)}
    remember_fire(remembered, changed, NOW, {"status": "succeeded"}, ok=True)
    assert evaluate(watch, remembered, context()).status == NOT_DUE  # the new baseline


def test_a_failed_re_run_keeps_the_old_fingerprint(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("v1")
    watch = trigger(tmp_path, kind="new_data", path="data.csv", cooldown=0)
    remembered = TriggerState()
    remember_evaluation(remembered, evaluate(watch, remembered, context()), NOW)
    (tmp_path / "data.csv").write_text("v2!")
    fired = evaluate(watch, remembered, context())
    remember_fire(remembered, fired, NOW, {"status": "failed"}, ok=False)
    assert evaluate(watch, remembered, context()).status == FIRES  # tried again


def test_new_data_on_a_folder(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "part-1.csv").write_text("x\n1\n")
    (folder / ".hidden").write_text("ignored")
    watch = trigger(tmp_path, kind="new_data", path="incoming")
    remembered = TriggerState()
    first = evaluate(watch, remembered, context())
    assert "1 files, 4 bytes" in first.reason
    remember_evaluation(remembered, first, NOW)
    (folder / ".hidden").write_text("still ignored")
    assert evaluate(watch, remembered, context()).status == NOT_DUE
    (folder / "sub").mkdir()
    (folder / "sub" / "part-2.csv").write_text("x\n2\n")
    changed = evaluate(watch, remembered, context())
    assert changed.status == FIRES and "now 2 files, 8 bytes" in changed.reason


def test_a_folder_file_touched_with_a_new_mtime_is_new_data(tmp_path: Path) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    part = folder / "part.csv"
    part.write_text("x\n1\n")
    watch = trigger(tmp_path, kind="new_data", path="incoming")
    remembered = TriggerState()
    remember_evaluation(remembered, evaluate(watch, remembered, context()), NOW)
    stat = part.stat()
    os.utime(part, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert evaluate(watch, remembered, context()).status == FIRES


def test_new_data_on_a_sqlite_query(tmp_path: Path) -> None:
    db = tmp_path / "warehouse.db"
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE readings (id INTEGER PRIMARY KEY, value REAL)")
        connection.execute("INSERT INTO readings (value) VALUES (1.5), (2.5)")
    watch = trigger(
        tmp_path,
        kind="new_data",
        url=f"sqlite:///{db}",
        query="SELECT count(*), max(id) FROM readings",
    )
    remembered = TriggerState()
    first = evaluate(watch, remembered, context())
    assert "query result (2, 2)" in first.reason
    remember_evaluation(remembered, first, NOW)
    assert evaluate(watch, remembered, context()).status == NOT_DUE
    with sqlite3.connect(db) as connection:
        connection.execute("INSERT INTO readings (value) VALUES (3.5)")
    changed = evaluate(watch, remembered, context())
    assert changed.status == FIRES and "now query result (3, 3)" in changed.reason


def test_a_missing_file_fires_nothing(tmp_path: Path) -> None:
    watch = trigger(tmp_path, kind="new_data", path="nowhere.csv")
    found = evaluate(watch, TriggerState(), context())
    assert found.status == NOT_DUE and "does not exist" in found.reason


# --- drift and decay: monitoring windows in MLflow ----------------------------------------------


def test_drift_needs_n_consecutive_drifted_windows(tracking_uri: str, tmp_path: Path) -> None:
    drift = trigger(tmp_path, kind="drift", windows=3)
    quiet = {"drift.dataset": 0.0, "drift.share": 0.25}
    loud = {"drift.dataset": 1.0, "drift.share": 0.75}
    write_windows(tracking_uri, "demo", [loud, loud, quiet, loud, loud])
    waiting = evaluate(drift, TriggerState(), context(tracking_uri))
    assert waiting.status == NOT_DUE
    assert "not dataset drift in each of the latest 3 windows of demo-monitoring" in waiting.reason
    starts = write_windows(
        tracking_uri, "demo", [loud], first_hour=5
    )  # the newest window: 3 in a row now
    fired = evaluate(drift, TriggerState(), context(tracking_uri))
    assert fired.status == FIRES
    assert fired.reason.startswith(
        "dataset drift in each of the latest 3 windows of demo-monitoring"
    )
    assert f"{starts[0]} share 0.75)" in fired.reason
    remembered = TriggerState()
    remember_fire(remembered, fired, NOW, {"status": "succeeded"}, ok=True)
    remembered.last_fired = iso(timedelta(days=-2))  # the cool-down is long over
    again = evaluate(drift, remembered, context(tracking_uri))
    assert again.status == NOT_DUE and "fired on these already" in again.reason


def test_too_few_windows_fire_nothing(tracking_uri: str, tmp_path: Path) -> None:
    write_windows(tracking_uri, "demo", [{"drift.dataset": 1.0}])
    found = evaluate(
        trigger(tmp_path, kind="drift", windows=2), TriggerState(), context(tracking_uri)
    )
    assert (
        found.status == NOT_DUE and found.reason == "1 of the 2 windows needed in demo-monitoring"
    )
    other = trigger(tmp_path, kind="drift", windows=1, model="nobody")
    assert (
        "0 of the 1 windows needed in nobody-monitoring"
        in evaluate(other, TriggerState(), context(tracking_uri)).reason
    )


def test_decay_below_the_threshold_for_n_windows(tracking_uri: str, tmp_path: Path) -> None:
    decay = trigger(tmp_path, kind="decay", metric="accuracy", below=0.85, windows=2)
    write_windows(tracking_uri, "demo", [{"perf.accuracy": 0.80}, {"perf.accuracy": 0.90}])
    assert evaluate(decay, TriggerState(), context(tracking_uri)).status == NOT_DUE
    write_windows(tracking_uri, "demo", [{"perf.accuracy": 0.82}], first_hour=2)
    fired = evaluate(decay, TriggerState(), context(tracking_uri))
    assert fired.status == NOT_DUE  # 0.90 then 0.82: one window below only
    write_windows(tracking_uri, "demo", [{"rows": 10.0}], first_hour=3)  # a window without labels
    assert evaluate(decay, TriggerState(), context(tracking_uri)).status == NOT_DUE
    write_windows(
        tracking_uri, "demo", [{"perf.accuracy": 0.7}, {"perf.accuracy": 0.75}], first_hour=4
    )
    fired = evaluate(decay, TriggerState(), context(tracking_uri))
    assert fired.status == FIRES
    assert fired.reason.startswith("perf.accuracy below 0.85 in each of the latest 2 windows")
    assert "perf.accuracy 0.7;" in fired.reason and "perf.accuracy 0.75)" in fired.reason


def test_the_state_file_round_trips(tmp_path: Path) -> None:
    states = read_states(tmp_path)
    states.of("nightly").last_evaluated = NOW.isoformat()
    states.save()
    assert read_states(tmp_path).of("nightly").evaluated_at == NOW
    assert [p.name for p in (tmp_path / ".mlops").iterdir()] == ["triggers.json"]
