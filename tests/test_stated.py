"""Prompt explain-v4: whyrec states its signals itself, first in the reason; the model sees the item's evidence only."""

from __future__ import annotations

import json

import pytest

from conftest import DEMO_PAIRS
from whyrec.agent import Explainer, LLMComposer
from whyrec.agent.shape import copies_history
from whyrec.agent.stated import MAX_STATED, left_to_the_model, stated_signals
from whyrec.checker import RuleChecker
from whyrec.knowledge.profile import AspectProfiler
from whyrec.knowledge.sentiment import polarity
from whyrec.knowledge.signals import SignalMaker
from whyrec.llm.fake import FakeLLM
from whyrec.prompts import load_prompt
from whyrec.retrieval import KnowledgeIndex, PairRetriever
from whyrec.retrieval.embedder import SentenceTransformerEmbedder

USER, ITEM = DEMO_PAIRS[3]  # a shopper with liked history items others share: a co-interaction signal


@pytest.fixture(scope="module")
def retriever(demo_index: KnowledgeIndex, embedder: SentenceTransformerEmbedder) -> PairRetriever:
    """The pair retriever with whyrec's signals, as the factory makes it."""
    profiles = AspectProfiler.of(demo_index.store)
    maker = SignalMaker(demo_index.store, profiles.vocabulary, profiles.mentions, polarity)
    return PairRetriever(demo_index, embedder, signals=maker.for_pair)


def test_the_signals_are_stated_first_and_the_model_sees_neither_them_nor_the_history(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    user, item = USER, ITEM
    evidence = retriever.for_pair(user, item)
    stated = stated_signals(evidence)
    assert 0 < len(stated) <= MAX_STATED and stated[0].user_id == user  # the shopper's own link first
    fake = FakeLLM([json.dumps({"claims": []})])
    explanation = Explainer(demo_index, retriever, LLMComposer(fake, load_prompt("explain-v4")), RuleChecker()).explain(
        user, item
    )
    assert [c.cites for c in explanation.claims[: len(stated)]] == [[u.id] for u in stated]
    assert [c.text for c in explanation.claims[: len(stated)]] == [u.text for u in stated]
    # what follows is whyrec's quote of a review (nothing the model wrote)
    assert all(c.text.startswith('A reviewer wrote: "') for c in explanation.claims[len(stated) :])
    assert explanation.status == "ok" and all(v.accepted for v in explanation.verdicts)
    asked = fake.calls[0][0][-1]["content"]
    assert not [u for u in stated if u.text in asked]
    assert not [e for e in evidence if e.kind == "history" and e.text in asked]
    assert len(fake.calls) == 1  # nothing to repair: the stated claims are whyrec's, not the model's


def test_a_co_interaction_signal_is_not_a_copied_history_line(retriever: PairRetriever) -> None:
    user, item = USER, ITEM
    evidence = retriever.for_pair(user, item)
    units = {e.id: e for e in evidence}
    for signal in [e for e in evidence if e.kind == "signal"]:
        assert not copies_history(signal.text, [signal.id], units)


def test_stated_claims_are_told_before_the_model_runs_and_the_models_as_each_closes(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    evidence = retriever.for_pair(USER, ITEM)
    shown = left_to_the_model(evidence)
    review = next(n for n, e in enumerate(shown, start=1) if e.kind == "review" and len(e.text.split()) > 6)
    answer = {"claims": [{"cites": [f"e{review}"], "text": f'A reviewer says "{shown[review - 1].text}"'}]}
    fake = FakeLLM([json.dumps(answer)])
    told: list[tuple[str, int]] = []
    explainer = Explainer(demo_index, retriever, LLMComposer(fake, load_prompt("explain-v4")), RuleChecker())
    explanation = explainer.explain(
        USER,
        ITEM,
        on_claim=lambda claim, verdict: told.append((claim.text, len(fake.calls))) if verdict.accepted else None,
    )
    stated = stated_signals(evidence)
    assert told[: len(stated)] == [(u.text, 0) for u in stated]  # before the model was called
    assert [text for text, _ in told] == [c.text for c in explanation.claims]


def test_a_reason_of_whyrecs_figures_alone_quotes_a_reviewer_on_what_the_item_offers(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    from whyrec.agent.item_quote import QUOTE_DETAIL
    from whyrec.agent.shape import first_person

    user, item = DEMO_PAIRS[2]  # its evidence holds a liked review sentence on the card's presentation
    # the model writes nothing: the reason is whyrec's stated signals, and then a quote
    fake = FakeLLM([json.dumps({"claims": []})])
    explanation = Explainer(demo_index, retriever, LLMComposer(fake, load_prompt("explain-v4")), RuleChecker()).explain(
        user, item
    )
    evidence = {e.id: e for e in explanation.evidence}
    *figures, quoted = explanation.claims
    assert [c.text for c in figures] == [u.text for u in stated_signals(explanation.evidence)]
    [cited] = [evidence[c] for c in quoted.cites]
    assert cited.kind == "review" and (cited.rating is None or cited.rating >= 4) and not first_person(cited.text)
    assert quoted.text == f'A reviewer wrote: "{cited.text}"'
    [verdict] = [v for v in explanation.verdicts if v.claim.text == quoted.text]
    assert verdict.accepted and verdict.detail.startswith(QUOTE_DETAIL)
    assert explanation.status == "ok"
    # the CLI counts the drafted claims apart from the quote, and says whose the quote is
    from rich.console import Console

    from whyrec.render import render_explanation

    console = Console(width=300, record=True)
    console.print(render_explanation(explanation, "the card"))
    shown = console.export_text()
    drafted = len(explanation.verdicts) - 1
    assert f"checked: {drafted} of {drafted} drafted claims supported" in shown
    assert f"quoted by whyrec, as no other claim said what the item offers: {quoted.text}" in shown


def test_the_quote_may_come_from_the_reviews_an_aspect_figure_counted_and_then_joins_the_evidence(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    user, item = DEMO_PAIRS[0]  # its retrieved review sentences are praise only; its birthday figure counts two more
    retrieved = retriever.for_pair(user, item)
    fake = FakeLLM([json.dumps({"claims": []})])
    explanation = Explainer(demo_index, retriever, LLMComposer(fake, load_prompt("explain-v4")), RuleChecker()).explain(
        user, item
    )
    *figures, quoted = explanation.claims
    [cited] = quoted.cites
    counted = {b for claim in figures for c in claim.cites for e in retrieved if e.id == c for b in e.basis}
    assert cited not in {e.id for e in retrieved} and cited in counted and cited.startswith(f"{item}:rev:")
    assert [e.id for e in explanation.evidence] == [*(e.id for e in retrieved), cited]
    assert explanation.evidence[-1].rank == max(e.rank for e in retrieved) + 1
    assert explanation.status == "ok" and all(v.accepted for v in explanation.verdicts)
