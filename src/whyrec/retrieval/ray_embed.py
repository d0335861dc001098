"""Index builds on Ray: the embedding (the only stage that takes hours at millions of units) spread over a Ray Data
actor pool, each actor holding one embedder; everything else stays in the build's process, which remains the only
writer of the index (the same store, the same vectors file in unit order, the same resume and swap).

The build hands the engine `window` batches of texts at a time; the engine cuts them into chunks of CHUNK texts for
the actors and puts the vectors back in order, so memory stays bounded and a killed build loses one window at most.
On one machine Ray is started for the build and stopped after it; with `address` the actors run on an existing
cluster whose nodes each need whyrec and the embedding model installed (no index files: the texts travel with the
tasks).
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

import numpy as np

from whyrec.raysupport import import_ray, quiet_data, start_ray
from whyrec.retrieval.embedder import Embedder, Vectors

CHUNK = 512  # texts per Ray task


class EmbedActor:
    """One Ray actor: makes its embedder once, then embeds one batch of texts per row."""

    def __init__(self, make: Callable[[], Embedder], threads: int):
        import os

        os.environ["OMP_NUM_THREADS"] = str(threads)
        self.embedder = make()
        if hasattr(self.embedder, "threads"):
            self.embedder.threads = threads

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        vectors = [self.embedder.embed(list(texts)) for texts in batch["texts"]]
        return {
            "order": batch["order"],
            "part": batch["part"],
            "vectors": [v.tobytes() for v in vectors],
            "rows": [len(v) for v in vectors],
        }


class RayEngine:
    """`workers` actors with `cores // workers` threads each (one at least); a context manager around Ray."""

    def __init__(
        self, make: Callable[[], Embedder], name: str, dim: int, workers: int, cores: int, address: str | None = None
    ):
        self.make, self.name, self.dim = make, name, dim
        self.workers = workers
        self.threads = max(1, cores // workers)
        self.cores = cores
        self.address = address
        # batches per Ray Data run: each run starts the actors (and loads the model) again, so a few minutes of work
        # each; the driver holds one window of texts and vectors (8 × 4096 × 384 floats per worker: ~50 MB)
        self.window = 8 * workers
        self._started = False

    def __enter__(self) -> RayEngine:
        self._started = start_ray(self.address, max(self.cores, self.workers * self.threads))
        quiet_data().execution_options.preserve_order = True
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self._started:
            import_ray().shutdown()
            self._started = False

    def embed_all(self, batches: list[list[str]]) -> list[Vectors]:
        ray = import_ray()
        parts: dict[int, dict[int, Vectors]] = {n: {} for n in range(len(batches))}
        # chunks of CHUNK texts, one Ray Data block each: a block's rows go to one actor one after the other, and
        # a whole batch of 4096 would leave the other actors idle on a small catalogue
        wanted = [
            {"order": n, "part": start // CHUNK, "texts": texts[start : start + CHUNK]}
            for n, texts in enumerate(batches)
            for start in range(0, len(texts), CHUNK)
        ]
        if wanted:
            dataset = ray.data.from_items(wanted, override_num_blocks=len(wanted)).map_batches(
                EmbedActor,
                fn_constructor_args=(self.make, self.threads),
                batch_size=1,
                batch_format="numpy",
                compute=ray.data.ActorPoolStrategy(size=min(self.workers, len(wanted))),
                num_cpus=self.threads,
            )
            for row in dataset.iter_rows():
                vectors = np.frombuffer(row["vectors"], dtype=np.float32).reshape(int(row["rows"]), self.dim)
                parts[int(row["order"])][int(row["part"])] = vectors.copy()
        return [
            np.concatenate([found[j] for j in sorted(found)]) if found else np.zeros((0, self.dim), dtype=np.float32)
            for found in parts.values()
        ]
