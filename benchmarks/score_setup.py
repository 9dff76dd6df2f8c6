"""The scoring benchmark's inputs: a deterministic Parquet file and a registered classifier.

The file holds an integer key (``customer_id``) and ``FEATURES`` float columns drawn from a
seeded generator, written in row groups of ``row_group_rows`` (pandas' ``to_parquet`` writes
row groups of 1,048,576 rows, the default here). The model is a scikit-learn
``HistGradientBoostingClassifier`` fitted on a separate seeded sample and registered the way
a pipeline run registers one (sealed, signature, input example) in a new MLflow SQLite store.
Tree ensembles compare raw feature values, so a row's prediction does not depend on how the
rows were chunked: both contenders' tables can be compared exactly.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

KEY = "customer_id"
FEATURES = [f"f{i}" for i in range(8)]
MODEL, ALIAS = "bench_score", "champion"
TRAIN_ROWS = 10_000
DEFAULT_ROW_GROUP_ROWS = 1_048_576
_GENERATION_CHUNK = 262_144  # rows drawn per generator call (fixed: it shapes the values)


def feature_block(rows: int, seed: int, block: int) -> Any:
    """``rows`` x len(FEATURES) floats from the generator seeded with ``(seed, block)``."""
    import numpy as np

    rng = np.random.default_rng([seed, block])
    scales = np.linspace(1.0, 3.0, len(FEATURES))
    return rng.normal(0.0, 1.0, size=(rows, len(FEATURES))) * scales


def write_input(path: Path, rows: int, seed: int, row_group_rows: int) -> int:
    """Write the ``rows``-row input file to ``path``; returns its size in bytes."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([(KEY, pa.int64())] + [(name, pa.float64()) for name in FEATURES])
    pending: list[pa.Table] = []
    pending_rows = 0
    with pq.ParquetWriter(path, schema) as writer:
        for block, start in enumerate(range(0, rows, _GENERATION_CHUNK)):
            count = min(_GENERATION_CHUNK, rows - start)
            values = feature_block(count, seed, block)
            columns = [pa.array(np.arange(start, start + count, dtype=np.int64) + 1_000_000)]
            columns += [pa.array(values[:, i]) for i in range(len(FEATURES))]
            pending.append(pa.Table.from_arrays(columns, schema=schema))
            pending_rows += count
            if pending_rows >= row_group_rows or start + count == rows:
                table = pa.concat_tables(pending).combine_chunks()
                writer.write_table(table, row_group_size=row_group_rows)
                pending, pending_rows = [], 0
    return path.stat().st_size


def training_frame(seed: int) -> tuple[Any, Any]:
    """A ``TRAIN_ROWS``-row feature frame and its 0/1 labels (a noisy linear rule)."""
    import numpy as np
    import pandas as pd

    values = feature_block(TRAIN_ROWS, seed + 1, 0)
    rng = np.random.default_rng([seed, 99])
    weights = np.linspace(-1.0, 1.0, len(FEATURES))
    noisy = values @ weights + np.sin(values[:, 0]) + rng.normal(0.0, 1.0, TRAIN_ROWS)
    return pd.DataFrame(values, columns=FEATURES), (noisy > 0).astype(np.int64)


def train_model(seed: int) -> tuple[Any, Any]:
    """The fitted classifier and the frame it was fitted on."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    frame, labels = training_frame(seed)
    model = HistGradientBoostingClassifier(max_iter=50, random_state=seed)
    return model.fit(frame, labels), frame


def new_store(folder: Path, template: Path | None = None) -> str:
    """A new, migrated MLflow SQLite store in ``folder`` (a copy of the migrated database
    ``template`` when given: migrating takes seconds); its tracking URI."""
    import mlflow

    database = folder / "mlflow.db"
    if template is not None:
        shutil.copyfile(template, database)
    uri = "sqlite:///" + database.absolute().as_posix()
    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.search_experiments()
    client.search_registered_models()
    return uri


def register_model(uri: str, artifacts: Path, model: Any, frame: Any) -> str:
    """Register ``model`` as a new version of ``MODEL`` with alias ``ALIAS``; the version."""
    import mlflow

    from jupyter_mlops.registry.models import log_and_register_model

    client = mlflow.MlflowClient(tracking_uri=uri, registry_uri=uri)
    experiment_id = client.create_experiment(MODEL, artifact_location=artifacts.as_uri())
    run = client.create_run(experiment_id)
    version = log_and_register_model(
        uri, run.info.run_id, model, {"X": frame}, MODEL, {}, alias=ALIAS
    )
    client.set_terminated(run.info.run_id)
    return version


def prepare(
    folder: Path, rows: int, seed: int, row_group_rows: int, template: Path | None
) -> dict[str, object]:
    """Write ``folder/input.parquet`` and register the model in a store in ``folder``."""
    size = write_input(folder / "input.parquet", rows, seed, row_group_rows)
    uri = new_store(folder, template)
    model, frame = train_model(seed)
    version = register_model(uri, folder / "artifacts", model, frame)
    return {"tracking_uri": uri, "version": version, "bytes": size, "class": type(model).__name__}


def main(argv: list[str]) -> int:
    """``score_setup.py FOLDER ROWS SEED ROW_GROUP_ROWS [TEMPLATE_DB]``: prepare, print JSON.

    The benchmark runs this in a child process so that its own memory stays small: a child
    started by a big parent inherits the parent's peak in ``ru_maxrss`` (Linux keeps the
    high-water mark across ``exec``)."""
    folder, rows, seed, row_group_rows = Path(argv[0]), int(argv[1]), int(argv[2]), int(argv[3])
    template = Path(argv[4]) if len(argv) > 4 else None
    print(json.dumps(prepare(folder, rows, seed, row_group_rows, template)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
