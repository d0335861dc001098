"""A deadline for the model calls of one request, carried in a context variable.

The service sets one per request (`with deadline(30):`); every model call under it checks the time left before it
starts and while it generates, and raises TimeoutExceeded once it has passed. Without a deadline (the CLI, batch,
eval) nothing is checked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from whyrec.errors import TimeoutExceeded

_DEADLINE: ContextVar[tuple[float, float] | None] = ContextVar("whyrec_deadline", default=None)


@contextmanager
def deadline(seconds: float | None, since: float | None = None) -> Iterator[None]:
    """Model calls inside this block must finish within `seconds` of `since` (a time.monotonic(); default: now).
    None: no limit."""
    start = time.monotonic() if since is None else since
    token = _DEADLINE.set(None if seconds is None else (start + seconds, seconds))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def active() -> bool:
    """Whether the current request has a deadline."""
    return _DEADLINE.get() is not None


def check(what: str) -> None:
    """Raise TimeoutExceeded if the current deadline has passed."""
    current = _DEADLINE.get()
    if current is not None and time.monotonic() >= current[0]:
        raise TimeoutExceeded(f"{what} did not finish within the request timeout ({current[1]:g} s)")
