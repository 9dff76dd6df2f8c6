"""The prediction service as a user meets it: a real ``jupyter mlops serve`` process on
127.0.0.1 over a real MLflow store, real HTTP. Predictions are compared with
``mlflow.pyfunc.load_model("models:/…").predict`` on the same rows."""

from __future__ import annotations

import concurrent.futures
import json
from pathlib import Path
from typing import Any

import pytest
from mlflow_fixtures import client_for
from service_process import Service, new_store, register

pytest_plugins = ("mlflow_fixtures",)

NAME = "iris"
FAILING = "iris-lr"


@pytest.fixture(scope="module")
def iris() -> Any:
    from sklearn.datasets import load_iris

    return load_iris(as_frame=True).frame.drop(columns="target"), load_iris().target


@pytest.fixture(scope="module")
def store(mlflow_db_template: Path, tmp_path_factory: pytest.TempPathFactory, iris: Any) -> str:
    """Model ``iris``: version 1 (a depth-2 tree, alias production) and version 2 (depth 4);
    model ``iris-lr``: a logistic regression, which raises on NaN."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    frame, target = iris
    uri = new_store(mlflow_db_template, tmp_path_factory.mktemp("serving-store"))
    register(
        uri,
        NAME,
        DecisionTreeClassifier(max_depth=2, random_state=0).fit(frame, target),
        frame,
        "production",
    )
    register(
        uri, NAME, DecisionTreeClassifier(max_depth=4, random_state=0).fit(frame, target), frame
    )
    register(uri, FAILING, LogisticRegression(max_iter=500).fit(frame, target), frame, "production")
    return uri


@pytest.fixture(scope="module")
def service(store: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    with Service(
        store, NAME, "--max-rows", "50", "--max-body", "20KB", cwd=tmp_path_factory.mktemp("cwd")
    ) as running:
        yield running


def pyfunc_predictions(uri: str, model: str, frame: Any) -> list[Any]:
    import mlflow

    mlflow.set_tracking_uri(uri)
    try:
        return mlflow.pyfunc.load_model(f"models:/{model}@production").predict(frame).tolist()
    finally:
        mlflow.set_tracking_uri(None)


def test_every_request_format_answers_as_pyfunc(service: Service, store: str, iris: Any) -> None:
    frame = iris[0].iloc[[0, 60, 120, 7]]
    expected = pyfunc_predictions(store, NAME, frame)
    columns = list(frame.columns)
    rows = frame.to_numpy().tolist()
    records = frame.to_dict(orient="records")
    bodies = {
        "dataframe_split": {"dataframe_split": {"columns": columns, "data": rows}},
        "dataframe_records": {"dataframe_records": records},
        "instances": {"instances": records},
        "inputs": {"inputs": {c: frame[c].tolist() for c in columns}},
    }
    for name, body in bodies.items():
        reply = service.post("/invocations", body)
        assert reply.status == 200, (name, reply.body)
        assert reply.json() == {"predictions": expected}, name
        assert reply.headers["x-model-version"] == "1"
        assert reply.headers["x-request-id"]
    csv = frame.to_csv(index=False).encode()
    reply = service.post("/invocations", csv, content_type="text/csv")
    assert (reply.status, reply.json()) == (200, {"predictions": expected})


def test_open_inference_protocol_v2(service: Service, store: str, iris: Any) -> None:
    frame = iris[0].iloc[[3, 80]]
    expected = pyfunc_predictions(store, NAME, frame)
    body = {
        "id": "req-7",
        "inputs": [
            {"name": c, "shape": [2], "datatype": "FP64", "data": frame[c].tolist()}
            for c in frame.columns
        ],
    }
    reply = service.post(f"/v2/models/{NAME}/infer", body)
    assert reply.status == 200, reply.body
    answer = reply.json()
    assert (answer["model_name"], answer["model_version"], answer["id"]) == (NAME, "1", "req-7")
    assert answer["outputs"][0]["data"] == expected
    assert service.post("/v2/models/other/infer", body).status == 404
    assert service.get(f"/v2/models/{NAME}").json()["name"] == NAME


BAD_INPUTS = [
    (b'{"dataframe_split": ', "application/json", 400, "MALFORMED_REQUEST", "JSON"),
    (b'{"frame": []}', "application/json", 400, "BAD_REQUEST", "dataframe_split"),
    (
        json.dumps({"dataframe_records": [{"sepal length (cm)": 1.0}]}).encode(),
        "application/json",
        400,
        "BAD_REQUEST",
        "petal width (cm)",
    ),
    (
        json.dumps(
            {
                "dataframe_records": [
                    {
                        "sepal length (cm)": 1,
                        "sepal width (cm)": 1,
                        "petal length (cm)": 1,
                        "petal width (cm)": 1,
                        "colour": 3,
                    }
                ]
            }
        ).encode(),
        "application/json",
        400,
        "BAD_REQUEST",
        "colour",
    ),
    (
        json.dumps(
            {
                "dataframe_records": [
                    {
                        "sepal length (cm)": "abc",
                        "sepal width (cm)": 1,
                        "petal length (cm)": 1,
                        "petal width (cm)": 1,
                    }
                ]
            }
        ).encode(),
        "application/json",
        400,
        "BAD_REQUEST",
        "'abc'",
    ),
    (
        json.dumps({"instances": [[1.0, 2.0, 3.0, 4.0]] * 51}).encode(),
        "application/json",
        400,
        "BAD_REQUEST",
        "50",
    ),
    (b"x" * 30_000, "application/json", 413, "PAYLOAD_TOO_LARGE", "20000"),
    (b"a,b\n1,2\n", "application/xml", 415, "UNSUPPORTED_MEDIA_TYPE", "application/xml"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "code", "named"), BAD_INPUTS)
def test_bad_input_is_a_4xx_naming_the_problem(
    service: Service, body: bytes, content_type: str, status: int, code: str, named: str
) -> None:
    reply = service.post("/invocations", body, content_type=content_type)
    assert reply.status == status, reply.body
    answer = reply.json()
    assert answer["error_code"] == code
    assert named in answer["message"]


def test_a_model_that_raises_is_a_500_and_the_service_stays_up(
    store: str, tmp_path: Path, iris: Any
) -> None:
    columns = list(iris[0].columns)
    with Service(store, FAILING, cwd=tmp_path) as running:
        reply = running.post(
            "/invocations", {"dataframe_split": {"columns": columns, "data": [[None, 1, 1, 1]]}}
        )
        assert reply.status == 500
        assert reply.json()["error_code"] == "MODEL_ERROR"
        assert "model version 1 raised ValueError" in reply.json()["message"]
        fine = running.post(
            "/invocations",
            {"dataframe_split": {"columns": columns, "data": [[5.0, 3.0, 1.5, 0.2]]}},
        )
        assert fine.status == 200
        assert running.stop() == 0


def test_health_version_and_metrics(service: Service) -> None:
    assert service.get("/ping").status == 200
    assert service.get("/health").json()["status"] == "ready"
    version = service.get("/version").json()
    assert (version["model"], version["alias"], version["alias_version"]) == (
        NAME,
        "production",
        "1",
    )
    assert [(v["version"], v["share"], v["role"]) for v in version["versions"]] == [
        ("1", 100, "stable")
    ]
    from prometheus_client.parser import text_string_to_metric_families

    families = {
        f.name: f for f in text_string_to_metric_families(service.get("/metrics").body.decode())
    }
    requests = [
        s for f in families.values() for s in f.samples if s.name.endswith("_requests_total")
    ]
    assert any(s.labels.get("version") == "1" and s.value > 0 for s in requests)


def test_concurrent_requests_answer_as_unbatched_calls(
    service: Service, store: str, iris: Any
) -> None:
    frame = iris[0]
    expected = pyfunc_predictions(store, NAME, frame)
    columns = list(frame.columns)

    def one(i: int) -> tuple[int, Any]:
        body = {"dataframe_split": {"columns": columns, "data": [frame.iloc[i].tolist()]}}
        reply = service.post("/invocations", body)
        return reply.status, reply.json()["predictions"]

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(one, range(len(frame))))
    assert answers == [(200, [p]) for p in expected]


def test_token_required_off_loopback_and_checked(store: str, tmp_path: Path, iris: Any) -> None:
    import subprocess
    import sys

    refused = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_mlops.cli",
            "serve",
            NAME,
            "--host",
            "0.0.0.0",
            "--tracking-uri",
            store,
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**__import__("os").environ, "JUPYTER_MLOPS_SERVE_TOKEN": ""},
    )
    assert refused.returncode == 2
    assert "needs a bearer token" in refused.stderr
    body = {"instances": [[5.0, 3.0, 1.5, 0.2]]}
    with Service(store, NAME, "--token", "s3cret", cwd=tmp_path) as running:
        assert running.get("/health").status == 200
        assert running.post("/invocations", body).status == 401
        wrong = running.post("/invocations", body, headers={"Authorization": "Bearer nope"})
        assert wrong.status == 401
        right = running.post("/invocations", body, headers={"Authorization": "Bearer s3cret"})
        assert right.status == 200


def test_unknown_model_is_refused_with_its_name(store: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "jupyter_mlops.cli", "serve", "nope", "--tracking-uri", store],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert "no registered model 'nope'" in done.stderr


def test_alias_unset_serves_503_until_it_is_set(store: str, tmp_path: Path) -> None:
    with Service(
        store, NAME, "--alias", "staging", "--poll-interval", "0.2s", cwd=tmp_path
    ) as running:
        assert any("no alias 'staging'" in line for line in running.output)
        assert running.get("/health").status == 503
        reply = running.post("/invocations", {"instances": [[5.0, 3.0, 1.5, 0.2]]})
        assert reply.status == 503
        client_for(store).set_registered_model_alias(NAME, "staging", "2")
        assert wait_for(lambda: running.get("/health").status == 200)
        assert (
            running.post("/invocations", {"instances": [[5.0, 3.0, 1.5, 0.2]]}).headers[
                "x-model-version"
            ]
            == "2"
        )
    client_for(store).delete_registered_model_alias(NAME, "staging")


def wait_for(condition: Any, timeout: float = 60.0) -> bool:
    """Poll ``condition`` until true or ``timeout`` seconds passed (no timing asserted)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def test_a_version_mlflow_loaded_first_still_passes_its_seal(
    store: str, tmp_path: Path, iris: Any
) -> None:
    """Loading ``models:/…`` makes MLflow write ``registered_model_meta`` into the model's
    folder in the store; the seal leaves that file out, so the version still loads."""
    frame = iris[0].iloc[:3]
    expected = pyfunc_predictions(store, FAILING, frame)  # MLflow writes its meta file here
    source = client_for(store).get_model_version(FAILING, "1").source
    assert (Path(source.removeprefix("file://")) / "registered_model_meta").is_file()
    with Service(store, FAILING, "--no-log", cwd=tmp_path) as running:
        reply = running.post("/invocations", {"dataframe_records": frame.to_dict(orient="records")})
        assert (reply.status, reply.json()) == (200, {"predictions": expected})


def test_two_workers_share_the_port(store: str, tmp_path: Path) -> None:
    with Service(store, NAME, "--workers", "2", "--no-log", cwd=tmp_path) as running:
        assert any("(2 workers)" in line for line in running.output)
        for _ in range(4):
            reply = running.post("/invocations", {"instances": [[5.0, 3.0, 1.5, 0.2]]})
            assert (reply.status, reply.headers["x-model-version"]) == (200, "1")
        assert running.stop() == 0
