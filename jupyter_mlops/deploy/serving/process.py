"""Run the prediction service under uvicorn: one process, or ``workers`` processes sharing
one listening socket. Prints one line when it is ready (with the real port when ``port``
is 0) and stops cleanly on SIGINT/SIGTERM. Imported only by ``jupyter mlops serve``."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from jupyter_mlops.deploy.serving.config import ServeConfig
from jupyter_mlops.errors import DeployError

Announce = Callable[[str], None]


def run_service(config: ServeConfig, announce: Announce) -> None:
    """Serve until stopped; ``announce`` gets the ready line."""
    from jupyter_mlops.deploy.serving.asgi import CONFIG_ENV, app_from_environment, build_app

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")  # not a terminal UI
    options: dict[str, Any] = {
        "host": config.host,
        "port": config.port,
        "log_level": "warning",
        "access_log": False,
        "lifespan": "on",
        "timeout_graceful_shutdown": 10,
    }
    if config.workers == 1:
        app = build_app(config)
        server = AnnouncingServer(uvicorn.Config(app, **options), config, announce)
        try:
            server.run()
        except SystemExit:  # uvicorn's way out when it cannot bind (its error is logged)
            server.started = False
        if not server.started:
            raise DeployError(
                f"the service of {served(config)} did not start on "
                f"{config.host}:{config.port} (the reason is printed above)",
                name=config.model or config.lookup,
            )
        return
    os.environ[CONFIG_ENV] = json.dumps(_config_json(config))
    factory = f"{app_from_environment.__module__}:{app_from_environment.__name__}"
    uvicorn_config = uvicorn.Config(factory, factory=True, workers=config.workers, **options)
    socket = uvicorn_config.bind_socket()
    socket.listen(uvicorn_config.backlog)  # connections wait for the workers, not refused
    announce(ready_line(config, socket.getsockname()[1]))
    Multiprocess(uvicorn_config, sockets=[socket]).run()


def ready_line(config: ServeConfig, port: int) -> str:
    """``serving classification@production on http://127.0.0.1:8080 (2 workers)``."""
    workers = f" ({config.workers} workers)" if config.workers > 1 else ""
    return f"serving {served(config)} on http://{config.host}:{port}{workers}"


def served(config: ServeConfig) -> str:
    """``model@alias``, ``lookups from URL#TABLE``, or both."""
    from jupyter_mlops.deploy.serving.lookup import LookupSource

    parts = [f"{config.model}@{config.alias}"] if config.model else []
    if config.lookup is not None:
        parts.append(f"lookups from {LookupSource.parse(config.lookup).shown}")
    return " and ".join(parts)


def _config_json(config: ServeConfig) -> dict[str, Any]:
    data = dataclasses.asdict(config)
    data["log_dir"] = str(config.log_dir) if config.log_dir is not None else None
    return data


class AnnouncingServer(uvicorn.Server):
    """A uvicorn server that announces its real address once it listens."""

    def __init__(
        self, uvicorn_config: uvicorn.Config, config: ServeConfig, announce: Announce
    ) -> None:
        super().__init__(uvicorn_config)
        self.serve_config = config
        self.announce = announce

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self.servers:
            port = self.servers[0].sockets[0].getsockname()[1]
            self.announce(ready_line(self.serve_config, port))

    def handle_exit(self, sig: int, frame: Any) -> None:
        """Stop gracefully; a requested stop (Ctrl-C, SIGTERM) then exits 0, not by the
        signal uvicorn would raise again."""
        super().handle_exit(sig, frame)
        self._captured_signals.clear()
