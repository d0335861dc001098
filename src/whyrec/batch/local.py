"""The local engine: the explain pipeline in this process, or in N spawned processes with one pipeline each.

The engine is the seam for scaling out: anything that turns pairs into Explanations (a Ray actor pool:
`whyrec.batch.ray_engine`) can replace it. This process stays the only writer of the output, so a row is never
written twice or torn by another.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Literal, Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from whyrec.agent import Explainer
from whyrec.batch.output import ResumableOutput
from whyrec.batch.pairs import OnBadRow, Pair, check_readable, read_pairs
from whyrec.batch.parquet import is_parquet, journal_for, require_pyarrow, write_parquet
from whyrec.config import Settings
from whyrec.errors import WhyrecError
from whyrec.llm import LLM
from whyrec.schema import Explanation


class Engine(Protocol):
    """Turns pairs into Explanations, in any order; used as a context manager that releases its workers."""

    def explain(self, pairs: Iterable[Pair]) -> Iterator[Explanation]: ...

    def __enter__(self) -> Engine: ...

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None: ...


class InProcessEngine:
    """One pipeline, in this process: a Ctrl-C abandons the row being generated."""

    def __init__(self, explainer: Explainer):
        self.explainer = explainer

    def explain(self, pairs: Iterable[Pair]) -> Iterator[Explanation]:
        for pair in pairs:
            yield self.explainer.explain(pair.user_id, pair.item_id)

    def __enter__(self) -> InProcessEngine:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        return None


class ProcessPoolEngine:
    """`workers` spawned processes, each building its own pipeline from `settings`, with the CPU threads shared out."""

    def __init__(self, settings: Settings, workers: int):
        self.settings = share_cpus(settings, workers)
        self.workers = workers
        self._pool: multiprocessing.pool.Pool | None = None

    def __enter__(self) -> ProcessPoolEngine:
        # Workers inherit an ignored SIGINT (a Ctrl-C reaches the whole process group): only this process handles it.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            context = multiprocessing.get_context("spawn")
            self._pool = context.Pool(self.workers, initializer=_start_worker, initargs=(self.settings,))
        finally:
            signal.signal(signal.SIGINT, previous)
        return self

    def explain(self, pairs: Iterable[Pair]) -> Iterator[Explanation]:
        if self._pool is None:
            raise RuntimeError("use ProcessPoolEngine in a `with` block")
        yield from self._pool.imap_unordered(_explain_in_worker, ((p.user_id, p.item_id) for p in pairs))

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._pool is not None:
            if kind is None:
                self._pool.close()
            else:
                self._pool.terminate()  # abandon the rows in flight; they were never written
            self._pool.join()
            self._pool = None


# One pipeline per worker process, built once by the pool's initializer.
_worker_explainer: Explainer | None = None
_worker_failure: BaseException | None = None


def share_cpus(settings: Settings, workers: int) -> Settings:
    """The settings for one of `workers` pipelines that share this machine's CPU threads evenly."""
    return settings.model_copy(
        update={
            "llm_threads": max(1, settings.llm_threads // workers),
            "threads": max(1, settings.threads // workers),
        }
    )


def make_worker_explainer(settings: Settings, llm: LLM | None = None) -> Explainer:
    """The pipeline of one worker (a process of the pool, a Ray actor), its FAISS threads capped at its share."""
    import faiss

    from whyrec.factory import make_explainer

    # FAISS's OpenMP threads spin-wait: N processes each with a thread per core run several times slower.
    faiss.omp_set_num_threads(settings.threads)
    return make_explainer(settings, llm)


def _start_worker(settings: Settings) -> None:
    global _worker_explainer, _worker_failure
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _worker_explainer = make_worker_explainer(settings)
    except Exception as exc:  # raised from an initializer, the pool would restart the worker forever
        _worker_failure = exc


def _explain_in_worker(pair: tuple[str, str]) -> Explanation:
    if _worker_explainer is None:
        raise _worker_failure or RuntimeError("the worker has no pipeline")
    return _worker_explainer.explain(*pair)


EngineKind = Literal["local", "ray"]
EngineFactory = Callable[[Explainer], Engine]


def choose_engine(
    kind: EngineKind, settings: Settings, workers: int = 1, ray_address: str | None = None
) -> EngineFactory:
    """The engine `whyrec batch --engine` names: local (this process, or a pool of `workers` processes) or ray
    (`workers` actors, on a Ray started here or on the cluster at `ray_address`). It is given the parent's pipeline,
    which only the in-process engine uses."""
    if kind == "local":
        if ray_address is not None:
            raise WhyrecError("--ray-address goes with --engine ray")
        if workers == 1:
            return InProcessEngine
        return lambda _: ProcessPoolEngine(settings, workers)
    if kind == "ray":
        from whyrec.batch.ray_engine import RayEngine

        return lambda _: RayEngine(settings, workers, ray_address)
    raise WhyrecError(f"--engine must be local or ray, not {kind!r}")


@dataclass
class BatchSummary:
    written: int = 0
    already_done: int = 0
    bad_rows: int = 0
    duplicates: int = 0
    remaining: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    total_rows: int | None = None  # rows in a Parquet output after the run (the journal's complete lines)

    @property
    def rows_per_second(self) -> float:
        return self.written / self.seconds if self.seconds > 0 else 0.0


class RateColumn(ProgressColumn):
    """Rows per second over the last half minute."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} rows/s" if speed else "– rows/s", style="progress.data.speed")


def run_batch(
    pairs_path: Path,
    out_path: Path,
    settings: Settings,
    *,
    workers: int = 1,
    on_bad_row: OnBadRow = "skip",
    limit: int | None = None,
    console: Console | None = None,
    engine: EngineFactory | None = None,
) -> BatchSummary:
    """Explain every good pair of `pairs_path` that `out_path` does not hold yet, appending to it. A Ctrl-C stops
    cleanly: the summary says `interrupted` and the file holds only complete lines. `engine` replaces the local one."""
    from whyrec.factory import make_explainer

    console = console or Console(stderr=True, highlight=False)
    check_readable(pairs_path)
    parquet = out_path if is_parquet(out_path) else None
    if parquet is not None:  # the rows go to a journal beside it; the Parquet file is written from it at the end
        require_pyarrow()
        out_path = journal_for(parquet)
    # Built here even for a pool: it checks the ids, and builds the demo index once before workers open it. The
    # pairs are read before the output is opened, so a pairs file that fails creates no output.
    explainer = make_explainer(settings)
    pairs = read_pairs(
        pairs_path,
        explainer.retriever.check_pair,
        on_bad_row,
        report=lambda bad: console.print(f"skipped {bad}", markup=False, soft_wrap=True),
    )
    with ResumableOutput(out_path) as output:
        if output.cut:
            console.print(
                f"{out_path}: cut off a partial last line ({output.cut} bytes) left by an interrupted run",
                markup=False,
                soft_wrap=True,
            )
        todo = [pair for pair in pairs.pairs if pair.key not in output.done]
        summary = BatchSummary(
            already_done=len(pairs.pairs) - len(todo), bad_rows=len(pairs.bad), duplicates=pairs.duplicates
        )
        pending = len(todo)
        if limit is not None:
            todo = todo[:limit]
        if engine is None:
            engine = choose_engine("local", settings, workers)
        started = time.perf_counter()
        progress = Progress(
            TextColumn("explaining"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=console,
        )
        try:
            with progress, engine(explainer) as running:
                task = progress.add_task("explain", total=len(todo))
                for explanation in running.explain(todo):
                    output.append(explanation)
                    progress.advance(task)
        except KeyboardInterrupt:
            summary.interrupted = True
        summary.written = output.appended
        summary.seconds = time.perf_counter() - started
        summary.remaining = pending - summary.written
        if parquet is not None:
            summary.total_rows = write_parquet(out_path, parquet)
    return summary
