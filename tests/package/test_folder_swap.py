"""Swapping package folders: the verified build takes ``output``'s place, the replaced
build becomes ``previous``, and a failure after the swap puts everything back."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from jupyter_mlops.deploy.package import folder_swap


def folder(path: Path, content: str) -> Path:
    path.mkdir()
    (path / "build.txt").write_text(content)
    return path


def content(path: Path) -> str:
    return (path / "build.txt").read_text()


@pytest.mark.parametrize("atomic", [True, False])
def test_exchange_swaps_two_folders(
    tmp_path: Path, atomic: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not atomic:  # as on a system without renameat2
        monkeypatch.setattr(folder_swap, "_renameat2", lambda: None)
    elif sys.platform != "linux":
        pytest.skip("renameat2 is Linux's")
    first, second = folder(tmp_path / "a", "A"), folder(tmp_path / "b", "B")
    folder_swap.exchange(first, second)
    assert (content(first), content(second)) == ("B", "A")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_swapped_in_keeps_the_replaced_build_as_previous(tmp_path: Path) -> None:
    staging = folder(tmp_path / ".out.new", "new")
    output = folder(tmp_path / "out", "current")
    previous = folder(tmp_path / "out.previous", "older")
    with folder_swap.swapped_in(staging, output, previous):
        assert (content(output), content(previous)) == ("new", "current")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "out.previous"]
    assert (content(output), content(previous)) == ("new", "current")


def test_a_failure_after_the_swap_restores_both_folders(tmp_path: Path) -> None:
    staging = folder(tmp_path / ".out.new", "new")
    output = folder(tmp_path / "out", "current")
    previous = folder(tmp_path / "out.previous", "older")
    with pytest.raises(RuntimeError), folder_swap.swapped_in(staging, output, previous):
        raise RuntimeError("the alias did not move")
    assert (content(output), content(previous), content(staging)) == ("current", "older", "new")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.new", "out", "out.previous"]


def test_first_build_and_its_failure(tmp_path: Path) -> None:
    staging = folder(tmp_path / ".out.new", "new")
    output, previous = tmp_path / "out", tmp_path / "out.previous"
    with pytest.raises(RuntimeError), folder_swap.swapped_in(staging, output, previous):
        assert content(output) == "new"
        raise RuntimeError("the alias did not move")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.new"]
    with folder_swap.swapped_in(staging, output, previous):
        pass
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
