"""The Jupyter server extension: the REST API under ``/jupyter-mlops/``, its actions and runs."""

from jupyter_mlops.server.extension import (
    _jupyter_server_extension_points,
    _load_jupyter_server_extension,
)

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]
