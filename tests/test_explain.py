"""`explain` end to end on real FAISS + MiniLM: every printed claim cites retrieved evidence and passes the checker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import DEMO_PAIRS, write_jsonl
from whyrec.agent import Explainer, ExtractiveComposer
from whyrec.checker import RuleChecker
from whyrec.retrieval import HashingEmbedder, KnowledgeIndex, PairRetriever, build_index, open_index
from whyrec.schema import ClaimVerdict, Explanation


@pytest.fixture(scope="module")
def explainer(demo_index: KnowledgeIndex, retriever: PairRetriever) -> Explainer:
    return Explainer(demo_index, retriever, ExtractiveComposer(), RuleChecker())


@pytest.mark.parametrize(("user", "item"), DEMO_PAIRS)
def test_every_claim_cites_retrieved_evidence_and_is_supported(explainer: Explainer, user: str, item: str) -> None:
    explanation = explainer.explain(user, item)
    assert explanation.status == "ok"
    assert 2 <= len(explanation.claims) <= 4
    retrieved = {e.id for e in explanation.evidence}
    for claim in explanation.claims:
        assert claim.cites and set(claim.cites) <= retrieved
        assert explanation.reason[claim.span[0] : claim.span[1]] == claim.text
    assert all(v.label == "supported" for v in explanation.verdicts)
    assert explanation.manifest.evidence_ids == [e.id for e in explanation.evidence]
    assert explanation.manifest.embedder == "sentence-transformers/all-MiniLM-L6-v2"


def test_reason_mentions_the_item_and_its_price(explainer: Explainer) -> None:
    user, item = DEMO_PAIRS[1]
    explanation = explainer.explain(user, item)
    assert explanation.reason.startswith("Olive Garden Gift Card costs $50.00.")


def test_history_claims_speak_of_the_users_own_past_purchases(explainer: Explainer) -> None:
    for user, item in DEMO_PAIRS:
        for claim in explainer.explain(user, item).claims:
            if "your" in claim.text.lower():
                assert all(c.startswith(f"user:{user}:hist:") for c in claim.cites)


def test_no_usable_evidence_means_abstaining_and_saying_what_was_found(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "cat" / "products.jsonl", [{"item_id": "A", "title": "Alpha"}])
    write_jsonl(tmp_path / "cat" / "interactions.jsonl", [{"user_id": "u", "item_id": "A"}])
    build_index(tmp_path / "cat", tmp_path / "idx", HashingEmbedder())
    index = open_index(tmp_path / "idx", HashingEmbedder())
    explainer = Explainer(index, PairRetriever(index, HashingEmbedder()), ExtractiveComposer(), RuleChecker())
    explanation = explainer.explain("u", "A")
    assert explanation.status == "abstained" and explanation.claims == []
    assert explanation.reason.startswith("Not enough supported evidence") and "1 from the seller" in explanation.reason


def test_an_explanation_written_as_json_reads_back_as_the_same_record(fake_service: Any) -> None:
    explanation = fake_service.chat.explainer.explain(*DEMO_PAIRS[0])
    assert Explanation.model_validate_json(explanation.model_dump_json()) == explanation


def test_stored_preferences_apply_when_a_call_gives_no_filters_of_its_own(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    from whyrec.agent.explain import EvidenceFilters
    from whyrec.schema import Preferences

    told = Preferences(avoid=["price"])
    explainer = Explainer(demo_index, retriever, ExtractiveComposer(), RuleChecker(), stored=lambda user: told)
    user, item = DEMO_PAIRS[0]
    for used in (explainer, explainer.with_composer(ExtractiveComposer())):
        explanation = used.explain(user, item)
        assert explanation.manifest.preferences == told
        assert all(e.field != "price" for e in explanation.evidence)
    # a chat passes its session's preferences, which win; no user, nothing stored to look up
    own = explainer.explain(user, item, filters=EvidenceFilters(Preferences()))
    assert own.manifest.preferences is None and any(e.field == "price" for e in own.evidence)
    assert explainer.explain(None, item).manifest.preferences is None


def test_the_explain_path_drops_contentless_claims_and_cuts_a_half_invented_one_to_its_true_half(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    user, item = DEMO_PAIRS[1]  # the Olive Garden card
    evidence = retriever.for_pair(user, item, k=8)
    review = next(n for n, e in enumerate(evidence, start=1) if e.kind == "review")
    claims = [
        {"cites": ["e1"], "text": "It is really something."},
        {"cites": ["e1"], "text": f"{demo_index.store.product(item).title} is a gift."},  # type: ignore[union-attr]
        {
            "cites": [f"e{review}"],
            "text": f'A reviewer wrote "{evidence[review - 1].text}" and it has a dessert coupon.',
        },
    ]
    reply = json.dumps({"claims": claims})
    composer = LLMComposer(FakeLLM([reply, reply]), [load_prompt("explain-v1")])
    explanation = Explainer(demo_index, retriever, composer, RuleChecker()).explain(user, item)
    rejected = {v.claim.text: v for v in explanation.verdicts if not v.accepted}
    assert rejected["It is really something."].rule == "no_content"
    assert any(v.rule == "no_content" and "is a gift" in text for text, v in rejected.items())
    [half] = [v for v in explanation.verdicts if "dessert coupon" in v.detail]
    quote = f'A reviewer wrote "{evidence[review - 1].text}".'
    assert half.accepted and half.claim.text == quote
    assert half.detail.startswith("kept the part before 'and it has a dessert coupon.' (part 2 of 2")
    assert half.mended is not None and half.mended.startswith("kept the part before 'and it has a dessert coupon.' (")
    assert [c.text for c in explanation.claims] == [quote]
    assert explanation.status == "partial"  # two of the three claims drafted ended unsupported


def test_a_true_claim_that_cites_the_wrong_unit_is_cited_again_and_a_contradicted_one_is_not(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    user, item = DEMO_PAIRS[1]  # the Olive Garden card
    evidence = retriever.for_pair(user, item)  # what the explainer gives the model
    review = max((e for e in evidence if e.kind == "review"), key=lambda e: len(e.text))
    title = next(n for n, e in enumerate(evidence, start=1) if e.field == "title")
    price = next(n for n, e in enumerate(evidence, start=1) if e.field == "price")
    claims = [
        {"cites": [f"e{title}"], "text": f'A reviewer says "{review.text}"'},  # true, but cites the seller's title
        {"cites": [f"e{price}"], "text": "It costs $1.00."},  # contradicted: no other citation makes it true
    ]
    reply = json.dumps({"claims": claims})
    composer = LLMComposer(FakeLLM([reply, json.dumps({"claims": []})]), [load_prompt("explain-v3")])
    explanation = Explainer(demo_index, retriever, composer, RuleChecker()).explain(user, item)
    [moved] = [v for v in explanation.verdicts if review.text in v.claim.text]
    assert moved.accepted and moved.claim.cites == [review.id]
    assert moved.detail.startswith(f"cited again (it cited {evidence[title - 1].id})")
    assert moved.mended == f"cited again (it cited {evidence[title - 1].id})"
    wrong = next(v for v in explanation.verdicts if "$1.00" in v.claim.text)
    assert wrong.label == "contradicted" and wrong.claim.cites == [evidence[price - 1].id]
    assert [c.cites for c in explanation.claims] == [[review.id]]


def test_one_reviewers_words_drawn_from_two_reviewers_keep_what_one_of_them_says_without_asking_the_model_again(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    user, item = DEMO_PAIRS[1]  # the Olive Garden card
    evidence = retriever.for_pair(user, item)
    first, second = [n for n, e in enumerate(evidence, start=1) if e.kind == "review"][:2]
    one, two = evidence[first - 1], evidence[second - 1]
    assert one.user_id != two.user_id
    said_one, said_two = one.text.rstrip(".!"), two.text.rstrip(".!")
    text = f"A reviewer says {said_one} and {said_two}."
    reply = json.dumps({"claims": [{"cites": [f"e{first}", f"e{second}"], "text": text}]})
    llm = FakeLLM([reply])  # one answer only: a re-ask would find none and fail
    composer = LLMComposer(llm, [load_prompt("explain-v3")])
    explanation = Explainer(demo_index, retriever, composer, RuleChecker()).explain(user, item)
    [kept] = [v for v in explanation.verdicts if v.mended is not None]
    # never retold as "Reviewers say …": the first review alone, and the part it says
    assert kept.accepted and kept.claim.cites == [one.id] and kept.claim.text == f"A reviewer says {said_one}."
    assert kept.mended is not None
    assert kept.mended.startswith(f"cited only {one.id} (it cited {one.id}, {two.id}), kept the part before 'and ")
    assert explanation.manifest.model is not None and explanation.manifest.model.calls == 1
    # the same words told twice stand once
    said = f"A reviewer says {said_one}."
    twice = [{"cites": [f"e{first}", f"e{second}"], "text": said}, {"cites": [f"e{first}"], "text": said}]
    composer = LLMComposer(FakeLLM([json.dumps({"claims": twice})]), [load_prompt("explain-v3")])
    explanation = Explainer(demo_index, retriever, composer, RuleChecker()).explain(user, item)
    assert [c.text for c in explanation.claims] == [said]


class _AcceptsAll(RuleChecker):
    """A checker that finds every claim supported: what the explainer does with true claims is under test."""

    def check(self, claims: Any, evidence: Any, uncited: str = "reject") -> list[ClaimVerdict]:
        return [ClaimVerdict(claim=c, label="supported", rule="test", detail="accepted") for c in claims]


@pytest.mark.parametrize(
    ("texts", "shown"),
    [
        # two claims with something to say: the praise alone is left out
        (["You rated the SUBWAY card 5/5.", "Reviewers like its dessert menu.", "A reviewer says it is a great gift."],
         ["You rated the SUBWAY card 5/5.", "Reviewers like its dessert menu."]),
        # one: the praise stays, so the reason still has two claims
        (["Reviewers like its dessert menu.", "A reviewer says it is a great gift."],
         ["Reviewers like its dessert menu.", "A reviewer says it is a great gift."]),
    ],
)  # fmt: skip
def test_praise_alone_is_left_out_of_a_reason_that_has_two_other_claims(
    demo_index: KnowledgeIndex, retriever: PairRetriever, texts: list[str], shown: list[str]
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    user, item = DEMO_PAIRS[1]  # the Olive Garden card
    reply = json.dumps({"claims": [{"cites": ["e1"], "text": t} for t in texts]})
    composer = LLMComposer(FakeLLM([reply]), [load_prompt()])
    explanation = Explainer(demo_index, retriever, composer, _AcceptsAll()).explain(user, item)
    assert [c.text for c in explanation.claims] == shown
    assert explanation.status == "ok"
    left_out = [v for v in explanation.verdicts if v.claim.text not in shown]
    assert all(v.accepted and v.detail.startswith("left out of the reason") for v in left_out)
    assert len(left_out) == len(texts) - len(shown)


def _retold_story(retriever: PairRetriever) -> tuple[tuple[str, str], list[Any], int, str]:
    """A demo pair, its evidence, and a first-person review sentence of it (its handle under explain-v3) retold in
    the third person, so that it still shares a COPY_RUN-token run with the sentence but says no "I"."""
    from whyrec.agent.shape import COPY_RUN, FIRST_PERSON, first_person
    from whyrec.knowledge.aspects import tokenize

    swap = {"i": "they", "my": "their", "me": "them", "we": "they", "our": "their", "mine": "theirs"}
    for user, item in DEMO_PAIRS:
        evidence = retriever.for_pair(user, item)
        for n, unit in enumerate(evidence, start=1):
            words = tokenize(unit.text)
            runs = [words[i : i + COPY_RUN] for i in range(len(words) - COPY_RUN + 1)]
            if unit.kind == "review" and first_person(unit.text) and any(FIRST_PERSON.isdisjoint(r) for r in runs):
                retold = "A reviewer says " + " ".join(swap.get(w, w) for w in words) + "."
                return (user, item), evidence, n, retold
    raise AssertionError("no first-person review sentence in the demo pairs' evidence")


@pytest.mark.parametrize("others", [2, 1])
def test_a_reviewers_story_retold_is_left_out_of_a_reason_that_has_two_other_claims(
    demo_index: KnowledgeIndex, retriever: PairRetriever, others: int
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.agent.shape import copies_anecdote, first_person
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    (user, item), evidence, handle, retold = _retold_story(retriever)
    assert not first_person(retold) and copies_anecdote(retold, [evidence[handle - 1].id], {e.id: e for e in evidence})
    kept = ["Reviewers like its design.", "You rated a gift card 5/5."][:others]
    claims = [{"cites": ["e1"], "text": kept[0]}, {"cites": [f"e{handle}"], "text": retold}]
    claims += [{"cites": ["e1"], "text": text} for text in kept[1:]]
    composer = LLMComposer(FakeLLM([json.dumps({"claims": claims})]), [load_prompt("explain-v3")])
    explanation = Explainer(demo_index, retriever, composer, _AcceptsAll()).explain(user, item)
    if others == 2:  # two others stand: the story is left out, and its verdict says why
        assert [c.text for c in explanation.claims] == kept
        [left] = [v for v in explanation.verdicts if v.claim.text == retold]
        assert left.accepted and left.detail.startswith("left out of the reason: it retells a reviewer's own story")
    else:  # one: it stays, so that the reason still has two claims
        assert [c.text for c in explanation.claims] == [kept[0], retold]
    assert explanation.status == "ok"


@pytest.mark.parametrize(
    ("said", "told"),
    [
        ("A reviewer says I do like the content.", "A reviewer says they do like the content."),
        ("A reviewer says I am happy and I was glad.", "A reviewer says they are happy and they were glad."),
        ("A reviewer says we love it in our house. We keep it.",
         "A reviewer says they love it in their house. They keep it."),
        ("A reviewer says I’m enjoying the US edition; it helps me.",
         "A reviewer says they're enjoying the US edition; it helps them."),
    ],
)  # fmt: skip
def test_third_person_changes_only_the_first_person_words(said: str, told: str) -> None:
    from whyrec.agent.mend import third_person

    assert third_person(said) == told


def test_a_reviewers_i_under_a_reviewer_says_is_told_in_the_third_person_and_a_bare_i_is_not(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.agent.shape import first_person
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    (user, item), evidence, handle, _ = _retold_story(retriever)
    said = evidence[handle - 1].text.rstrip(".!")
    framed, bare = f"A reviewer says {said}.", f"{said}."
    claims = [{"cites": [f"e{handle}"], "text": framed}, {"cites": [f"e{handle}"], "text": bare}]
    composer = LLMComposer(FakeLLM([json.dumps({"claims": claims})]), [load_prompt("explain-v3")])
    explanation = Explainer(demo_index, retriever, composer, RuleChecker()).explain(user, item)
    [told] = [v for v in explanation.verdicts if v.mended is not None]
    assert told.accepted and told.mended == "told in the third person"
    assert told.claim.text.startswith("A reviewer says ") and not first_person(told.claim.text)
    assert told.claim.text in [c.text for c in explanation.claims]
    # told as the reason's own, the same words are not the reviewer's to retell: rejected, not mended
    [own] = [v for v in explanation.verdicts if v.claim.text == bare]
    assert own.rule == "first_person" and not own.accepted and own.mended is None


def test_a_true_claim_that_copies_a_history_line_is_left_out_and_with_reask_asked_for_again(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    user, item = DEMO_PAIRS[1]
    copy = 'You reviewed "SUBWAY Gift Card", rated 5/5: "great".'
    first = json.dumps(
        {"claims": [{"cites": ["e1"], "text": "Reviewers like its menu."}, {"cites": ["e1"], "text": copy}]}
    )
    second = json.dumps({"claims": [{"cites": ["e1"], "text": "You liked another restaurant card."}]})
    fake = FakeLLM([first])  # by default: left out, nobody asked again
    explanation = Explainer(demo_index, retriever, LLMComposer(fake, load_prompt()), _AcceptsAll()).explain(user, item)
    assert [c.text for c in explanation.claims] == ["Reviewers like its menu."] and len(fake.calls) == 1
    fake = FakeLLM([first, second])
    composer = LLMComposer(fake, load_prompt())
    explanation = Explainer(demo_index, retriever, composer, _AcceptsAll(), reask=True).explain(user, item)
    assert [c.text for c in explanation.claims] == ["Reviewers like its menu.", "You liked another restaurant card."]
    [left] = [v for v in explanation.verdicts if v.claim.text == copy]
    assert left.accepted and left.detail.startswith(
        "left out of the reason: it repeats a line of the shopper's history"
    )
    asked = fake.calls[1][0][-1]["content"]
    assert copy in asked and "say it in your own words" in asked
    assert explanation.status == "ok"


def test_a_later_part_that_says_nothing_is_cut_off_and_the_rest_stands(
    demo_index: KnowledgeIndex, retriever: PairRetriever
) -> None:
    import json

    from whyrec.agent import LLMComposer
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt

    user, item = DEMO_PAIRS[2]  # a reviewer of this card praises its presentation
    evidence = retriever.for_pair(user, item, k=8)
    review = next(n for n, e in enumerate(evidence, start=1) if "presentation" in e.text)
    said = evidence[review - 1].text.rstrip(".!")
    claims = [{"cites": [f"e{review}"], "text": f'A reviewer wrote "{said}." What\'s not to like?'}]
    composer = LLMComposer(FakeLLM([json.dumps({"claims": claims})]), [load_prompt("explain-v1")])
    explanation = Explainer(demo_index, retriever, composer, RuleChecker()).explain(user, item)
    [cut] = [v for v in explanation.verdicts if v.mended is not None]
    assert cut.accepted and cut.claim.text == f'A reviewer wrote "{said}."'
    assert "What's not to like?" in cut.mended and "nothing to check" in cut.mended
    assert [c.text for c in explanation.claims] == [cut.claim.text]
