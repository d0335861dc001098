"""Checks that hold on catalogues the rules never saw: a feeling must be one the evidence states, the user's words
about another item say nothing of this one, a negation covers the list it opens, and a thing or quality the evidence
never names is invented. Each both ways: the broken claim is rejected, its true twin passes."""

from __future__ import annotations

import pytest

from whyrec.checker import RuleChecker
from whyrec.retrieval.embedder import SentenceTransformerEmbedder
from whyrec.schema import Claim, Evidence


def unit(uid: str, text: str, kind: str = "review", field: str | None = None, rating: float | None = None) -> Evidence:
    user = uid.split(":")[2] if kind == "review" else ("U" if kind == "history" else None)
    item = uid.split(":")[3] if kind == "history" else "P"
    return Evidence(id=uid, item_id=item, user_id=user, kind=kind, field=field, text=text,  # type: ignore[arg-type]
                    rating=rating, source_ref="t:1", score=0.0, rank=1)  # fmt: skip


EVIDENCE = [
    unit("P:spec:title", "IHOP Gift Card", kind="spec", field="title"),
    unit("P:spec:category", "Category: Gift Cards", kind="spec", field="category"),
    unit("P:desc:s1", "AMC Gift Cards do not have any associated fees or expiration dates.", kind="description"),
    unit("P:feat:1", "No fees. No expiration. Ever.", kind="spec", field="feature"),
    unit("P:rev:R1:s1", "My daughter loves Ihop and took me to lunch.", rating=5),
    unit("P:rev:R2:s1", "It is a very classy way to give a gift card.", rating=5),
    unit("P:rev:R3:s1", "Item as described, arrived on time.", rating=5),
    unit("P:rev:R4:s1", "Few articles, full of ads.", rating=1),
    unit("P:rev:R5:s1", "The best part is the cinnamon butter on the rolls.", rating=5),
    unit("P:rev:R6:s1", "My family loved it.", rating=5),
    unit(
        "user:U:hist:Q:Q",
        'Reviewed "SUBWAY Gift Card", rated 5/5: "I love their food for a quick lunch"',
        "history",
        rating=5,
    ),
]


def check(text: str, *cites: str, checker: RuleChecker | None = None) -> tuple[str, str, str]:
    found = (checker or RuleChecker()).check([Claim(text=text, cites=list(cites), span=(0, len(text)))], EVIDENCE)[0]
    return found.label, found.stage, found.rule


def test_a_reversed_feeling_is_contradicted_and_the_true_one_passes() -> None:
    assert check("One reviewer's daughter dislikes IHOP.", "P:rev:R1:s1") == (
        "contradicted",
        "polarity",
        "feeling_backed",
    )
    assert check("One reviewer's daughter loves IHOP.", "P:rev:R1:s1")[0] == "supported"


def test_a_feeling_turned_by_hardly_is_read_as_its_opposite() -> None:
    assert check("One reviewer says it was hardly appreciated.", "P:rev:R6:s1")[0] == "contradicted"


def test_the_stars_of_a_review_state_its_feeling() -> None:
    assert check("One reviewer complains about the ads.", "P:rev:R4:s1")[0] == "supported"
    assert check("One reviewer complains about the classy way to give it.", "P:rev:R2:s1")[0] == "contradicted"


def test_what_the_user_said_of_another_item_is_not_said_of_this_one() -> None:
    label, stage, rule = check("You love this restaurant's food for a quick lunch.", "user:U:hist:Q:Q", "P:rev:R1:s1")
    assert (label, stage, rule) == ("unsupported", "subject", "subject_is_user")
    assert check("You loved Subway's food for a quick lunch.", "user:U:hist:Q:Q")[0] == "supported"


def test_a_negation_covers_the_list_it_opens() -> None:
    assert check("AMC gift cards carry fees and expiration dates.", "P:desc:s1")[0] == "contradicted"
    assert check("AMC gift cards have no fees or expiration dates.", "P:desc:s1")[0] == "supported"


def test_a_short_cited_unit_that_negates_the_claim_contradicts_it() -> None:
    assert check("The card carries fees.", "P:feat:1") == ("contradicted", "exact", "negation_flip")


@pytest.fixture(scope="module")
def full(embedder: SentenceTransformerEmbedder) -> RuleChecker:
    return RuleChecker(embedder=embedder)


def test_a_thing_the_evidence_never_names_is_invented(full: RuleChecker) -> None:
    assert check("One reviewer says it arrived on time in a decorative tin.", "P:rev:R3:s1", checker=full)[0] == (
        "unsupported"
    )
    assert (
        check("One reviewer's favourite part is the garlic butter on the rolls.", "P:rev:R5:s1", checker=full)[0]
        != "supported"
    )
    assert check("One reviewer says it arrived on time.", "P:rev:R3:s1", checker=full)[0] == "supported"


def test_another_word_for_a_cited_thing_is_not_invented(full: RuleChecker) -> None:
    assert check("One reviewer's relatives loved it.", "P:rev:R6:s1", checker=full)[0] == "supported"
