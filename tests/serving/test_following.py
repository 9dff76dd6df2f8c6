"""The service follows the registry: a promotion is picked up under continuous load with no
failed request, a traffic split is honoured, a rollback is followed, and every answered
request lands in the request log, joinable with its feedback (real service process)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from mlflow_fixtures import client_for
from service_process import Service, new_store, register
from test_service import wait_for

from jupyter_mlops.registry.traffic import TrafficSplit, clear_traffic, write_traffic

pytest_plugins = ("mlflow_fixtures",)

NAME = "iris"
ROW = {"instances": [[5.9, 3.0, 5.1, 1.8]]}
MAX_REQUESTS = 4000  # per load thread: bounds the load whatever happens


@pytest.fixture
def store(mlflow_db_template: Path, tmp_path: Path) -> str:
    """``iris`` versions 1 (alias production) and 2, two different trees."""
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    frame = load_iris(as_frame=True).frame.drop(columns="target")
    target = load_iris().target
    uri = new_store(mlflow_db_template, tmp_path / "store")
    for depth, alias in ((1, "production"), (3, None)):
        model = DecisionTreeClassifier(max_depth=depth, random_state=0).fit(frame, target)
        register(uri, NAME, model, frame, alias)
    return uri


class Load:
    """Threads sending one-row requests until stopped; every answer's status and version."""

    def __init__(self, service: Service, threads: int = 4) -> None:
        self.service = service
        self.stop_event = threading.Event()
        self.answers: list[list[tuple[int, str | None]]] = [[] for _ in range(threads)]
        self.threads = [threading.Thread(target=self._send, args=(i,)) for i in range(threads)]

    def _send(self, index: int) -> None:
        mine = self.answers[index]
        while not self.stop_event.is_set() and len(mine) < MAX_REQUESTS:
            reply = self.service.post("/invocations", ROW)
            mine.append((reply.status, reply.headers.get("x-model-version")))

    def __enter__(self) -> Load:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        for thread in self.threads:
            thread.join()

    def seen(self, version: str) -> bool:
        return any(v == version for answers in self.answers for _, v in answers[-5:])


def test_a_promotion_is_hot_swapped_under_load_with_no_failed_request(
    store: str, tmp_path: Path
) -> None:
    service = Service(store, NAME, "--poll-interval", "0.2s", cwd=tmp_path)
    with service, Load(service) as load:
        assert wait_for(lambda: all(len(a) > 20 for a in load.answers))
        client_for(store).set_registered_model_alias(NAME, "production", "2")
        assert wait_for(lambda: load.seen("2"))
        settled = [len(a) for a in load.answers]
        assert wait_for(
            lambda: all(len(a) > n + 20 for a, n in zip(load.answers, settled, strict=True))
        )
    for answers in load.answers:
        assert {status for status, _ in answers} == {200}
        versions = [version for _, version in answers]
        first_new = versions.index("2")  # each client: version 1, then only version 2
        assert set(versions[:first_new]) == {"1"} and set(versions[first_new:]) == {"2"}


def test_a_traffic_split_is_honoured_within_three_points(store: str, tmp_path: Path) -> None:
    client = client_for(store)
    write_traffic(client, NAME, "production", TrafficSplit({"1": 80, "2": 20}))
    with Service(store, NAME, cwd=tmp_path) as service:
        shares = {v["version"]: v["share"] for v in service.get("/version").json()["versions"]}
        assert shares == {"1": 80, "2": 20}
        versions = [
            service.post("/invocations", ROW).headers["x-model-version"] for _ in range(2000)
        ]
    share = 100 * versions.count("2") / len(versions)
    assert 17 <= share <= 23, share


def test_a_sticky_header_keeps_a_client_on_one_version(store: str, tmp_path: Path) -> None:
    client = client_for(store)
    write_traffic(
        client, NAME, "production", TrafficSplit({"1": 50, "2": 50}, sticky="x-client-id")
    )
    with Service(store, NAME, cwd=tmp_path) as service:
        for key in ("alice", "bob", "carol", "dave"):
            headers = {"x-client-id": key}
            got = {
                service.post("/invocations", ROW, headers=headers).headers["x-model-version"]
                for _ in range(10)
            }
            assert len(got) == 1, (key, got)


def test_rollback_is_followed(store: str, tmp_path: Path) -> None:
    from jupyter_mlops import api

    with Service(store, NAME, "--poll-interval", "0.2s", cwd=tmp_path) as service:
        api.promote(NAME, "2", alias="production", tracking_uri=store)
        assert wait_for(lambda: service.post("/invocations", ROW).headers["x-model-version"] == "2")
        api.rollback(NAME, alias="production", tracking_uri=store)
        assert wait_for(lambda: service.post("/invocations", ROW).headers["x-model-version"] == "1")


def test_pinned_version_and_standby(store: str, tmp_path: Path) -> None:
    client = client_for(store)
    write_traffic(client, NAME, "production", TrafficSplit({"1": 100}, standby=("2",)))
    with Service(store, NAME, cwd=tmp_path) as service:
        roles = {
            v["version"]: (v["share"], v["role"])
            for v in service.get("/version").json()["versions"]
        }
        assert roles == {"1": (100, "stable"), "2": (0, "standby")}
        assert {
            service.post("/invocations", ROW).headers["x-model-version"] for _ in range(20)
        } == {"1"}
        pinned = service.post("/invocations", ROW, headers={"x-mlops-version": "2"})
        assert (pinned.status, pinned.headers["x-model-version"]) == (200, "2")
        unknown = service.post("/invocations", ROW, headers={"x-mlops-version": "7"})
        assert unknown.status == 404 and "version '7'" in unknown.json()["message"]
    clear_traffic(client, NAME, "production")


def test_request_log_and_feedback(store: str, tmp_path: Path) -> None:
    from jupyter_mlops.deploy.serving.feedback import joined
    from jupyter_mlops.deploy.serving.request_log import read_request_log

    log_dir = tmp_path / "log"
    with Service(store, NAME, "--log-dir", str(log_dir), cwd=tmp_path) as service:
        ids = [service.post("/invocations", ROW).headers["x-request-id"] for _ in range(5)]
        stored = service.post("/feedback", {"request_id": ids[0], "label": 2})
        assert (stored.status, stored.json()) == (200, {"stored": 1})
        bad = service.post("/feedback", {"label": 2})
        assert bad.status == 400 and "request_id" in bad.json()["message"]
    logged = read_request_log(log_dir, NAME)
    assert sorted(logged["request_id"]) == sorted(ids)
    assert set(logged["model_version"]) == {"1"}
    assert "petal width (cm)" in logged.columns
    labelled = joined(log_dir, NAME)
    assert labelled.loc[labelled["request_id"] == ids[0], "label"].notna().all()


def test_sampling_zero_logs_nothing(store: str, tmp_path: Path) -> None:
    log_dir = tmp_path / "log"
    with Service(
        store, NAME, "--log-dir", str(log_dir), "--log-sample", "0", cwd=tmp_path
    ) as service:
        for _ in range(5):
            assert service.post("/invocations", ROW).status == 200
    assert not list(log_dir.rglob("*.parquet"))
