"""Search over the whole catalogue (`ask`, candidate generation): exact up to EXACT_MAX units, FAISS IVF above.

The IVF index keeps 8-bit scalar-quantised vectors in about sqrt(N) lists (a quarter of the float vectors' size),
is trained on a seeded sample, and its candidates (RERANK times what was asked) are scored again exactly from the
vectors file, so the scores it returns are the exact inner products. `nprobe` is tuned at the build: the smallest
power of two whose recall@10 against the exact search (`recall`: ties counted as ANN benchmarks count them) reaches
TARGET_RECALL over needs made from the catalogue's own texts (the first few words of sampled units, embedded);
`ann.json` records it with the recall it measured.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from whyrec.errors import DependencyMissingError, IndexMismatchError
from whyrec.retrieval.embedder import Vectors
from whyrec.retrieval.vectors import SCAN_ROWS, UnitVectors, top_k

ANN_FILE = "ann.faiss"
ANN_PARAMS_FILE = "ann.json"
EXACT_MAX = 100_000  # up to this many units an exact scan answers in tens of milliseconds: no IVF to build
RERANK = 4
TARGET_RECALL = 0.97  # on the build's own sample of needs; a margin over the 0.95 users' needs should see
TUNING_QUERIES = 200
TRAIN_PER_LIST = 40  # FAISS warns below 39 training points per centroid
NPROBES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise DependencyMissingError("cannot import faiss: `pip install faiss-cpu`") from exc
    return faiss


class AnnParams(BaseModel):
    kind: str  # "ivf-sq8"
    nlist: int
    nprobe: int
    recall_at_10: float  # against the exact search, on the tuning queries
    tuning_queries: int
    count: int


def perturbed_rows(vectors: UnitVectors, n: int, seed: int) -> Vectors:
    """Stored rows moved a little (noise of norm 0.5, then length 1): queries near the data, none equal to a row."""
    rng = np.random.default_rng(seed)
    picked = np.sort(rng.choice(vectors.count, size=min(n, vectors.count), replace=False))
    rows = vectors.vectors((picked + 1).tolist())
    noise = rng.standard_normal(rows.shape).astype(np.float32)
    noise *= 0.5 / np.linalg.norm(noise, axis=1, keepdims=True)
    moved: Vectors = rows + noise
    moved /= np.linalg.norm(moved, axis=1, keepdims=True)
    return moved


def text_queries(texts: list[str], embed: Callable[[list[str]], Vectors], seed: int) -> Vectors:
    """Needs as people type them: the first 3 to 8 words of each of `texts` (units of the catalogue), embedded."""
    rng = np.random.default_rng(seed)
    cut = [" ".join(t.split()[: int(rng.integers(3, 9))]) for t in texts]
    return embed([c for c in cut if c])


def exact_top(vectors: UnitVectors, queries: Vectors, k: int) -> list[list[tuple[int, float]]]:
    """The exact top-k (id, score) of every query, in one scan of the vectors file (bounded batches)."""
    best: list[list[tuple[int, float]]] = [[] for _ in range(len(queries))]
    for start in range(0, vectors.count, SCAN_ROWS):
        stop = min(start + SCAN_ROWS, vectors.count)
        scores = vectors.rows(start, stop) @ queries.T  # (rows, queries)
        block_ids = np.arange(start + 1, stop + 1, dtype=np.int64)
        for q in range(len(queries)):
            merged = best[q] + top_k(block_ids, scores[:, q], k)
            best[q] = top_k([i for i, _ in merged], np.asarray([s for _, s in merged], dtype=np.float32), k)
    return best


def recall(found: list[tuple[int, float]], exact: list[tuple[int, float]]) -> float:
    """Recall@k as ANN benchmarks count it: a found item is right when it scores at least the exact k-th (units with
    the same text tie, and any of them is as good an answer)."""
    if not exact:
        return 1.0
    kth = exact[-1][1] - 1e-6
    return sum(1 for _, score in found[: len(exact)] if score >= kth) / len(exact)


class IvfSearch:
    """A trained IVF index over the vectors file, loaded on its first search (explain never needs it)."""

    def __init__(self, path: Path, params: AnnParams, vectors: UnitVectors):
        self.path, self.params, self.vectors = path, params, vectors
        self._index: Any = None

    def _load(self) -> Any:
        if self._index is None:
            try:
                self._index = _faiss().read_index(str(self.path))
            except RuntimeError as exc:
                raise IndexMismatchError(f"{self.path}: not a readable FAISS index; re-run `whyrec index`") from exc
            if int(self._index.ntotal) != self.vectors.count:
                raise IndexMismatchError(f"{self.path}: {self._index.ntotal} vectors, the store has more or fewer")
        return self._index

    def search(self, query: Vectors, k: int, nprobe: int | None = None) -> list[tuple[int, float]]:
        index = self._load()
        k = min(k, self.vectors.count)
        wanted = k * RERANK
        # enough lists to hold the candidates a large k needs (ask reads thousands), at least the tuned number
        probe = nprobe or max(self.params.nprobe, math.ceil(wanted * self.params.nlist / self.vectors.count))
        params = _faiss().SearchParametersIVF(nprobe=min(probe, self.params.nlist))
        _, ids = index.search(query.reshape(1, -1).astype(np.float32), wanted, params=params)
        found = [int(i) for i in ids[0] if i != -1]
        return top_k(found, self.vectors.vectors(found) @ query, k)


def build_ann(
    vectors: UnitVectors,
    directory: Path,
    queries: Vectors,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> AnnParams | None:
    """Train, fill and tune an IVF index for `vectors` in `directory` (None: small enough for exact search).
    `queries` tune nprobe: typed needs (`text_queries`), what `ask` searches with."""
    if vectors.count <= EXACT_MAX:
        return None
    faiss = _faiss()
    say = progress or (lambda _: None)
    nlist = max(64, int(math.sqrt(vectors.count)))
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(vectors.count, size=min(vectors.count, TRAIN_PER_LIST * nlist), replace=False))
    say(f"training IVF ({nlist} lists) on {len(sample):,} vectors")
    quantizer = faiss.IndexFlatIP(vectors.dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, vectors.dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.seed = seed
    index.train(vectors.vectors((sample + 1).tolist()))
    say("filling the IVF lists")
    for start in range(0, vectors.count, SCAN_ROWS):
        stop = min(start + SCAN_ROWS, vectors.count)
        index.add_with_ids(vectors.rows(start, stop), np.arange(start + 1, stop + 1, dtype=np.int64))
    path = directory / ANN_FILE
    faiss.write_index(index, str(path))

    say(f"tuning nprobe on {len(queries)} queries")
    truth = exact_top(vectors, queries, 10)
    trial = AnnParams(kind="ivf-sq8", nlist=nlist, nprobe=1, recall_at_10=0, tuning_queries=0, count=vectors.count)
    search = IvfSearch(path, trial, vectors)
    search._index = index

    def measure(nprobe: int) -> float:
        found = [recall(search.search(q, 10, nprobe=nprobe), t) for q, t in zip(queries, truth, strict=True)]
        return float(np.mean(found))

    # the smallest power of two that reaches the target; every list (an exact search of the codes) when none does
    tried = [p for p in NPROBES if p < nlist] + [nlist]
    chosen, measured = nlist, 0.0
    for nprobe in tried:
        measured = measure(nprobe)
        if measured >= TARGET_RECALL:
            chosen = nprobe
            break
    params = AnnParams(
        kind="ivf-sq8",
        nlist=nlist,
        nprobe=chosen,
        recall_at_10=round(measured, 4),
        tuning_queries=len(queries),
        count=vectors.count,
    )
    (directory / ANN_PARAMS_FILE).write_text(params.model_dump_json(indent=2), encoding="utf-8")
    return params


def open_global_search(directory: Path, vectors: UnitVectors) -> IvfSearch | None:
    """The IVF search a build left in `directory`, or None (exact search) when it built none."""
    params_path = directory / ANN_PARAMS_FILE
    if not params_path.exists():
        if vectors.count > EXACT_MAX:
            raise IndexMismatchError(
                f"{directory}: {vectors.count} units but no {ANN_PARAMS_FILE}; re-run `whyrec index`"
            )
        return None
    try:
        params = AnnParams.model_validate(json.loads(params_path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise IndexMismatchError(f"{params_path}: unreadable; re-run `whyrec index`") from exc
    if params.count != vectors.count:
        raise IndexMismatchError(f"{params_path}: built for {params.count} units, the vectors hold {vectors.count}")
    return IvfSearch(directory / ANN_FILE, params, vectors)
