"""jupyter_mlops: notebook cells as pipeline steps, extracted, run and tracked."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext jupyter_mlops``: register ``%%mlstep`` and ``%mlops`` (imports nothing heavy)."""
    from jupyter_mlops.jupyter.magics import MlopsMagics

    ipython.register_magics(MlopsMagics(ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext jupyter_mlops``: remove the magics again."""
    from jupyter_mlops.jupyter.magics import MlopsMagics

    magics = ipython.magics_manager.magics
    for kind, names in MlopsMagics.magics.items():
        for name in names:
            magics[kind].pop(name, None)
    ipython.magics_manager.registry.pop("MlopsMagics", None)


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """The Jupyter server extension (REST API under ``/jupyter-mlops/``), enabled on install."""
    return [{"module": "jupyter_mlops.server"}]
