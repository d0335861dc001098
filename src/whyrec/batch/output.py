"""The output: JSON Lines of Explanation records, appended one complete, fsynced line at a time.

A run killed at any moment leaves at most one partial last line; opening the file again cuts that line off and reads
which pairs are done, so the next run skips them. One writer at a time: the file is locked while it is open.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType

from whyrec.errors import CatalogueError, WhyrecError
from whyrec.schema import Explanation


class ResumableOutput:
    """`done` holds the (user_id, item_id) keys already in the file; `append` adds one Explanation durably."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise WhyrecError(f"{path}: cannot write: {exc.strerror}") from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            busy = f"{path}: another `whyrec batch` is writing it; wait for it or choose another --out"
            raise WhyrecError(busy) from None
        try:
            self.done, self.size, self.cut = self._resume()
            self.appended = 0  # lines written through this object
        except BaseException:
            os.close(self._fd)
            raise

    def _resume(self) -> tuple[set[tuple[str, str]], int, int]:
        """The keys of the complete lines; the file truncated to the end of the last one (how many bytes went)."""
        done: set[tuple[str, str]] = set()
        complete = 0
        with open(self._fd, "rb", closefd=False) as handle:
            handle.seek(0)
            for line_no, line in enumerate(handle, start=1):
                if not line.endswith(b"\n"):
                    break  # a torn write from a killed run: the pair is redone
                complete += len(line)
                if line.strip():
                    done.add(_key(line, self.path, line_no))
        end = os.lseek(self._fd, 0, os.SEEK_END)
        if end > complete:
            os.ftruncate(self._fd, complete)
            os.fsync(self._fd)
        return done, complete, end - complete

    def append(self, explanation: Explanation) -> None:
        """Write the record as one line and wait until it is on disk. A Ctrl-C waits until the line is complete; a
        write that fails half way (a full disk) is undone."""
        data = (explanation.model_dump_json() + "\n").encode("utf-8")
        with _signals_deferred():
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(self._fd, view) :]
                os.fsync(self._fd)
            except BaseException:
                os.ftruncate(self._fd, self.size)
                raise
            self.size += len(data)
            self.appended += 1
            self.done.add((str(explanation.user_id), explanation.item_id))  # as _key reads it back

    def close(self) -> None:
        os.close(self._fd)  # closing releases the lock

    def __enter__(self) -> ResumableOutput:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@contextlib.contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block ends, so that they cannot land between a write and its bookkeeping.

    Blocking them in this thread is not enough: in a process with other threads (Ray's, torch's) the kernel hands the
    signal to one of those, and Python still runs its handler in the main thread, wherever that is. So, in the main
    thread, the handlers are swapped for one that only notes the signal, and each noted signal is raised again once
    the old handlers are back."""
    held = (signal.SIGINT, signal.SIGTERM)
    if threading.current_thread() is not threading.main_thread():
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        try:
            yield
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        return
    noted: list[int] = []

    def note(signum: int, frame: object) -> None:
        noted.append(signum)

    # a handler not installed from Python (None) cannot be put back: that signal is left as it is
    previous = {s: h for s in held if (h := signal.getsignal(s)) is not None}
    for signum in previous:
        signal.signal(signum, note)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for again in dict.fromkeys(noted):
            signal.raise_signal(again)


def _key(line: bytes, path: Path, line_no: int) -> tuple[str, str]:
    try:
        record = json.loads(line)
        return str(record["user_id"]), str(record["item_id"])
    except (ValueError, TypeError, KeyError):
        raise CatalogueError(
            "not an Explanation record; is --out the right file? (remove the line to go on)", path, line_no
        ) from None
