"""Feedback: parsing with precise 400s, atomic Parquet storage, the join with the request log."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from jupyter_mlops.deploy.serving.feedback import (
    FeedbackStore,
    joined,
    parse_feedback,
    read_feedback,
)
from jupyter_mlops.deploy.serving.request_error import RequestError
from jupyter_mlops.deploy.serving.request_log import RequestLog

T0 = 1_764_000_000.0


def test_the_three_body_shapes_parse():
    one = {"request_id": "a", "label": 1}
    assert parse_feedback(json.dumps(one).encode()) == [("a", 1)]
    assert parse_feedback(json.dumps([one, {"request_id": "b", "label": "cat"}]).encode()) == [
        ("a", 1),
        ("b", "cat"),
    ]
    assert parse_feedback(json.dumps({"feedback": [one]}).encode()) == [("a", 1)]
    assert parse_feedback(b'{"request_id": "a", "label": true}') == [("a", True)]


BAD_FEEDBACK = {
    b"[]": "has no items",
    b'{"feedback": {"request_id": "a"}}': "'feedback' must be a list",
    b'{"feedback": [], "extra": 1}': "unknown keys beside 'feedback': extra",
    b'[{"request_id": "a", "label": 1}, 7]': "feedback item 1 is not an object",
    b'[{"label": 1}]': "feedback item 0 has no 'request_id'",
    b'{"request_id": "a"}': "feedback item 0 has no 'label'",
    b'{"request_id": "a", "label": 1, "score": 2}': "unknown keys: score",
    b'{"request_id": 12, "label": 1}': "request_id must be a non-empty string",
    b'{"request_id": "", "label": 1}': "request_id must be a non-empty string",
    b'{"request_id": "a", "label": {"k": 1}}': (
        'label must be a number, string or boolean, not {"k": 1}'
    ),
    b'{"request_id": "a", "label": [1, 2]}': "not [1, 2]",
    b'{"request_id": "a", "label": null}': "not null",
    b'{"request_id": "a", "label": NaN}': "not NaN",
}
NOT_JSON = (b'{"request_id": "a", ', b"\xff\xfe")


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [(body, "MALFORMED_REQUEST", "not valid JSON") for body in NOT_JSON]
    + [(body, "BAD_REQUEST", message) for body, message in BAD_FEEDBACK.items()],
)
def test_bad_feedback_is_refused_naming_the_problem(body, code, message):
    with pytest.raises(RequestError) as caught:
        parse_feedback(body)
    assert caught.value.status == 400
    assert caught.value.error_code == code
    assert message in caught.value.message


def test_item_limit(tmp_path):
    store = FeedbackStore(tmp_path, "m", max_items=3)
    body = json.dumps([{"request_id": str(i), "label": i} for i in range(4)]).encode()
    with pytest.raises(RequestError, match="4 items, over the limit of 3"):
        store.parse_feedback(body)
    assert len(store.parse_feedback(json.dumps(json.loads(body)[:3]).encode())) == 3


def test_add_stores_json_and_typed_labels(tmp_path):
    store = FeedbackStore(tmp_path, "m")
    assert store.add([("a", 1), ("b", 2.5)]) == 2
    assert store.add([("c", "cat"), ("d", True)]) == 2
    assert store.add([]) == 0

    files = sorted((tmp_path / "feedback" / "m").glob("*.parquet"))
    assert len(files) == 2
    numbers, mixed = (pq.read_table(f) for f in files)
    assert numbers.column("label").to_pylist() == [1.0, 2.5]
    assert numbers.column("label_json").to_pylist() == ["1", "2.5"]
    assert "label" not in mixed.column_names  # a string and a boolean: JSON text only
    feedback = read_feedback(tmp_path, "m")
    assert list(feedback["request_id"]) == ["a", "b", "c", "d"]
    assert list(feedback["label"]) == [1, 2.5, "cat", True]
    assert str(feedback["received_at"].dtype) == "datetime64[ms, UTC]"


def test_add_where_the_folder_is_a_file_raises_os_error(tmp_path):
    blocker = tmp_path / "logs"
    blocker.write_text("not a folder")
    with pytest.raises(OSError):
        FeedbackStore(blocker, "m").add([("a", 1)])


def test_joined_gives_log_rows_with_their_latest_label(tmp_path):
    log = RequestLog(tmp_path, "m")
    log.log("r1", T0, "3", ("x",), [(1.0,)], [0], 0.001)
    log.log("r2", T0 + 1, "3", ("x",), [(2.0,), (3.0,)], [1, 0], 0.001)
    log.log("r3", T0 + 2, "4", ("x",), [(4.0,)], [1], 0.001)
    log.close()
    store = FeedbackStore(tmp_path, "m")
    store.add(
        parse_feedback(b'[{"request_id": "r1", "label": 1}, {"request_id": "ghost", "label": 0}]')
    )
    store.add(
        parse_feedback(
            b'{"feedback": [{"request_id": "r2", "label": 0}, {"request_id": "r1", "label": 0}]}'
        )
    )

    frame = joined(tmp_path, "m")

    assert list(zip(frame["request_id"], frame["row"], frame["label"], strict=True)) == [
        ("r1", 0, 0),  # relabelled: the latest label wins
        ("r2", 0, 0),
        ("r2", 1, 0),
    ]
    assert list(frame["prediction"]) == [0, 1, 0]
    assert "ghost" in set(store.read()["request_id"])  # kept, though never logged
    assert store.joined().equals(frame)


def test_nothing_stored_reads_empty(tmp_path):
    assert read_feedback(tmp_path, "m").empty
    assert joined(tmp_path, "m").empty
