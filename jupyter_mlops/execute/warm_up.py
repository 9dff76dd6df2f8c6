"""Imports and connections a run warms up in daemon threads while its first steps run."""

from __future__ import annotations

import contextlib
import threading

from jupyter_mlops.pipeline.pipeline_file import PipelineFile


def warm_up_validation() -> threading.Thread:
    """Import pandera (~1 s) in a daemon thread while the first steps run, so validating
    their outputs does not wait for it."""

    def warm_up() -> None:
        with contextlib.suppress(Exception):  # a real problem is reported when validating
            import pandera.io  # noqa: F401
            import pandera.pandas  # noqa: F401

    thread = threading.Thread(target=warm_up, name="mlops-validation-warm-up", daemon=True)
    thread.start()
    return thread


def warm_up_tracking(tracking_uri: str | None, pipeline_file: PipelineFile) -> threading.Thread:
    """Import mlflow and open the tracking store (~2 s together) in a daemon thread while the
    steps run; MLflow caches the store, so recording afterwards starts warm."""

    def warm_up() -> None:
        from jupyter_mlops.tracking.recording import open_tracking_store

        with contextlib.suppress(Exception):  # a real problem is reported when recording
            open_tracking_store(tracking_uri, pipeline_file)

    thread = threading.Thread(target=warm_up, name="mlops-tracking-warm-up", daemon=True)
    thread.start()
    return thread
