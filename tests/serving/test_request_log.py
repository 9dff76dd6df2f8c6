"""RequestLog: rotated, atomic Parquet files; sampling; drops counted, never raised or waited on."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from jupyter_mlops.deploy.serving.parquet_files import write_parquet_atomic
from jupyter_mlops.deploy.serving.request_log import RequestLog, read_request_log
from jupyter_mlops.errors import DeployError

WAIT = 30.0  # bound on waiting for a condition; never a timing assertion
T0 = 1_764_000_000.0


def wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def files(tmp_path: Path, model: str = "m") -> list[Path]:
    folder = tmp_path / "requests" / model
    return (
        sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))
        if folder.is_dir()
        else []
    )


def log_one(log: RequestLog, request_id: str, value: float = 1.0, version: str = "3") -> None:
    log.log(request_id, T0, version, ("x", "city"), [(value, "Paris")], np.array([value]), 0.002)


def test_rows_are_written_with_their_types_and_one_row_per_input_row(tmp_path):
    log = RequestLog(tmp_path, "m")
    log.log("a", T0, "3", ("x", "city"), [(1.5, "Paris")], np.array([0]), 0.0025)
    log.log("b", T0 + 1, "3", ("x", "city"), [(2.0, "Oslo"), (3.0, "Rome")], ["y", "n"], 0.004)
    log.log(
        "c",
        T0 + 2,
        "5",
        ("x", "city"),
        [(4.0, "Nice")],
        np.array([[0.1, 0.9]]),
        0.001,
        shadow_of="3",
    )
    log.close()

    table = pq.read_table(files(tmp_path)[0])
    assert str(table.schema.field("time").type) == "timestamp[ms, tz=UTC]"
    assert str(table.schema.field("x").type) == "double"
    assert str(table.schema.field("latency_ms").type) == "double"
    frame = read_request_log(tmp_path, "m")
    assert list(frame["request_id"]) == ["a", "b", "b", "c"]
    assert list(frame["row"]) == [0, 0, 1, 0]
    assert list(frame["city"]) == ["Paris", "Oslo", "Rome", "Nice"]
    assert list(frame["model_version"]) == ["3", "3", "3", "5"]
    assert list(frame["prediction"]) == ["0", '"y"', '"n"', "[0.1, 0.9]"]  # mixed: JSON text
    assert frame["latency_ms"].iloc[0] == 2.5
    assert frame["time"].iloc[0] == pd.Timestamp(T0, unit="s", tz="UTC")
    assert frame["shadow_of"].isna().sum() == 3 and frame["shadow_of"].iloc[3] == "3"


def test_numeric_predictions_stay_numbers_and_clashing_features_are_renamed(tmp_path):
    log = RequestLog(tmp_path, "m")
    log.log("a", T0, "1", ("prediction", "n"), [(7, 1), (8, 2)], np.array([0.5, 1.5]), 0.001)
    log.close()

    frame = read_request_log(tmp_path, "m")
    assert list(frame["prediction"]) == [0.5, 1.5]
    assert list(frame["input_prediction"]) == [7, 8]


def test_rotation_by_rows(tmp_path):
    log = RequestLog(tmp_path, "m", rotate_rows=3, rotate_seconds=3600)
    for i in range(7):
        log_one(log, f"r{i}", float(i))
    log.close()

    assert [pq.read_metadata(f).num_rows for f in files(tmp_path)] == [3, 3, 1]
    assert list(read_request_log(tmp_path, "m")["x"]) == [float(i) for i in range(7)]


def test_rotation_by_time_writes_without_more_requests(tmp_path):
    log = RequestLog(tmp_path, "m", rotate_rows=1000, rotate_seconds=0.05)
    log_one(log, "r0")
    wait_until(lambda: len(files(tmp_path)) == 1, "a file written after rotate_seconds")
    log.close()
    assert len(read_request_log(tmp_path, "m")) == 1


def test_sample_rate_zero_writes_nothing_and_rate_is_checked(tmp_path):
    log = RequestLog(tmp_path, "m", sample_rate=0.0)
    for i in range(20):
        log_one(log, f"r{i}")
    log.close()
    assert not (tmp_path / "requests").exists()
    assert log.dropped == 0
    with pytest.raises(DeployError, match="1.5"):
        RequestLog(tmp_path, "m", sample_rate=1.5)


def test_full_queue_drops_and_counts_without_waiting_for_the_writer(tmp_path):
    entered, release = threading.Event(), threading.Event()

    def held_writer(table, directory):
        entered.set()
        release.wait(WAIT)
        return write_parquet_atomic(table, directory)

    dropped: list[int] = []
    log = RequestLog(
        tmp_path, "m", max_queue=2, rotate_rows=1, on_drop=dropped.append, write_table=held_writer
    )
    log_one(log, "held")
    assert entered.wait(WAIT)  # the writer holds 'held' and is stuck writing it
    log_one(log, "queued1")
    log_one(log, "queued2")
    log_one(log, "dropped1")
    log.log(
        "dropped3", T0, "3", ("x", "city"), [(1.0, "a"), (2.0, "b"), (3.0, "c")], [1, 2, 3], 0.001
    )

    assert dropped == [1, 3] and log.dropped == 4
    assert files(tmp_path) == []
    release.set()
    log.close()
    assert list(read_request_log(tmp_path, "m")["request_id"]) == ["held", "queued1", "queued2"]


def test_failing_writes_count_drops_and_warn_once(tmp_path, caplog):
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the log folder should be")
    dropped: list[int] = []
    log = RequestLog(blocker, "m", rotate_rows=1, on_drop=dropped.append)

    with caplog.at_level(logging.WARNING, logger="jupyter_mlops.deploy.serving.request_log"):
        for i in range(5):
            log_one(log, f"r{i}")
        assert log.flush(WAIT)
        log.close()

    assert sum(dropped) == 5 and log.dropped == 5
    warnings = [r for r in caplog.records if "cannot write a request log file" in r.getMessage()]
    assert len(warnings) == 1
    assert blocker.is_file()


def test_a_request_that_cannot_be_read_is_dropped_alone(tmp_path):
    log = RequestLog(tmp_path, "m")
    log.log("bad", T0, "3", ("x",), 42, [1], 0.001)  # rows not iterable
    log_one(log, "good")
    log.close()

    assert log.dropped == 1
    assert list(read_request_log(tmp_path, "m")["request_id"]) == ["good"]


def test_close_flushes_is_idempotent_and_later_rows_are_counted(tmp_path):
    log = RequestLog(tmp_path, "m", rotate_rows=1000, rotate_seconds=3600)
    for i in range(5):
        log_one(log, f"r{i}")
    log.close()
    log.close()
    assert log.flush(WAIT)  # nothing left to write
    assert len(files(tmp_path)) == 1 and len(read_request_log(tmp_path, "m")) == 5

    log_one(log, "late")
    assert log.dropped == 1


def test_readers_see_only_whole_files(tmp_path):
    folder = tmp_path / "requests" / "m"
    folder.mkdir(parents=True)
    (folder / ".0123abcd.parquet.tmp").write_bytes(b"PAR1 half written")
    (folder / ".hidden.parquet").write_bytes(b"not a parquet file")
    log = RequestLog(tmp_path, "m", rotate_rows=2)
    errors: list[BaseException] = []
    done = threading.Event()

    def read_while_writing() -> None:
        while not done.is_set():
            try:
                read_request_log(tmp_path, "m")
            except BaseException as exc:  # noqa: BLE001 - any failure is the finding
                errors.append(exc)
                return

    reader = threading.Thread(target=read_while_writing)
    reader.start()
    for i in range(60):
        log_one(log, f"r{i}", float(i))
    log.close()
    done.set()
    reader.join(WAIT)

    assert errors == []
    assert len(read_request_log(tmp_path, "m")) == 60
    assert len(files(tmp_path)) == 30
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == [
        ".0123abcd.parquet.tmp",
        ".hidden.parquet",
    ]


def test_read_all_models_and_since(tmp_path):
    for model in ("a", "b"):
        log = RequestLog(tmp_path, model)
        log_one(log, f"{model}-old")
        log.log(f"{model}-new", T0 + 60, "1", ("x",), [(1.0,)], [1.0], 0.001)
        log.close()

    everything = read_request_log(tmp_path)
    recent = read_request_log(tmp_path, "b", since=T0 + 30)

    assert sorted(everything["model"].unique()) == ["a", "b"]
    assert len(everything) == 4
    assert list(recent["request_id"]) == ["b-new"]
    assert read_request_log(tmp_path, "nobody").empty


def test_rows_pending_at_interpreter_exit_are_written(tmp_path):
    script = (
        "import sys\n"
        "from jupyter_mlops.deploy.serving.request_log import RequestLog\n"
        "log = RequestLog(sys.argv[1], 'm', rotate_rows=1000, rotate_seconds=3600)\n"
        "log.log('exit', 1.0, '1', ('x',), [(1.0,)], [2.0], 0.001)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=True, timeout=120)

    assert list(read_request_log(tmp_path, "m")["request_id"]) == ["exit"]


def test_rows_are_tabled_in_chunks_and_chunk_types_are_unified(tmp_path):
    """The writer turns rows into Arrow tables a chunk at a time (short GIL holds); chunks
    whose feature types differ still make one file (int and float → double), and types that
    cannot be unified (a number, then text) make one file per chunk: no row is lost."""
    from jupyter_mlops.deploy.serving.request_log import CHUNK_ROWS

    log = RequestLog(tmp_path, "m", rotate_rows=10 * CHUNK_ROWS, rotate_seconds=3600)
    values = [1] * CHUNK_ROWS + [1.5] * CHUNK_ROWS
    for i, value in enumerate(values):
        log.log(f"r{i}", T0, "1", ["x"], [[value]], [0], 0.001)
    assert log.flush(WAIT)
    [one] = files(tmp_path)
    table = pq.read_table(one)
    assert table.num_rows == len(values)
    assert str(table.schema.field("x").type) == "double"
    for i, value in enumerate([2] * CHUNK_ROWS + ["text"] * 10):
        log.log(f"s{i}", T0, "1", ["x"], [[value]], [0], 0.001)
    log.close()
    later = [p for p in files(tmp_path) if p != one]
    assert sum(pq.read_table(p).num_rows for p in later) == CHUNK_ROWS + 10
    assert log.dropped == 0
