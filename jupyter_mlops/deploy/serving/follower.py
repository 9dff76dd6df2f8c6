"""Follow the registry: poll the served alias and its traffic split, load what changed.

A background thread reads the alias and the split every ``poll_seconds``. Versions the
split names that are not loaded yet are downloaded, checked (seal), loaded and warmed in
this thread — while the old table keeps answering — and only then is the new set handed to
the service, which swaps its routing table at once. A version that fails to load is not
installed: the current table keeps serving and the failure shows in ``/version``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_mlops.deploy.serving.served_version import ServedVersion, load_version
from jupyter_mlops.registry.traffic import TrafficSplit, read_served

log = logging.getLogger(__name__)

Install = Callable[[str | None, TrafficSplit, dict[str, ServedVersion]], None]


@dataclass
class RegistryFollower:
    """Keeps the service on what the registry says ``alias`` of ``name`` should serve."""

    tracking_uri: str
    name: str
    alias: str
    workdir: Path
    poll_seconds: float
    install: Install  # called (from this thread) with the full set of versions to serve
    loaded: Callable[[], Mapping[str, ServedVersion]]  # what the service serves now
    trusted_digest: str | None = None  # a model folder digest loaded without a seal
    problems: dict[str, str] = field(default_factory=dict)  # what failed on the last poll
    _seen: tuple[str | None, TrafficSplit] | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def poll_once(self) -> bool:
        """Read the registry and install a changed state; True when something changed."""
        from jupyter_mlops.tracking.store import make_client

        alias_version, split = read_served(make_client(self.tracking_uri), self.name, self.alias)
        if self._seen == (alias_version, split):
            return False
        current = self.loaded()
        versions = {}
        for version in sorted(split.versions(), key=int):
            versions[version] = current.get(version) or self._load(version)
        self.install(alias_version, split, versions)
        self._seen = (alias_version, split)
        self.problems.clear()
        return True

    def _load(self, version: str) -> ServedVersion:
        log.info("loading version %s of %s", version, self.name)
        return load_version(
            self.tracking_uri, self.name, version, self.workdir, self.trusted_digest
        )

    def start(self) -> None:
        """Poll in a daemon thread until ``stop``."""
        self._thread = threading.Thread(target=self._run, name="registry-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop polling (waits for a load in progress to end)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self.poll_safely()

    def poll_safely(self) -> None:
        """``poll_once``, a failure recorded in ``problems`` and logged once per message."""
        try:
            self.poll_once()
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            if self.problems.get("registry") != message:
                log.warning("registry follower: %s (still serving the current versions)", message)
            self.problems["registry"] = message


def check_servable(tracking_uri: str, name: str, alias: str) -> list[str]:
    """Warnings about serving ``alias`` of ``name`` (it has no version yet: the service
    starts unready and picks it up when set); ``DeployError`` when there is no such
    registered model or its traffic split is malformed."""
    from jupyter_mlops.errors import DeployError
    from jupyter_mlops.registry.registered import registered_model
    from jupyter_mlops.registry.traffic import traffic_key
    from jupyter_mlops.tracking.store import make_client, mlflow_errors

    with mlflow_errors(tracking_uri, f"read registered model '{name}'"):
        client = make_client(tracking_uri)
        model = registered_model(client, name, DeployError)
        if alias not in model.aliases and traffic_key(alias) not in model.tags:
            return [
                f"model '{name}' has no alias '{alias}' yet: the service answers 503 until "
                f"`jupyter mlops promote {name} --alias {alias}` (or a deploy) sets it"
            ]
        read_served(client, name, alias)  # a malformed split fails now, not at the first poll
    return []
