"""A moto S3 server and a Dask cluster (scheduler + two one-thread workers) per session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from dask_cluster import DaskCluster, S3Server

pytest.importorskip("distributed")
pytest.importorskip("s3fs")
pytest.importorskip("moto")

WORKERS = 2


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    """The S3 server; its credentials and endpoint are in this process's environment."""
    server = S3Server()
    server.start()
    with pytest.MonkeyPatch.context() as patch:
        for name, value in server.env.items():
            patch.setenv(name, value)
        yield server
    server.stop()


@pytest.fixture
def bucket(s3: S3Server) -> str:
    """A new, empty bucket's URL prefix."""
    name = f"mlops-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(name)
    return f"s3://{name}/store"


@pytest.fixture(scope="session")
def cluster(s3: S3Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DaskCluster]:
    """Two workers (``--nthreads 1``, resources cpu=2,memory=4e9) that reach the S3 server;
    every process is stopped, and checked stopped, at the end."""
    logs: Path = tmp_path_factory.mktemp("dask-logs")
    scratch = tmp_path_factory.mktemp("dask-workers")  # their packages and dask's scratch space
    started = DaskCluster(logs, {**s3.env, "TMPDIR": str(scratch)})
    try:
        started.start(WORKERS)
        yield started
    finally:
        started.stop()
        assert all(p.poll() is not None for p in [*started.workers, started.scheduler] if p)


@pytest.fixture
def two_workers(cluster: DaskCluster) -> DaskCluster:
    """The cluster with two live workers (a test that killed one gets a new one)."""
    while len(cluster.alive_workers()) < WORKERS:
        cluster.add_worker()
    cluster.wait_for_workers(WORKERS)
    return cluster
