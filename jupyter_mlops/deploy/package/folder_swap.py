"""Swapping package folders: a verified build takes the place of ``output`` in one atomic
step (Linux ``renameat2(RENAME_EXCHANGE)``; elsewhere two renames), the replaced build
becomes ``<output>.previous``, and everything goes back as it was when the step after the
swap (moving the alias) fails."""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from jupyter_mlops.errors import FileSystemError

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def exchange(first: Path, second: Path) -> None:
    """Swap two existing paths: each takes the other's name; atomic where the system can."""
    try:
        if not _exchange_atomically(first, second):
            parked = first.with_name(f".{first.name}.swap-{secrets.token_hex(4)}")
            os.rename(first, parked)
            os.rename(second, first)
            os.rename(parked, second)
    except OSError as error:
        raise FileSystemError.of(error, f"swap {first.name} and {second.name}", first) from None


def _exchange_atomically(first: Path, second: Path) -> bool:
    """``renameat2(RENAME_EXCHANGE)``; False where the C library or file system lacks it."""
    renameat2 = _renameat2()
    if renameat2 is None:
        return False
    done = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS):  # not supported by this file system or kernel
        return False
    raise OSError(code, os.strerror(code), str(first))


@functools.cache
def _renameat2() -> Any:
    """The C library's ``renameat2``; None where there is none (macOS, Windows, old glibc)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except (OSError, TypeError):
        return None
    return getattr(libc, "renameat2", None)


@contextmanager
def swapped_in(staging: Path, output: Path, previous: Path) -> Iterator[None]:
    """``staging`` becomes ``output`` and the build it replaces ``previous`` for the body;
    when the body raises, ``output`` and ``previous`` are restored as they were."""
    discarded = _park(previous)
    had_output = output.exists()
    try:
        if had_output:
            exchange(staging, output)
            os.rename(staging, previous)
        else:
            os.rename(staging, output)
    except OSError as error:
        _unpark(discarded, previous)
        raise FileSystemError.of(error, "move the verified build into place", output) from None
    try:
        yield
    except BaseException:
        if had_output:
            exchange(previous, output)
            os.rename(previous, staging)
        else:
            os.rename(output, staging)
        _unpark(discarded, previous)
        raise
    if discarded is not None:
        shutil.rmtree(discarded, ignore_errors=True)


def _park(previous: Path) -> Path | None:
    """Move the build kept as previous aside (deleted once the swap holds)."""
    if not previous.exists():
        return None
    parked = previous.with_name(f".{previous.name}.discarded-{secrets.token_hex(4)}")
    os.rename(previous, parked)
    return parked


def _unpark(parked: Path | None, previous: Path) -> None:
    if parked is not None:
        os.rename(parked, previous)
