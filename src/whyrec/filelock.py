"""Advisory locks on a file, held for the length of a `with` block: one writer across processes, or many readers."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Block until no other process holds `path`'s lock, then hold it; the lock file is created if need be."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def shared_lock(path: Path) -> Iterator[None]:
    """Block while a process holds `path`'s exclusive lock, then share it with other readers. Where the lock file
    cannot be created (a read-only directory, so no writer either), nothing is locked."""
    try:
        handle = path.open("a")
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
