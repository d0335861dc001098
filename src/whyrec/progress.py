"""A build's progress on the terminal: one rich bar per stage, with the rate and the time left when the stage knows
its size; nothing when stderr is not a terminal (CI logs, pipes)."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class TerminalProgress:
    """`stage(name, total, done)` / `advance(n)` (retrieval.index.Progress) drawn as bars; a context manager."""

    def __init__(self, console: Console):
        self._bar = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[progress.data.speed]{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> TerminalProgress:
        self._bar.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._finish()
        self._bar.stop()

    def _finish(self) -> None:
        if self._task is not None:
            task = self._bar.tasks[self._task]
            self._bar.update(self._task, total=task.total or task.completed or 1, completed=task.completed or 1)
            self._bar.stop_task(self._task)

    def stage(self, name: str, total: int, done: int = 0) -> None:
        self._finish()
        # a resumed stage starts at `done` without counting it in the rate
        self._task = self._bar.add_task(name, total=total or None, completed=done, rate="")

    def advance(self, n: int) -> None:
        if self._task is None:
            return
        self._bar.advance(self._task, n)
        speed = self._bar.tasks[self._task].speed
        self._bar.update(self._task, rate=f"{speed:,.0f}/s" if speed else "")
