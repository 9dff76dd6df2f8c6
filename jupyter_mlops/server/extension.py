"""The Jupyter server extension: the REST API under ``<base_url>/jupyter-mlops/``.

Enabled on install by ``etc/jupyter/jupyter_server_config.d/jupyter_mlops.json`` (which names
this module). Runs started through the API are cancelled when the server process exits.
"""

from __future__ import annotations

import atexit
import os
from pathlib import Path
from typing import Any

from jupyter_mlops import __version__

__all__ = ["__version__", "_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """Where jupyter_server finds the loader."""
    return [{"module": "jupyter_mlops.server"}]


def server_root(server_app: Any) -> Path:
    """The directory the API confines paths to: the contents manager's root (the server's)."""
    root = getattr(server_app.contents_manager, "root_dir", None) or server_app.root_dir
    return Path(os.path.realpath(os.path.expanduser(str(root))))


def _load_jupyter_server_extension(server_app: Any) -> None:
    """Register the handlers and a run manager on the server's web application."""
    from jupyter_mlops.server.deployments import ROLLOUTS_SETTING
    from jupyter_mlops.server.handlers import ROOT_SETTING, RUNS_SETTING, handlers
    from jupyter_mlops.server.rollout_manager import RolloutManager
    from jupyter_mlops.server.run_manager import RunManager

    web_app = server_app.web_app
    manager = RunManager()
    atexit.register(manager.shutdown)
    rollouts = RolloutManager()
    atexit.register(rollouts.shutdown)
    web_app.settings[ROOT_SETTING] = server_root(server_app)
    web_app.settings[RUNS_SETTING] = manager
    web_app.settings[ROLLOUTS_SETTING] = rollouts
    web_app.add_handlers(".*$", handlers(web_app.settings["base_url"]))
    server_app.log.info(
        "jupyter_mlops %s: REST API at %sjupyter-mlops/", __version__, web_app.settings["base_url"]
    )
