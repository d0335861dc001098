"""Real MiniLM + real FAISS on the demo catalogue: per-pair evidence, manifests, atomic rebuilds, LangChain."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import DEMO, DEMO_PAIRS, write_jsonl
from whyrec.errors import CatalogueError, IndexMismatchError, IndexNotFoundError, UnknownIdError
from whyrec.knowledge.aspects import tokenize
from whyrec.knowledge.text import STOPWORDS
from whyrec.retrieval import (
    Embedder,
    HashingEmbedder,
    KnowledgeIndex,
    PairRetriever,
    SentenceTransformerEmbedder,
    build_index,
    open_index,
)
from whyrec.retrieval.langchain import EvidenceRetriever


class EmbedderContract:
    """What every Embedder promises; run against the fake and the real model."""

    def make(self) -> Embedder:
        raise AssertionError("subclass provides the embedder")

    def test_vectors_are_unit_length_float32_of_the_declared_dim(self) -> None:
        embedder = self.make()
        vectors = embedder.embed(["a gift card for coffee", "pizza night"])
        assert vectors.shape == (2, embedder.dim) and vectors.dtype == np.float32
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)

    def test_same_text_gives_same_vector(self) -> None:
        embedder = self.make()
        assert np.allclose(embedder.embed(["coffee gift"]), embedder.embed(["coffee gift"]), atol=1e-6)

    def test_related_texts_are_closer_than_unrelated(self) -> None:
        a, b, c = self.make().embed(["coffee gift card", "gift card for coffee", "engine oil filter wrench"])
        assert float(a @ b) > float(a @ c)


class TestHashingEmbedder(EmbedderContract):
    def make(self) -> Embedder:
        return HashingEmbedder()


class TestMiniLMEmbedder(EmbedderContract):
    @pytest.fixture(autouse=True)
    def _real(self, embedder: SentenceTransformerEmbedder) -> None:
        self._embedder = embedder

    def make(self) -> Embedder:
        return self._embedder


def test_manifest_records_embedder_count_and_input_digests(demo_index: KnowledgeIndex) -> None:
    manifest = demo_index.manifest
    assert manifest.embedder == "sentence-transformers/all-MiniLM-L6-v2" and manifest.dim == 384
    assert manifest.count == demo_index.vectors.count == demo_index.store.count_units()
    assert {i.name for i in manifest.inputs} == {"Gift_Cards_5.jsonl", "meta_Gift_Cards.jsonl"}
    assert all(len(i.sha256) == 64 for i in manifest.inputs) and len(manifest.index_sha256) == 64


@pytest.mark.parametrize(("user", "item"), DEMO_PAIRS[:3])
def test_for_pair_returns_only_this_items_evidence_and_this_users_history(
    retriever: PairRetriever, user: str, item: str
) -> None:
    evidence = retriever.for_pair(user, item)
    assert 0 < len(evidence) <= retriever.k
    for unit in evidence:
        if unit.kind == "history":
            assert unit.user_id == user and unit.item_id != item
        else:
            assert unit.item_id == item
    # the user's own review of the item is what happened after the recommendation, not a reason for it
    assert not any(u.kind == "review" and u.user_id == user for u in evidence)
    assert any(u.kind == "history" for u in evidence)
    assert [u.rank for u in evidence] == list(range(1, len(evidence) + 1))


def test_without_a_user_the_evidence_is_the_items_alone(retriever: PairRetriever) -> None:
    item = DEMO_PAIRS[0][1]
    evidence = retriever.for_pair(None, item)
    assert evidence and all(unit.item_id == item and unit.kind != "history" for unit in evidence)
    assert {f"{item}:spec:title", f"{item}:spec:price"} <= {unit.id for unit in evidence}


def test_the_aspect_profile_turns_the_user_direction_towards_their_aspect_words(
    demo_index: KnowledgeIndex, embedder: SentenceTransformerEmbedder
) -> None:
    from whyrec.knowledge.profile import AspectProfiler

    user, item = DEMO_PAIRS[0]
    profiles = AspectProfiler.of(demo_index.store)
    plain = PairRetriever(demo_index, embedder).user_profile(user, exclude_item=item)
    with_aspects = PairRetriever(demo_index, embedder, aspects=profiles.phrase).user_profile(user, exclude_item=item)
    assert plain is not None and with_aspects is not None
    assert np.isclose(np.linalg.norm(with_aspects), 1.0, atol=1e-5)
    phrase = embedder.embed([profiles.phrase(user, exclude_item=item)])[0]
    assert float(with_aspects @ phrase) > float(plain @ phrase) + 0.05


def test_aspect_retrieval_is_a_setting_off_by_default(
    demo_index_dir: Path, embedder: SentenceTransformerEmbedder
) -> None:
    from whyrec.config import Settings
    from whyrec.factory import make_explainer

    settings = Settings(index=demo_index_dir, composer="extractive")
    assert make_explainer(settings, embedder=embedder).retriever.aspects is None
    on = make_explainer(settings.model_copy(update={"aspect_retrieval": True}), embedder=embedder)
    assert on.retriever.aspects is not None


def test_question_steers_ranking_towards_what_was_asked(retriever: PairRetriever) -> None:
    user, item = DEMO_PAIRS[1]  # an Olive Garden gift card
    food = retriever.for_pair(user, item, question="how is the food at the restaurant?", k=8)
    reviews = [u.text.lower() for u in food if u.kind == "review"]
    assert any(w in text for text in reviews[:3] for w in ("food", "salad", "dinner", "eat", "meal", "restaurant"))


def test_k_bounds_the_evidence(retriever: PairRetriever) -> None:
    assert len(retriever.for_pair(*DEMO_PAIRS[0], k=4)) == 4


def test_unknown_user_and_item_are_clear_errors(retriever: PairRetriever) -> None:
    user, item = DEMO_PAIRS[0]
    with pytest.raises(UnknownIdError, match="unknown user 'nobody'"):
        retriever.for_pair("nobody", item)
    with pytest.raises(UnknownIdError, match=rf"unknown item '{item[:-1]}' \(did you mean {item}"):
        retriever.for_pair(user, item[:-1])


def test_index_built_with_another_embedder_is_told_to_reindex(demo_index_dir: Path) -> None:
    with pytest.raises(IndexMismatchError, match=r"built with embedder sentence-transformers/all-MiniLM-L6-v2.*re-run"):
        open_index(demo_index_dir, HashingEmbedder())


def test_missing_index_says_how_to_build_one(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="whyrec index CATALOGUE --out"):
        open_index(tmp_path / "none", HashingEmbedder())


def test_failed_rebuild_leaves_the_old_index_intact(tmp_path: Path) -> None:
    out = tmp_path / "index"
    build_index(DEMO, out, HashingEmbedder())
    before = (out / "manifest.json").read_bytes()
    broken = tmp_path / "broken"
    shutil.copytree(DEMO, broken)
    with (broken / "Gift_Cards_5.jsonl").open("a") as handle:
        handle.write("{truncated\n")
    with pytest.raises(CatalogueError, match=r"Gift_Cards_5\.jsonl:\d+: malformed JSON"):
        build_index(broken, out, HashingEmbedder(), strict=True)
    assert (out / "manifest.json").read_bytes() == before
    assert open_index(out, HashingEmbedder()).store.count_units() == json.loads(before)["count"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".index")) == [
        ".index.build.lock",
        ".index.lock",
    ]


def test_rebuild_gives_the_same_ids_and_vectors_order(tmp_path: Path) -> None:
    a = open_index(build_index(DEMO, tmp_path / "a", HashingEmbedder()) and tmp_path / "a", HashingEmbedder())
    b = open_index(build_index(DEMO, tmp_path / "b", HashingEmbedder()) and tmp_path / "b", HashingEmbedder())
    rowids = range(1, a.store.count_units() + 1)
    assert a.store.units_by_rowid(rowids) == b.store.units_by_rowid(rowids)
    assert a.manifest.index_sha256 == b.manifest.index_sha256


def test_product_without_reviews_is_explained_from_specs_and_the_users_history(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "cat" / "products.jsonl",
        [
            {"item_id": "A", "title": "Alpha Card", "price": 10, "features": ["Never expires"]},
            {"item_id": "B", "title": "Beta Card"},
        ],
    )
    write_jsonl(tmp_path / "cat" / "interactions.jsonl", [{"user_id": "u", "item_id": "B"}])
    build_index(tmp_path / "cat", tmp_path / "idx", HashingEmbedder())
    index = open_index(tmp_path / "idx", HashingEmbedder())
    evidence = PairRetriever(index, HashingEmbedder()).for_pair("u", "A")
    assert {e.id for e in evidence} == {"A:spec:title", "A:spec:price", "A:feat:1", "user:u:hist:B"}


def test_langchain_retriever_returns_documents_with_evidence_ids(retriever: PairRetriever) -> None:
    user, item = DEMO_PAIRS[0]
    documents = EvidenceRetriever(pair_retriever=retriever, user_id=user, item_id=item, k=5).invoke("design")
    assert len(documents) == 5
    assert all(d.metadata["id"] == d.id and d.id.startswith((item, f"user:{user}")) for d in documents)
    assert {d.metadata["speaker"] for d in documents} <= {"seller", "reviewer", "user"}


def test_demo_catalogue_build_is_reused_not_rebuilt(demo_index_dir: Path) -> None:
    manifest = json.loads((demo_index_dir / "manifest.json").read_text())
    assert manifest["load_report"]["products"] == 50 and manifest["catalogue_root"] == str(DEMO)


def test_a_review_sentence_that_names_nothing_is_never_evidence(retriever: PairRetriever) -> None:
    # the demo multipack's reviews include "great", "Awesome", "Perfect", "was gift": nothing a claim could rest on
    evidence = retriever.for_pair("A3PFXPWNXFPHJP", "B00FTJI60I")
    named = {e.text: [w for w in tokenize(e.text) if w not in STOPWORDS] for e in evidence if e.kind == "review"}
    assert named and all(len(words) >= 2 for words in named.values()), named
    assert any(e.kind == "review" for e in evidence)
