"""The unit vectors on disk: per-pair search gathers the pair's rows (same results as FAISS's exact search did),
global search goes exact or IVF by size, and a build killed while embedding resumes to the same index."""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Sequence
from pathlib import Path

import faiss
import numpy as np
import pytest

from conftest import DEMO
from whyrec.errors import IndexMismatchError
from whyrec.knowledge import Store
from whyrec.retrieval import HashingEmbedder, KnowledgeIndex, PairRetriever, build_index, open_index
from whyrec.retrieval import ann as ann_module
from whyrec.retrieval import build as build_module
from whyrec.retrieval.ann import ANN_FILE, ANN_PARAMS_FILE, TARGET_RECALL
from whyrec.retrieval.embedder import SentenceTransformerEmbedder, Vectors
from whyrec.retrieval.vectors import VECTORS_FILE, VectorWriter, exact_search, top_k


class FaissExact:
    """What per-pair retrieval ran on before: FAISS IndexFlatIP behind an id map, searched with an id selector."""

    def __init__(self, rows: Vectors):
        self._index = faiss.IndexIDMap2(faiss.IndexFlatIP(rows.shape[1]))
        self._index.add_with_ids(rows, np.arange(1, len(rows) + 1, dtype=np.int64))
        self.dim, self.count = rows.shape[1], len(rows)

    def vectors(self, ids: Sequence[int]) -> Vectors:
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def search(self, query: Vectors, k: int, among: Sequence[int] | None = None) -> list[tuple[int, float]]:
        if among is not None:
            if not among:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(among, dtype=np.int64)))
            scores, ids = self._index.search(query.reshape(1, -1), min(k, len(among)), params=params)
        else:
            scores, ids = self._index.search(query.reshape(1, -1), min(k, self.count))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i != -1]


def test_top_k_orders_ties_by_id_whatever_order_the_ids_came_in() -> None:
    scores = np.array([0.5, 0.9, 0.5, 0.5, 0.1], dtype=np.float32)
    assert top_k([7, 3, 5, 1, 2], scores, 3) == [(3, pytest.approx(0.9)), (1, 0.5), (5, 0.5)]
    assert top_k([1, 5, 7, 3, 2], scores[[3, 2, 0, 1, 4]], 3) == [(3, pytest.approx(0.9)), (1, 0.5), (5, 0.5)]
    assert top_k([], np.zeros(0, dtype=np.float32), 3) == []


def test_per_pair_search_equals_faiss_exact_search_on_the_demo(demo_index: KnowledgeIndex) -> None:
    vectors = demo_index.vectors
    reference = FaissExact(vectors.rows(0, vectors.count))
    store, rng = demo_index.store, random.Random(5)
    users, items = store.user_ids(), store.item_ids()
    for _ in range(200):
        item, user = rng.choice(items), rng.choice(users)
        among = store.item_unit_rowids(item, exclude_user=user) + store.user_rowids(user, "history")
        query = vectors.vectors([rng.randint(1, vectors.count)])[0]
        k = rng.choice([1, 3, 8, 40])
        ours, theirs = vectors.search(query, k, among=among), reference.search(query, k, among=among)
        assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)
        # ids agree wherever the score is not tied with another candidate's
        tied = {round(s, 5) for s in [s for _, s in theirs] if [round(t, 5) for _, t in theirs].count(round(s, 5)) > 1}
        assert [i for i, s in ours if round(s, 5) not in tied] == [i for i, s in theirs if round(s, 5) not in tied]
    query = vectors.vectors([1])[0]
    assert [s for _, s in vectors.search(query, 25)] == pytest.approx([s for _, s in reference.search(query, 25)])


def test_for_pair_gives_the_evidence_faiss_gave(
    demo_index: KnowledgeIndex, embedder: SentenceTransformerEmbedder
) -> None:
    """The whole per-pair retrieval on every user of the demo with three items each: the same evidence, in the same
    order, as on FAISS's exact search. Units with equal vectors ("great gift", "Great Gift": MiniLM lowercases) tie,
    and FAISS broke ties its own way: those compare by text."""
    rows = demo_index.vectors.rows(0, demo_index.vectors.count)
    reference = dataclasses.replace(demo_index, vectors=FaissExact(rows))  # type: ignore[arg-type]
    ours, theirs = PairRetriever(demo_index, embedder), PairRetriever(reference, embedder)
    store, rng = demo_index.store, random.Random(9)
    compared = same_ids = 0
    for user in store.user_ids():
        for item in rng.sample(store.item_ids(), 3):
            a, b = ours.for_pair(user, item), theirs.for_pair(user, item)
            assert [e.text.lower() for e in a] == [e.text.lower() for e in b], (user, item)
            assert [e.score for e in a] == pytest.approx([e.score for e in b], abs=2e-4)  # scores are rounded to 4
            compared += 1
            same_ids += [e.id for e in a] == [e.id for e in b]
    assert compared >= 30 and same_ids >= 0.8 * compared


def test_a_writer_resumes_from_the_last_whole_row(tmp_path: Path) -> None:
    rows = np.random.default_rng(0).standard_normal((10, 4)).astype(np.float32)
    path = tmp_path / VECTORS_FILE
    writer = VectorWriter(path, 10, 4)
    writer.append(rows[:6])
    writer._handle.write(b"\x00\x01\x02")  # a row cut short by the kill
    writer._handle.close()
    again = VectorWriter(path, 10, 4)
    assert again.written == 6
    again.append(rows[6:])
    again.close()
    assert np.array_equal(np.load(path), rows)
    with pytest.raises(IndexMismatchError, match="another shape"):
        VectorWriter(path, 11, 4)


