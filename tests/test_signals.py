"""Signals: whyrec's own counts for a pair, recounted here from the catalogue's raw records, and read by the checker."""

from __future__ import annotations

import pytest

from conftest import DEMO_PAIRS
from whyrec.checker import RuleChecker
from whyrec.knowledge.profile import AspectProfiler
from whyrec.knowledge.sentiment import polarity
from whyrec.knowledge.signals import SignalMaker, shares
from whyrec.retrieval import KnowledgeIndex, PairRetriever
from whyrec.retrieval.embedder import SentenceTransformerEmbedder
from whyrec.schema import Claim, Evidence

USER, ITEM = DEMO_PAIRS[3]  # A3PFXPWNXFPHJP, B00FTJI60I: a shopper with liked history items others share


@pytest.fixture(scope="module")
def maker(demo_index: KnowledgeIndex) -> SignalMaker:
    profiles = AspectProfiler.of(demo_index.store)
    return SignalMaker(demo_index.store, profiles.vocabulary, profiles.mentions, polarity)


@pytest.fixture(scope="module")
def evidence(demo_index: KnowledgeIndex, embedder: SentenceTransformerEmbedder, maker: SignalMaker) -> list[Evidence]:
    return PairRetriever(demo_index, embedder, signals=maker.for_pair).for_pair(USER, ITEM)


def _recount_also(index: KnowledgeIndex, user: str, item: str, other: str) -> tuple[int, int]:
    """Other shoppers with `other` in their history, and how many of them also have `item`, from raw interactions."""
    histories: dict[str, set[str]] = {}
    for who, what, _rating, _time in index.store.interactions():
        histories.setdefault(who, set()).add(what)
    others = [h for who, h in histories.items() if who != user and other in h]
    return len(others), sum(item in h for h in others)


def test_the_co_interaction_count_is_what_the_interactions_say_and_leaves_the_shopper_out(
    demo_index: KnowledgeIndex, maker: SignalMaker
) -> None:
    also = maker.also(USER, ITEM)
    assert also is not None and also.user_id == USER and also.kind == "signal"
    other = also.id.rsplit(":", 1)[1]
    total, both = _recount_also(demo_index, USER, ITEM, other)
    assert shares(also.text)[0].part == both and shares(also.text)[0].whole == total
    assert (demo_index.store.user_ratings(USER)[other] or 5) >= 4  # a liked item, never a disliked one
    assert also.basis == (f"user:{USER}:hist:{other}",)


def test_the_rating_summary_counts_every_review_but_the_shoppers_own(
    demo_index: KnowledgeIndex, maker: SignalMaker
) -> None:
    rating = maker.rating(USER, ITEM)
    assert rating is not None
    ratings = [r for r in demo_index.store.item_ratings(ITEM) if r is not None]
    own = demo_index.store.user_ratings(USER).get(ITEM)
    assert own is not None  # leave-one-out: the shopper's own rating of the item exists and must not be counted
    expected = len(ratings) - 1
    assert rating.text.startswith(f"Its {expected} reviews give it")
    main, negative = shares(rating.text)
    assert main.whole == expected and negative.negative and negative.whole == expected


def test_an_aspect_consensus_names_the_sentences_it_counted_and_never_the_items_own_kind(
    demo_index: KnowledgeIndex, maker: SignalMaker
) -> None:
    aspects = maker.aspects(USER, ITEM)
    assert aspects, "the demo multipack's reviews discuss at least one aspect twice"
    for unit in aspects:
        aspect = (unit.field or "").split(":", 1)[1]
        assert aspect not in ("card", "cards", "gift")  # the title's own words are what it is, not aspects
        reviews = {i.rsplit(":s", 1)[0] for i in unit.basis if i.startswith(ITEM)}
        assert shares(unit.text)[0].whole == len(reviews)
        assert all(f":rev:{USER}:" not in i for i in unit.basis if i.startswith(ITEM))


def test_signals_come_first_within_k_and_speak_as_whyrec(evidence: list[Evidence]) -> None:
    assert len(evidence) == 12
    counted = [e for e in evidence if e.kind == "signal"]
    assert counted and evidence[: len(counted)] == counted and all(e.speaker == "whyrec" for e in counted)
    assert len(counted) <= 12 // 3


