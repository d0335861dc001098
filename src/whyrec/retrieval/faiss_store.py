"""Exact inner-product search with FAISS (`IndexFlatIP` behind an id map), optionally limited to chosen ids."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from whyrec.errors import DependencyMissingError, IndexMismatchError
from whyrec.retrieval.embedder import Vectors


def _faiss() -> Any:
    try:
        import faiss
    except ImportError as exc:
        raise DependencyMissingError("cannot import faiss: `pip install faiss-cpu`") from exc
    return faiss


class FaissIndex:
    """Vectors keyed by int64 ids (the store's unit rowids). Flat and exact: fine up to ~1M units on one machine."""

    def __init__(self, index: Any):
        self._index = index

    @classmethod
    def build(cls, ids: Sequence[int], vectors: Vectors) -> FaissIndex:
        faiss = _faiss()
        index = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.shape[1]))
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        faiss = _faiss()
        try:
            return cls(faiss.read_index(str(path)))
        except RuntimeError as exc:
            raise IndexMismatchError(f"{path}: not a readable FAISS index; re-run `whyrec index`") from exc

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    @property
    def dim(self) -> int:
        return int(self._index.d)

    @property
    def count(self) -> int:
        return int(self._index.ntotal)

    def vectors(self, ids: Sequence[int]) -> Vectors:
        """The stored vectors of `ids`, one row each."""
        if not ids:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def search(self, query: Vectors, k: int, among: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """Top-k (id, inner product) for one query vector; `among` restricts the search to those ids."""
        faiss = _faiss()
        if among is not None:
            if not among:
                return []
            k = min(k, len(among))
            selector = faiss.IDSelectorBatch(np.asarray(among, dtype=np.int64))
            params = faiss.SearchParameters(sel=selector)
            scores, ids = self._index.search(query.reshape(1, -1), k, params=params)
        else:
            scores, ids = self._index.search(query.reshape(1, -1), min(k, self.count))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]
