"""A damaged SQLite file (truncated, overwritten, not a database) is a one-line error naming it, never a traceback.

SQLite may open such a file and fail only on the query that reaches a bad page, so every query method is guarded,
not just the opening.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from whyrec.errors import WhyrecError


class _OnFile(Protocol):
    path: Path


S = TypeVar("S", bound=_OnFile)
P = ParamSpec("P")
R = TypeVar("R")


def damaged_is(
    error: type[WhyrecError], hint: str
) -> Callable[[Callable[Concatenate[S, P], R]], Callable[Concatenate[S, P], R]]:
    """Turn sqlite3.DatabaseError inside the method into `error` naming the object's file, then `hint`."""

    def guard(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
        def run(self: S, /, *args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return method(self, *args, **kwargs)
            except sqlite3.DatabaseError as exc:
                raise error(f"{self.path}: damaged or unreadable database ({exc}); {hint}") from exc

        functools.update_wrapper(run, method)
        return run

    return guard
