"""The unit vectors on disk: one float32 row per evidence unit (row r - 1 holds the unit of store rowid r) in a NumPy
`.npy` file that readers memory-map.

A pair's evidence is searched by gathering its own rows and scoring only those, so the cost of `for_pair` follows
the pair (one item's units, one user's history), never the size of the catalogue, and a reader holds only the pages
it touched. Search over the whole catalogue (`ask`) goes to a `GlobalSearch` (retrieval/ann.py): exact below a size
threshold, FAISS IVF above it.

The file is written by `VectorWriter` in bounded batches with plain appends, so a build's memory does not grow with
the catalogue, and a killed build finds in the file's length how many rows it had written.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np
import numpy.typing as npt

from whyrec.errors import IndexMismatchError
from whyrec.retrieval.embedder import Vectors

VECTORS_FILE = "vectors.npy"
_ROW_DTYPE = np.dtype("<f4")


def _contenders(scores: npt.NDArray[np.float32], k: int) -> npt.NDArray[np.intp]:
    """Positions of the scores at least as good as the k-th best: the top k and every row tied with its last."""
    if k >= len(scores):
        return np.arange(len(scores))
    kth = np.partition(scores, len(scores) - k)[len(scores) - k]
    return np.flatnonzero(scores >= kth)


def top_k(
    ids: Sequence[int] | npt.NDArray[np.int64], scores: npt.NDArray[np.float32], k: int
) -> list[tuple[int, float]]:
    """The k best (id, score), best first; equal scores in ascending id order, so a result never depends on the
    order the ids came in."""
    if k <= 0 or len(ids) == 0:
        return []
    keep = _contenders(scores, k)
    id_array, kept_scores = np.asarray(ids, dtype=np.int64)[keep], scores[keep]
    order = np.lexsort((id_array, -kept_scores))[:k]
    return [(int(i), float(s)) for i, s in zip(id_array[order], kept_scores[order], strict=True)]


class UnitVectors:
    """Read access to a vectors file: rows by id, exact search among chosen ids, global search through `search`."""

    def __init__(self, path: Path, matrix: np.ndarray, global_search: GlobalSearch | None = None):
        self.path = path
        self._matrix = matrix
        self.global_search = global_search  # None: an exact scan

    @classmethod
    def open(cls, path: Path, global_search: GlobalSearch | None = None) -> UnitVectors:
        rebuild = "re-run `whyrec index`"
        try:
            with path.open("rb") as handle:
                np.lib.format.read_magic(handle)
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(handle)
                start = handle.tell()
        except (OSError, ValueError) as exc:  # numpy's reasons are paragraphs ("…pickled (object) data. If you…")
            raise IndexMismatchError(f"{path}: not a readable vectors file (no .npy header); {rebuild}") from exc
        if len(shape) != 2 or dtype != _ROW_DTYPE or fortran:
            raise IndexMismatchError(f"{path}: expected float32 rows, found {dtype} {shape}; {rebuild}")
        if path.stat().st_size != start + shape[0] * shape[1] * _ROW_DTYPE.itemsize:
            raise IndexMismatchError(
                f"{path}: not a readable vectors file (its size does not match its header: cut short?); {rebuild}"
            )
        matrix = (
            np.memmap(path, dtype=_ROW_DTYPE, mode="r", offset=start, shape=shape)
            if shape[0]
            else np.zeros(shape, dtype=_ROW_DTYPE)
        )
        return cls(path, matrix, global_search)

    @property
    def dim(self) -> int:
        return int(self._matrix.shape[1])

    @property
    def count(self) -> int:
        return int(self._matrix.shape[0])

    def vectors(self, ids: Sequence[int] | npt.NDArray[np.int64]) -> Vectors:
        """The stored vectors of `ids` (store rowids), one row each, in memory."""
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        rows = np.asarray(ids, dtype=np.int64) - 1
        if rows.min() < 0 or rows.max() >= self.count:
            raise IndexMismatchError(f"{self.path}: unit id out of range; the store and vectors disagree")
        return np.asarray(self._matrix[rows], dtype=np.float32)

    def rows(self, start: int, stop: int) -> Vectors:
        """Rows `start`..`stop - 1` (0-based) in memory: for a scan in bounded batches."""
        return np.asarray(self._matrix[start:stop], dtype=np.float32)

    def search(self, query: Vectors, k: int, among: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """Top-k (id, inner product) for one query vector. `among`: only those ids, scored exactly, at a cost that
        follows their number. Without it: the whole catalogue, through the global search."""
        query = np.asarray(query, dtype=np.float32).reshape(-1)
        if among is not None:
            ids = np.unique(np.asarray(among, dtype=np.int64))
            return top_k(ids, self.vectors(ids) @ query, k)
        if self.global_search is None:
            return exact_search(self, query, k)
        return self.global_search.search(query, k)


class GlobalSearch(Protocol):
    """What `UnitVectors.search` needs from a whole-catalogue search (retrieval/ann.py's IvfSearch)."""

    def search(self, query: Vectors, k: int) -> list[tuple[int, float]]: ...


SCAN_ROWS = 65_536  # rows scored at a time in an exact scan: bounded memory whatever the catalogue


def exact_search(vectors: UnitVectors, query: Vectors, k: int) -> list[tuple[int, float]]:
    """Exact top-k over every row, scanned in bounded batches."""
    best_ids = np.zeros(0, dtype=np.int64)
    best_scores = np.zeros(0, dtype=np.float32)
    for start in range(0, vectors.count, SCAN_ROWS):
        stop = min(start + SCAN_ROWS, vectors.count)
        ids = np.concatenate([best_ids, np.arange(start + 1, stop + 1, dtype=np.int64)])
        scores = np.concatenate([best_scores, vectors.rows(start, stop) @ query])
        keep = _contenders(scores, k)
        best_ids, best_scores = ids[keep], scores[keep]
    return top_k(best_ids, best_scores, k)


class VectorWriter:
    """Appends rows to a vectors file whose row count is known up front; `resume` continues a file a killed build
    left, from its last whole row."""

    def __init__(self, path: Path, count: int, dim: int):
        self.path, self.count, self.dim = path, count, dim
        self._row_bytes = dim * _ROW_DTYPE.itemsize
        self._handle: BinaryIO
        if path.exists():
            self._handle, self.written = self._reopen()
        else:
            self._handle = path.open("wb")
            header = {"descr": _ROW_DTYPE.str, "fortran_order": False, "shape": (count, dim)}
            np.lib.format.write_array_header_1_0(self._handle, header)
            self._data_start = self._handle.tell()
            self.written = 0

    def _reopen(self) -> tuple[BinaryIO, int]:
        handle = self.path.open("r+b")
        try:
            if np.lib.format.read_magic(handle) != (1, 0):  # the version write_array_header_1_0 writes
                raise ValueError("not a version 1.0 .npy header")
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        except ValueError as exc:
            handle.close()
            raise IndexMismatchError(f"{self.path}: unreadable partial vectors file ({exc})") from exc
        if shape != (self.count, self.dim) or dtype != _ROW_DTYPE:
            handle.close()
            raise IndexMismatchError(f"{self.path}: a partial build of another shape ({shape}, {dtype})")
        self._data_start = handle.tell()
        whole = min(self.count, (os.fstat(handle.fileno()).st_size - self._data_start) // self._row_bytes)
        handle.truncate(self._data_start + whole * self._row_bytes)  # a row cut short by the kill is written again
        handle.seek(0, os.SEEK_END)
        return handle, whole

    def append(self, rows: Vectors) -> None:
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"expected rows of {self.dim} floats, got {rows.shape}")
        if self.written + len(rows) > self.count:
            raise ValueError(f"{self.path}: more rows than the {self.count} announced")
        self._handle.write(np.ascontiguousarray(rows, dtype=_ROW_DTYPE).tobytes())
        self.written += len(rows)

    def close(self) -> None:
        """Flush to disk (also after an interruption: what was written is kept for a resume)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
