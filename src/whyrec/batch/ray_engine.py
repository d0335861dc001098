"""The Ray engine: a Ray Data actor pool whose actors each hold one pipeline (one model), on one machine or a cluster.

The pairs go to the actors as a dataset; the Explanations come back as JSON strings, streamed row by row to this
process, which stays the only writer of the output (resumable, fsynced line by line; see `output.py`).

Every actor opens the index at the path in the settings, read-only: "the index replicated to the actors". On one
machine that is the same directory for all. On a cluster the index directory must be at the same path on every node
(copied there, or on shared storage), and every node needs whyrec (with the same version) and the models installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any

from whyrec.batch.local import make_worker_explainer, share_cpus
from whyrec.batch.pairs import Pair
from whyrec.config import Settings
from whyrec.errors import WhyrecError
from whyrec.llm import LLM
from whyrec.raysupport import import_ray, quiet_data, start_ray
from whyrec.schema import Explanation

COLUMN = "explanation"  # the JSON of one Explanation per row: a plain string column travels well through Arrow


class ExplainActor:
    """One Ray actor: builds its own pipeline once, then explains a batch of pairs (a pyarrow Table) per call."""

    def __init__(self, settings: Settings, llm: Callable[[], LLM] | None = None):
        self.explainer = make_worker_explainer(settings, llm() if llm is not None else None)

    def __call__(self, batch: Any) -> dict[str, list[str]]:
        users, items = batch.column("user_id").to_pylist(), batch.column("item_id").to_pylist()
        return {COLUMN: [self.explainer.explain(u, i).model_dump_json() for u, i in zip(users, items, strict=True)]}


class RayEngine:
    """`actors` Ray actors, each with one pipeline and `llm_threads` CPUs (this machine's cores shared out by
    default). `address` names an existing cluster (`auto`, `ray://host:10001`); without it, Ray is started here for
    the run and stopped after it. A Ray already started in this process (by a test, a notebook) is used as it is.
    `llm` makes each actor's model instead of the configured one (a FakeLLM in tests); it must pickle."""

    def __init__(
        self,
        settings: Settings,
        actors: int,
        address: str | None = None,
        *,
        batch_size: int = 4,
        llm: Callable[[], LLM] | None = None,
    ):
        self.actor_settings = share_cpus(settings, actors)
        self.cores = settings.llm_threads
        self.actors = actors
        self.address = address
        self.batch_size = batch_size  # small: rows stream back to the writer soon, and a Ctrl-C loses little work
        self.llm = llm
        self._started_ray = False
        self._open: list[Any] = []  # row iterators not yet finished or closed

    def __enter__(self) -> RayEngine:
        # One CPU at least per actor, or Ray would wait for ever for the ones it cannot place.
        self._started_ray = start_ray(self.address, max(self.cores, self.actors * self.actor_settings.llm_threads))
        quiet_data()
        return self

    def explain(self, pairs: Iterable[Pair]) -> Iterator[Explanation]:
        ray = import_ray()
        items = [{"user_id": p.user_id, "item_id": p.item_id} for p in pairs]
        if not items:
            return
        dataset = ray.data.from_items(items).map_batches(
            ExplainActor,
            fn_constructor_args=(self.actor_settings, self.llm),
            batch_size=self.batch_size,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=self.actor_settings.llm_threads,
        )
        row: dict[str, Any]
        rows = iter(dataset.iter_rows())
        self._open.append(rows)
        try:
            for row in rows:
                yield Explanation.model_validate_json(row[COLUMN])
        except ray.exceptions.RayError as exc:
            raise _user_error(exc) or exc from None
        finally:
            self._close(rows)

    def _close(self, rows: Any) -> None:
        """Stop Ray Data's executor behind `rows` (its threads still use Ray: shutting Ray down under them makes the
        core worker end the process with exit code 1, as a Ctrl-C once did)."""
        if rows in self._open:
            self._open.remove(rows)
            rows.close()

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for rows in list(self._open):  # a Ctrl-C leaves the caller's loop with our generator still suspended
            self._close(rows)
        if self._started_ray:
            import_ray().shutdown()
            self._started_ray = False


def _user_error(exc: Exception) -> WhyrecError | None:
    """The one-line error a user can act on (an index missing on a node) when an actor raised a WhyrecError."""
    for line in reversed(str(exc).splitlines()):
        name, sep, message = line.strip().partition(": ")
        if sep and name.startswith("whyrec.errors."):
            return WhyrecError(f"a Ray actor failed: {message}")
    return None