class Interrupting(HashingEmbedder):
    """Dies like Ctrl-C after `batches` calls."""

    def __init__(self, batches: int):
        super().__init__()
        self.batches = batches

    def embed(self, texts: Sequence[str]) -> Vectors:
        if self.batches == 0:
            raise KeyboardInterrupt
        self.batches -= 1
        return super().embed(texts)


def test_a_killed_build_resumes_and_equals_an_uninterrupted_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "EMBED_BATCH", 500)
    whole = tmp_path / "whole"
    build_index(DEMO, whole, HashingEmbedder())
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        build_index(DEMO, out, Interrupting(batches=3))
    assert not out.exists()
    (work,) = tmp_path.glob(".resumed.build-*")
    assert (work / build_module.STORE_DONE).exists()
    counted = Interrupting(batches=10_000)
    seen: list[tuple[str, int]] = []

    class Recorder:
        def stage(self, name: str, total: int, done: int = 0) -> None:
            seen.append((name, done))

        def advance(self, n: int) -> None:
            seen.append(("advance", n))

    build_index(DEMO, out, counted, progress=Recorder())
    assert ("reading the catalogue", 0) not in seen  # the store was not written again
    assert seen[0] == ("embedding with hashing-384", 1500)  # the three batches written before the kill
    assert (out / VECTORS_FILE).read_bytes() == (whole / VECTORS_FILE).read_bytes()
    a, b = Store(whole / "store.sqlite"), Store(out / "store.sqlite")
    assert a.unit_texts_between(1, 10**9) == b.unit_texts_between(1, 10**9)
    assert not list(tmp_path.glob(".resumed.build-*"))


@pytest.fixture
def ivf_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> KnowledgeIndex:
    """The demo catalogue with the IVF threshold lowered below its size."""
    monkeypatch.setattr(ann_module, "EXACT_MAX", 1000)
    build_index(DEMO, tmp_path / "index", HashingEmbedder())
    return open_index(tmp_path / "index", HashingEmbedder())


def test_above_the_threshold_global_search_is_ivf_tuned_for_recall(ivf_index: KnowledgeIndex) -> None:
    params = ann_module.AnnParams.model_validate_json((ivf_index.path / ANN_PARAMS_FILE).read_text())
    assert params.recall_at_10 >= TARGET_RECALL and params.count == ivf_index.vectors.count
    texts = ivf_index.store.unit_texts("review")[::37]
    queries = ann_module.text_queries(texts, HashingEmbedder().embed, seed=1)
    recall = []
    for query in queries:
        ivf, exact = ivf_index.vectors.search(query, 10), exact_search(ivf_index.vectors, query, 10)
        # the scores IVF returns are exact inner products (re-ranked from the vectors file)
        assert all(abs(float(ivf_index.vectors.vectors([i])[0] @ query) - s) < 1e-5 for i, s in ivf)
        recall.append(ann_module.recall(ivf, exact))
    assert float(np.mean(recall)) >= 0.9


def test_recall_counts_a_tie_with_the_kth_as_a_hit() -> None:
    exact = [(1, 0.9), (2, 0.5), (3, 0.5)]
    assert ann_module.recall([(1, 0.9), (7, 0.5), (2, 0.5)], exact) == 1.0
    assert ann_module.recall([(1, 0.9), (7, 0.4), (2, 0.5)], exact) == pytest.approx(2 / 3)


def test_a_damaged_ivf_file_is_refused_with_one_line(ivf_index: KnowledgeIndex) -> None:
    (ivf_index.path / ANN_FILE).write_bytes(b"junk" * 100)
    reopened = open_index(ivf_index.path, HashingEmbedder())
    with pytest.raises(IndexMismatchError, match=r"ann\.faiss: not a readable FAISS index"):
        reopened.vectors.search(reopened.vectors.vectors([1])[0], 5)
    (ivf_index.path / ANN_PARAMS_FILE).unlink()
    with pytest.raises(IndexMismatchError, match=r"no ann\.json"):
        open_index(ivf_index.path, HashingEmbedder())


def test_below_the_threshold_there_is_no_ivf(tmp_path: Path) -> None:
    build_index(DEMO, tmp_path / "index", HashingEmbedder())
    assert not (tmp_path / "index" / ANN_FILE).exists()
    index = open_index(tmp_path / "index", HashingEmbedder())
    assert index.vectors.global_search is None


def test_a_store_is_checked_whole_when_small_and_by_its_size_when_large(tmp_path: Path) -> None:
    build_index(DEMO, tmp_path / "index", HashingEmbedder())
    path = tmp_path / "index" / "store.sqlite"
    data = bytearray(path.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4096] = b"\xff" * 4096  # one damaged page in the middle
    path.write_bytes(bytes(data))
    store = Store(path)
    with pytest.raises(IndexMismatchError):
        store.check()
    store.check(full_below=0)  # a large store: its size agrees with its page count, the damage waits for a query
    store.close()
    path.write_bytes(bytes(data[: len(data) - 1000]))
    with pytest.raises(IndexMismatchError, match="size does not match its page count"):
        Store(path).check(full_below=0)
