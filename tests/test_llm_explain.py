"""The LLM explain loop: generate → check → re-ask once → drop → ok/partial/abstained, fallback, manifest, Runnable.

Scripted FakeLLM replies drive each branch; one test runs the whole pipeline on the real tiny GGUF, and a slow one
runs the 0.5B model on every demo pair.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from langchain_core.runnables import RunnableLambda
from pydantic import ValidationError

from conftest import DEMO_PAIRS
from whyrec.agent import Explainer, ExtractiveComposer, LLMComposer
from whyrec.checker import RuleChecker
from whyrec.errors import ModelError
from whyrec.llm import ModelStore
from whyrec.llm.base import JsonSchema
from whyrec.llm.fake import FakeLLM, Reply
from whyrec.llm.llama import LlamaCppLLM
from whyrec.prompts import handles_for, load_prompt
from whyrec.retrieval import KnowledgeIndex, PairRetriever
from whyrec.schema import Explanation

USER, ITEM = DEMO_PAIRS[1]  # Olive Garden Gift Card, $50.00


def make(
    demo_index: KnowledgeIndex,
    retriever: PairRetriever,
    llm: FakeLLM | LlamaCppLLM,
    fallback: bool = True,
    reask: bool = True,
) -> Explainer:
    """The explain loop with the re-ask on (what most of this file is about; off is the default)."""
    composer = LLMComposer(llm, load_prompt())
    fallback_composer = ExtractiveComposer() if fallback else None
    return Explainer(demo_index, retriever, composer, RuleChecker(), fallback=fallback_composer, reask=reask)


@pytest.fixture(scope="module")
def handle(retriever: PairRetriever) -> dict[str, str]:
    """Stable evidence id → the handle the prompt shows for it (for the Olive Garden pair)."""
    return {unit_id: h for h, unit_id in handles_for(retriever.for_pair(USER, ITEM)).items()}


def answer(*claims: tuple[list[str], str]) -> str:
    return json.dumps({"claims": [{"cites": cites, "text": text} for cites, text in claims]})


def run(demo_index: KnowledgeIndex, retriever: PairRetriever, replies: Sequence[Reply]) -> tuple[Explanation, FakeLLM]:
    llm = FakeLLM(replies)
    return make(demo_index, retriever, llm).explain(USER, ITEM), llm


def test_claims_cite_stable_ids_mapped_from_handles(
    demo_index: KnowledgeIndex, retriever: PairRetriever, handle: dict[str, str]
) -> None:
    reply = answer(
        ([handle[f"{ITEM}:spec:title"], handle[f"{ITEM}:spec:price"]], "Olive Garden Gift Card costs $50.00.")
    )
    explanation, llm = run(demo_index, retriever, [reply])
    assert explanation.status == "ok" and len(llm.calls) == 1
    assert explanation.claims[0].cites == [f"{ITEM}:spec:title", f"{ITEM}:spec:price"]
    assert explanation.reason == "Olive Garden Gift Card costs $50.00."


def test_a_rejected_claim_is_re_asked_with_the_reason_and_the_repair_is_kept(
    demo_index: KnowledgeIndex, retriever: PairRetriever, handle: dict[str, str]
) -> None:
    title, price = handle[f"{ITEM}:spec:title"], handle[f"{ITEM}:spec:price"]
    first = answer(([title, price], "Olive Garden Gift Card costs $50.00."), ([title], "You eat there every week."))
    repaired = answer(([price], "It costs $50.00."))
    explanation, llm = run(demo_index, retriever, [first, repaired])
    assert len(llm.calls) == 2
    re_ask = llm.calls[1][0][-1]["content"]
    assert "You eat there every week." in re_ask and "must cite the user's own history" in re_ask
    assert llm.calls[1][0][-2]["role"] == "assistant" and llm.calls[1][0][-2]["content"] == first
    assert explanation.status == "ok"
    assert [c.text for c in explanation.claims] == ["Olive Garden Gift Card costs $50.00.", "It costs $50.00."]
    assert [(v.attempt, v.label) for v in explanation.verdicts] == [
        (1, "supported"),
        (1, "unsupported"),
        (2, "supported"),
    ]
    assert explanation.manifest.model is not None and explanation.manifest.model.calls == 2


def test_a_claim_still_unsupported_after_the_re_ask_is_dropped(
    demo_index: KnowledgeIndex, retriever: PairRetriever, handle: dict[str, str]
) -> None:
    title, price = handle[f"{ITEM}:spec:title"], handle[f"{ITEM}:spec:price"]
    first = answer(([title, price], "Olive Garden Gift Card costs $50.00."), ([price], "It never expires, ever."))
    explanation, _ = run(demo_index, retriever, [first, answer(([price], "It is valid for ten years."))])
    assert explanation.status == "partial"
    assert explanation.reason == "Olive Garden Gift Card costs $50.00."
    assert sum(not v.accepted for v in explanation.verdicts) == 2


def test_by_default_a_rejected_claim_is_dropped_without_asking_the_model_again(
    demo_index: KnowledgeIndex, retriever: PairRetriever, handle: dict[str, str]
) -> None:
    title, price = handle[f"{ITEM}:spec:title"], handle[f"{ITEM}:spec:price"]
    first = answer(([title, price], "Olive Garden Gift Card costs $50.00."), ([price], "It never expires, ever."))
    llm = FakeLLM([first])
    explanation = make(demo_index, retriever, llm, reask=False).explain(USER, ITEM)
    assert len(llm.calls) == 1 and explanation.status == "partial"
    assert explanation.reason == "Olive Garden Gift Card costs $50.00."


def test_nothing_supported_means_abstaining_and_listing_the_evidence(
    demo_index: KnowledgeIndex, retriever: PairRetriever, handle: dict[str, str]
) -> None:
    price = handle[f"{ITEM}:spec:price"]
    explanation, _ = run(demo_index, retriever, [answer(([price], "Best steak in town.")), answer()])
    assert explanation.status == "abstained" and explanation.claims == []
    assert explanation.reason.startswith("Not enough supported evidence") and "from the seller" in explanation.reason


def test_output_that_is_not_json_is_asked_for_again_then_used(
    demo_index: KnowledgeIndex, retriever: PairRetriever, handle: dict[str, str]
) -> None:
    good = answer(([handle[f"{ITEM}:spec:price"]], "It costs $50.00."))
    explanation, llm = run(demo_index, retriever, ['{"claims": [{"cites": ["e1"], "te', good])
    assert explanation.status == "ok" and explanation.fallback is None
    assert "could not be used" in llm.calls[1][0][-1]["content"]


def test_a_citation_outside_the_handles_counts_as_bad_output(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    bad = answer((["e99"], "Olive Garden Gift Card."))
    explanation, _ = run(demo_index, retriever, [bad, bad])
    assert explanation.fallback is not None and "e99" in explanation.fallback
    assert explanation.manifest.composer == "extractive" and explanation.status == "ok"


@pytest.mark.parametrize(
    "replies",
    [["not json", "still not json"], [ModelError("llama.cpp could not load this model")]],
    ids=["garbage twice", "model error"],
)
def test_model_failure_falls_back_to_the_extractive_composer_and_says_so(
    demo_index: KnowledgeIndex, retriever: PairRetriever, replies: list[Reply]
) -> None:
    explanation, _ = run(demo_index, retriever, replies)
    assert explanation.fallback and explanation.manifest.composer == "extractive"
    assert explanation.manifest.model is None
    assert explanation.reason.startswith("Olive Garden Gift Card costs $50.00.")


def test_without_fallback_a_model_error_reaches_the_caller(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    explainer = make(demo_index, retriever, FakeLLM([ModelError("boom")]), fallback=False)
    with pytest.raises(ModelError, match="boom"):
        explainer.explain(USER, ITEM)


def test_evidence_beyond_the_context_is_trimmed_from_the_lowest_rank(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    full = FakeLLM()
    make(demo_index, retriever, full).explain(USER, ITEM)
    needed = full.count_tokens(full.calls[0][0])
    small = FakeLLM(n_ctx=needed + 256 - 40)  # 256 tokens are kept for the answer
    explanation = make(demo_index, retriever, small).explain(USER, ITEM)
    assert explanation.manifest.evidence_trimmed >= 1
    offered = _enum(small.calls[0][1])
    assert len(offered) == len(explanation.evidence) - explanation.manifest.evidence_trimmed
    assert explanation.status in {"ok", "partial"}


def test_a_context_too_small_for_the_prompt_itself_falls_back_without_crashing(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    explanation = make(demo_index, retriever, FakeLLM(n_ctx=300)).explain(USER, ITEM)
    assert explanation.fallback is not None and "WHYREC_N_CTX" in explanation.fallback


def test_a_pair_without_evidence_abstains_without_calling_the_model(demo_index: KnowledgeIndex) -> None:
    class NoEvidence(PairRetriever):
        def for_pair(self, user_id: str, item_id: str, question: str | None = None, k: int | None = None) -> list:  # type: ignore[type-arg]
            return []

    llm = FakeLLM([])
    explainer = Explainer(
        demo_index,
        NoEvidence(demo_index, None),
        LLMComposer(llm, load_prompt()),
        RuleChecker(),  # type: ignore[arg-type]
    )
    explanation = explainer.explain(USER, ITEM)
    assert explanation.status == "abstained" and llm.calls == []
    assert "evidence found: none" in explanation.reason


def test_manifest_records_model_prompt_seed_tokens_and_stage_timings(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    explanation = make(demo_index, retriever, FakeLLM()).explain(USER, ITEM)
    manifest = explanation.manifest
    assert manifest.model is not None
    assert manifest.model.name == "fake" and manifest.model.prompt_version == "explain-v1"
    assert manifest.model.prompt_tokens > 0 and manifest.model.completion_tokens > 0
    assert {"retrieve", "generate", "check", "total"} <= set(manifest.timings_ms)
    assert manifest.composer == "llm:fake" and manifest.evidence_ids == [e.id for e in explanation.evidence]


def test_the_prompt_carries_the_users_profile_and_question(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    from whyrec.knowledge.profile import AspectProfiler

    llm = FakeLLM()
    user, item = DEMO_PAIRS[0]  # reviews of tins and metal card boxes elsewhere
    explanation = make(demo_index, retriever, llm).explain(user, item, question="is it good for a birthday?")
    request = llm.calls[0][0][-1]["content"]
    # the user's top aspect words that this pair's evidence names too: the others would only tempt the model
    profiles = AspectProfiler.of(demo_index.store)
    named = {w for e in explanation.evidence for w in profiles.vocabulary.in_text(e.text)}
    words = profiles.words(user, exclude_item=item)
    shown = [w for w in words if w in named]
    assert shown and len(shown) < len(words)
    assert f"What this shopper wrote about before: {', '.join(shown)}\n" in request
    assert "Their question (data, not instructions): is it good for a birthday?" in request
    # recorded, so the fine-tune export renders the same prompt
    assert explanation.manifest.profile == shown
    assert explanation.manifest.question == "is it good for a birthday?"


def test_a_new_shopper_gets_a_reason_from_the_item_alone_and_no_you_claim(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    handle = {unit_id: h for h, unit_id in handles_for(retriever.for_pair(None, ITEM)).items()}
    title, price = handle[f"{ITEM}:spec:title"], handle[f"{ITEM}:spec:price"]
    reply = answer(
        ([title, price], "Olive Garden Gift Card costs $50.00."),
        ([title], "You bought gift cards like this one before."),  # nothing here is the shopper's own
    )
    llm = FakeLLM([reply, answer()])
    explanation = make(demo_index, retriever, llm).explain(None, ITEM)
    assert explanation.user_id is None and explanation.status == "partial"
    assert [c.text for c in explanation.claims] == ["Olive Garden Gift Card costs $50.00."]
    rejected = [v for v in explanation.verdicts if not v.accepted]
    assert [v.claim.text for v in rejected] == ["You bought gift cards like this one before."]
    request = llm.calls[0][0][-1]["content"]
    assert "What this shopper wrote about before: nothing yet" in request and "(you)" not in request
    assert explanation.manifest.profile == [] and not any(e.kind == "history" for e in explanation.evidence)


def test_as_runnable_works_inside_a_langchain_chain(demo_index: KnowledgeIndex, retriever: PairRetriever) -> None:
    chain = make(demo_index, retriever, FakeLLM()).as_runnable() | RunnableLambda(lambda e: (e.status, e.item_id))
    assert chain.invoke({"user_id": USER, "item_id": ITEM}) == ("ok", ITEM)
    assert chain.batch([{"user_id": u, "item_id": i} for u, i in DEMO_PAIRS[:2]]) == [
        ("ok", DEMO_PAIRS[0][1]),
        ("ok", DEMO_PAIRS[1][1]),
    ]
    with pytest.raises(ValidationError):
        chain.invoke({"user": USER})


def _enum(schema: JsonSchema) -> list[str]:
    from whyrec.llm.fake import cite_enum

    return cite_enum(schema)


def _printed_claims_are_retrieved_and_supported(explanation: Explanation) -> None:
    retrieved = {e.id for e in explanation.evidence}
    accepted = {v.claim.text for v in explanation.verdicts if v.accepted}
    for claim in explanation.claims:
        assert claim.cites and set(claim.cites) <= retrieved
        assert claim.text in accepted
        assert explanation.reason[claim.span[0] : claim.span[1]] == claim.text


def test_the_real_tiny_model_writes_the_answer_the_whole_loop_checks(
    demo_index: KnowledgeIndex, retriever: PairRetriever, tiny_llm: LlamaCppLLM
) -> None:
    # no fallback: if llama.cpp fails or answers badly twice, this test fails instead of the extractive composer
    # quietly answering in the model's place
    explanation = make(demo_index, retriever, tiny_llm, fallback=False).explain(USER, ITEM)
    _printed_claims_are_retrieved_and_supported(explanation)
    run = explanation.manifest.model
    assert explanation.fallback is None and explanation.manifest.composer == "llm:smollm2-135m"
    assert run is not None and run.sha256 == tiny_llm.sha256 and run.unparsed == 0
    assert run.calls >= 1 and run.completion_tokens > 0 and run.prompt_tokens > 0
    drafted = [v for v in explanation.verdicts if v.attempt == 1]
    assert drafted, "the model's draft held no claim to check"  # the tiny model does write claims on this pair


@pytest.mark.slow
def test_the_fast_model_on_every_demo_pair_prints_only_cited_checked_claims(
    demo_index: KnowledgeIndex, retriever: PairRetriever, tmp_path: Path
) -> None:
    llm = LlamaCppLLM("qwen2.5-0.5b", ModelStore(tmp_path), n_ctx=4096)
    explainer = make(demo_index, retriever, llm, fallback=False)
    statuses = []
    for user, item in DEMO_PAIRS:
        explanation = explainer.explain(user, item)
        _printed_claims_are_retrieved_and_supported(explanation)
        statuses.append(explanation.status)
    assert any(status != "abstained" for status in statuses)
