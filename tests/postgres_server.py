"""A real PostgreSQL server for tests: a pytest plugin.

``postgres_server`` (session) runs ``initdb`` into a fresh folder and ``pg_ctl start`` on a
free port of 127.0.0.1 (unix socket in the same folder, trust authentication, no fsync),
and at session end stops it and checks it stopped. As root, initdb and postgres run as the
``postgres`` system user (PostgreSQL refuses root). ``postgres_url`` is a SQLAlchemy URL of
a database made for the session; ``fresh_postgres_url`` makes a new database per test.
Binaries: ``$JUPYTER_MLOPS_PG_BIN``, else /usr/lib/postgresql/15/bin; the tests using it
are skipped when there are none. Use with ``pytest_plugins = ("postgres_server",)``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path(os.environ.get("JUPYTER_MLOPS_PG_BIN", "/usr/lib/postgresql/15/bin"))
SYSTEM_USER = "postgres"
ROLE = "mlops"
START_ATTEMPTS = 3
TIMEOUT = 60


@dataclass(frozen=True)
class PostgresServer:
    """A running server: its data folder, port and superuser role (no password)."""

    folder: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of ``database`` (psycopg 3 driver)."""
        return f"postgresql+psycopg://{ROLE}@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new, empty database; its name."""
        import psycopg

        name = "test_" + uuid.uuid4().hex[:10]
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, closing its remaining connections."""
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def dsn(self, database: str) -> str:
        return f"host=127.0.0.1 port={self.port} user={ROLE} dbname={database}"


def _as_server_user(command: list[str]) -> list[str]:
    """``command`` run as the postgres system user when we are root."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", SYSTEM_USER, "--", *command]


def _run(command: list[str]) -> None:
    done = subprocess.run(
        _as_server_user(command), capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _make_folder() -> Path:
    """A private folder the server user owns (under /tmp: pytest's tmp dirs are root-only)."""
    folder = Path(tempfile.mkdtemp(prefix="jupyter-mlops-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, user=SYSTEM_USER, group=SYSTEM_USER)
    return folder


def start_server() -> PostgresServer:
    """initdb and start a server on a free port; retried when the port was taken meanwhile."""
    folder = _make_folder()
    data = folder / "data"
    _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", ROLE, "-A", "trust", "-E", "UTF8",
          "--no-sync"])  # fmt: skip
    for attempt in range(START_ATTEMPTS):
        port = _free_port()
        options = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        try:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                  "-o", options, "-w", "-t", str(TIMEOUT), "start"])  # fmt: skip
            return PostgresServer(folder, port)
        except RuntimeError:
            if attempt == START_ATTEMPTS - 1:
                log = (folder / "server.log").read_text(errors="replace")
                shutil.rmtree(folder, ignore_errors=True)
                raise RuntimeError(f"PostgreSQL did not start:\n{log}") from None
    raise AssertionError("unreachable")


def stop_server(server: PostgresServer) -> None:
    """Stop the server (fast shutdown), check that it stopped, remove its folder."""
    data = str(server.folder / "data")
    _run([str(PG_BIN / "pg_ctl"), "-D", data, "-m", "fast", "-w", "-t", str(TIMEOUT), "stop"])
    status = subprocess.run(
        _as_server_user([str(PG_BIN / "pg_ctl"), "-D", data, "status"]),
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert status.returncode == 3, "PostgreSQL is still running after pg_ctl stop"
    shutil.rmtree(server.folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session."""
    if not (PG_BIN / "pg_ctl").exists():
        pytest.skip(f"no PostgreSQL binaries in {PG_BIN} (set JUPYTER_MLOPS_PG_BIN)")
    pytest.importorskip("psycopg", reason="the psycopg driver (dev extra) is not installed")
    server = start_server()
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    """The SQLAlchemy URL of a database made for the session."""
    return postgres_server.url(postgres_server.create_database())


@pytest.fixture
def fresh_postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The SQLAlchemy URL of a new database, dropped after the test."""
    name = postgres_server.create_database()
    yield postgres_server.url(name)
    postgres_server.drop_database(name)
