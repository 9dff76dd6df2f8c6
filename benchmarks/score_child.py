"""One contender of the scoring benchmark, run in a fresh interpreter by ``bench_score.py``.

Run: ``python score_child.py SPEC.json`` (written by the parent). Both contenders first
import the same libraries and load the model once (download, seal check, unpickle), then
read their resident set size (``VmRSS``): the floor the parent subtracts from the child's
peak (``ru_maxrss``, read by the parent from ``os.wait4``). Then the timed part, the same
work a user's command does, model resolution and load included:

* ``ours``: ``jupyter mlops score MODEL@ALIAS --input FILE --key COL --into URL --table T``,
  called in this process through the CLI's ``main``;
* ``baseline``: what a user writes by hand: ``pd.read_parquet``, ``model.predict`` and
  ``predict_proba`` on the whole frame, the same columns as ours (key, prediction,
  ``proba_<class>``, model_name, model_version, scored_at), ``DataFrame.to_sql`` into
  SQLite through an SQLAlchemy engine on the same URL (``--baseline-writer sqlite3``: a
  ``sqlite3`` connection instead).

The result (seconds of the timed part, the floor, and ``VmHWM``: the peak of this process
alone, a cross-check of ``ru_maxrss``) is written as JSON to the spec's ``result`` path.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def status_kb(field: str = "VmRSS") -> int:
    """A memory figure of this process in kB from Linux's ``/proc/self/status``: ``VmRSS``
    (resident now) or ``VmHWM`` (its peak since ``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} line in /proc/self/status")


def import_libraries(contender: str) -> None:
    """The libraries either contender uses, so that importing them is outside the timing."""
    import mlflow.sklearn  # noqa: F401
    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401
    import sklearn.ensemble  # noqa: F401
    import sqlalchemy  # noqa: F401

    import jupyter_mlops.registry.model_ref  # noqa: F401
    import jupyter_mlops.registry.sealed_model  # noqa: F401

    if contender == "ours":
        import jupyter_mlops.cli.main  # noqa: F401
        import jupyter_mlops.deploy.batch  # noqa: F401


def load_model(spec: dict[str, Any], folder: Path) -> tuple[Any, str]:
    """The model ``spec`` names, downloaded into ``folder``, seal checked; and its version."""
    from jupyter_mlops.registry.model_ref import download_version, parse_model_ref, resolve_version
    from jupyter_mlops.registry.sealed_model import load_model_object
    from jupyter_mlops.tracking.store import make_client

    ref = parse_model_ref(spec["model"])
    version = resolve_version(make_client(spec["tracking_uri"]), ref)
    local = download_version(spec["tracking_uri"], ref.name, version, folder)
    return load_model_object(local), version


def score_baseline(spec: dict[str, Any], folder: Path) -> None:
    """The hand-written pandas scoring of the whole file into the SQL table."""
    import pandas as pd

    model, version = load_model(spec, folder)
    frame = pd.read_parquet(spec["input"])
    features = frame.drop(columns=[spec["key"]])
    scored = pd.DataFrame({spec["key"]: frame[spec["key"]], "prediction": model.predict(features)})
    probabilities = model.predict_proba(features)
    for index, label in enumerate(model.classes_):
        scored[f"proba_{label}"] = probabilities[:, index]
    scored["model_name"] = spec["model"].partition("@")[0]
    scored["model_version"] = version
    scored["scored_at"] = datetime.now(UTC).isoformat()
    if spec["baseline_writer"] == "sqlite3":
        import sqlite3

        with sqlite3.connect(spec["database"]) as connection:
            scored.to_sql(spec["table"], connection, index=False, if_exists="replace")
        connection.close()
        return
    import sqlalchemy

    engine = sqlalchemy.create_engine(spec["url"])
    scored.to_sql(spec["table"], engine, index=False, if_exists="replace")
    engine.dispose()


def score_ours(spec: dict[str, Any]) -> None:
    """``jupyter mlops score`` through the CLI's entry point; RuntimeError if it fails."""
    from jupyter_mlops.cli.main import main

    argv = ["score", spec["model"], "--input", spec["input"], "--key", spec["key"]]
    argv += ["--into", spec["url"], "--table", spec["table"], "--tracking-uri"]
    argv += [spec["tracking_uri"], "--json", *spec["ours_options"]]
    code = main(argv)
    if code != 0:
        raise RuntimeError(f"jupyter mlops {' '.join(argv)} exited {code}")


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    contender = spec["contender"]
    import_libraries(contender)
    with tempfile.TemporaryDirectory(prefix="bench-score-model-") as scratch:
        load_model(spec, Path(scratch) / "warm")  # the floor includes one loaded model
        floor_kb = status_kb()
        started = time.perf_counter()
        if contender == "ours":
            score_ours(spec)
        else:
            score_baseline(spec, Path(scratch) / "timed")
        seconds = time.perf_counter() - started
    result = {
        "contender": contender,
        "seconds": seconds,
        "floor_rss_kb": floor_kb,
        "vmhwm_kb": status_kb("VmHWM"),
    }
    Path(spec["result"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