@pytest.mark.parametrize(
    ("claim", "handle", "label", "rule"),
    [
        # a signal tied to the shopper backs a claim about them; the count backs "shoppers"
        (
            "You rated the SUBWAY Gift Card 5/5, and {also} other shoppers who reviewed it also reviewed this.",
            "also",
            "supported",
            "content_support",
        ),
        (
            "Most shoppers who reviewed the SUBWAY Gift Card also reviewed this item.",
            "also",
            "contradicted",
            "shares_match",
        ),
        ("Nearly all of its reviews are positive.", "rating", "supported", "content_support"),
        ("Most reviewers complain about it.", "rating", "contradicted", "shares_match"),
        ("It averages 4.2 stars.", "rating", "contradicted", "numbers_match"),
        # an item-level count says nothing about what the shopper wrote
        ("You wrote about the store before.", "aspect", "unsupported", "subject_is_user"),
    ],
)
def test_the_checker_reads_claims_against_signals_both_ways(
    evidence: list[Evidence], claim: str, handle: str, label: str, rule: str
) -> None:
    unit = next(e for e in evidence if e.kind == "signal" and (e.field or "").startswith(handle))
    text = claim.format(also=shares(unit.text)[0].part)
    verdict = RuleChecker().check([Claim(text=text, cites=[unit.id], span=(0, len(text)))], evidence)[0]
    assert (verdict.label, verdict.rule) == (label, rule), verdict.detail


def test_shares_reads_back_the_main_and_the_negative_count() -> None:
    main, negative = shares("12 of the 14 reviews of this item that mention the sound are positive; 2 are negative.")
    assert (main.part, main.whole, main.negative) == (12, 14, False)
    assert (negative.part, negative.whole, negative.negative) == (2, 14, True)
    assert shares("Price: $30.00") == []


def test_a_count_of_reviews_is_checked_when_the_claim_cites_a_signal() -> None:
    counted = Evidence(
        id="I:sig:aspect:time", item_id="I", user_id="U", kind="signal", field="aspect:time", score=1.0, rank=1,
        text="You wrote about the time in 3 of your reviews, and 5 of the 5 reviews of this item that mention the "
        "time are positive; 0 are negative.", source_ref="counted",
    )  # fmt: skip
    title = Evidence(id="I:spec:title", item_id="I", kind="spec", field="title", text="Magazine", source_ref="x",
                     score=1.0, rank=2)  # fmt: skip

    def verdict(text: str) -> tuple[str, str]:
        found = RuleChecker().check([Claim(text=text, cites=[counted.id], span=(0, len(text)))], [counted, title])[0]
        return found.label, found.rule

    assert verdict("Reviewers call this item 'magazine' (5 of its 13 reviews).") == ("contradicted", "numbers_match")
    assert verdict("5 of the 5 reviews that mention the time are positive.")[0] == "supported"


def test_a_name_taken_from_reviews_is_on_the_item_line_not_among_the_evidence(evidence: list[Evidence]) -> None:
    import json

    from whyrec.agent.draft import DraftRequest
    from whyrec.agent.llm_composer import LLMComposer
    from whyrec.llm.fake import FakeLLM
    from whyrec.prompts import load_prompt
    from whyrec.schema import Product

    said = 'Reviewers call this item "multipack" (3 of its 9 reviews).'
    name = Evidence(id=f"{ITEM}:sig:name", item_id=ITEM, kind="signal", field="title", score=1.0, rank=0, text=said,
                    source_ref="counted")  # fmt: skip
    product = Product(item_id=ITEM, title="Multipack", title_from="reviews")
    llm = FakeLLM([json.dumps({"claims": []})])
    LLMComposer(llm, load_prompt("explain-v3")).compose(
        DraftRequest(product=product, evidence=[name, *evidence], user_id=USER)
    )
    shown = llm.calls[0][0][-1]["content"]
    assert "Item: Multipack (name taken from its reviews)" in shown and "Reviewers call this item" not in shown
