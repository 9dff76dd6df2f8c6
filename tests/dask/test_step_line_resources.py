"""``%%mlstep NAME --resources`` on a real cluster: the line's amounts become the task's Dask
resources, and the ``resources:`` section replaces them."""

from __future__ import annotations

from pathlib import Path

from dask_cluster import DaskCluster
from nbfactory import write_notebook

from jupyter_mlops import api
from jupyter_mlops.execute.runner import RunOptions, run_pipeline


def test_the_cell_lines_resources_reach_the_scheduler(
    tmp_path: Path, two_workers: DaskCluster
) -> None:
    cells: list[str | tuple[str, list[str]]] = [
        "%%mlstep small --resources cpu=2,memory=1GB\nx = 1\n",
        "%%mlstep overridden --resources cpu=3\ny = 2\n",
        "%%mlstep big --resources gpu=1\nz = 3\n",
    ]
    folder = api.extract(write_notebook(tmp_path / "sized.ipynb", cells)).folder
    with open(folder / "pipeline.yaml", "a", encoding="utf-8") as file:
        file.write("resources:\n  overridden: {cpu: 1}\n")
    result = run_pipeline(
        folder,
        RunOptions(engine="inprocess", track=False, executor="dask", scheduler=two_workers.address),
    )
    assert result.steps["small"].status == "ran", result.steps["small"].error
    assert result.steps["overridden"].status == "ran", result.steps["overridden"].error
    assert result.steps["big"].status == "failed"
    assert result.steps["big"].error == (
        "no worker of the cluster offers resources gpu=1 "
        "(workers offer: cpu=2,memory=4e+09; cpu=2,memory=4e+09)"
    )
