"""The first checker: each rule, both ways."""

from __future__ import annotations

from whyrec.checker import CitationChecker
from whyrec.schema import Claim, Evidence

EVIDENCE = [
    Evidence(
        id="P:spec:price",
        item_id="P",
        kind="spec",
        field="price",
        text="Price: $25.00",
        source_ref="m:1",
        score=0.5,
        rank=1,
    ),
    Evidence(
        id="P:rev:R1:s1",
        item_id="P",
        user_id="R1",
        kind="review",
        text="My dad loved the coffee card.",
        rating=5.0,
        source_ref="r:1",
        score=0.4,
        rank=2,
    ),
    Evidence(
        id="user:U:hist:Q",
        item_id="Q",
        user_id="U",
        kind="history",
        text='Reviewed "Tea Card", rated 5/5',
        rating=5.0,
        source_ref="r:2",
        score=0.3,
        rank=3,
    ),
]


def verdict(text: str, cites: list[str]) -> tuple[str, str]:
    result = CitationChecker().check([Claim(text=text, cites=cites, span=(0, len(text)))], EVIDENCE)[0]
    return result.label, result.rule


def test_claim_without_citation_is_uncited() -> None:
    assert verdict("It costs $25.00.", []) == ("uncited", "citation_present")


def test_citation_not_retrieved_for_the_pair_is_invalid() -> None:
    assert verdict("It costs $25.00.", ["OTHER:spec:price"]) == ("invalid_citation", "citation_valid")


def test_claim_whose_words_are_in_the_cited_spec_is_supported() -> None:
    assert verdict("The card costs $25.00.", ["P:spec:price"]) == ("supported", "content_overlap")


def test_claim_with_words_the_evidence_lacks_is_unsupported() -> None:
    assert verdict("It never expires and ships free worldwide.", ["P:spec:price"]) == (
        "unsupported",
        "content_overlap",
    )


def test_exact_quote_is_supported_and_a_doctored_quote_is_not() -> None:
    assert verdict('A reviewer wrote: "My dad loved the coffee card."', ["P:rev:R1:s1"]) == ("supported", "quote_exact")
    assert verdict('A reviewer wrote: "My dad hated the coffee card."', ["P:rev:R1:s1"]) == (
        "unsupported",
        "quote_exact",
    )


def test_claim_about_the_user_must_cite_the_users_own_history() -> None:
    # the attribution error DESIGN.md measured: another reviewer's words told as the user's
    assert verdict("Your dad loved the coffee card.", ["P:rev:R1:s1"]) == ("unsupported", "subject_is_user")
    assert verdict('In your history: Reviewed "Tea Card", rated 5/5.', ["user:U:hist:Q"])[0] == "supported"


def test_you_inside_a_reviewers_quote_is_the_reviewers_word_not_a_claim_about_the_user() -> None:
    quote = "the fact you get salad makes it worth it"
    evidence = [*EVIDENCE, EVIDENCE[1].model_copy(update={"id": "P:rev:R2:s1", "text": f"Honestly {quote}."})]
    claim = Claim(text=f'A reviewer wrote: "{quote}"', cites=["P:rev:R2:s1"], span=(0, 10))
    assert CitationChecker().check([claim], evidence)[0].label == "supported"
    framed = Claim(text=f'You will agree: "{quote}"', cites=["P:rev:R2:s1"], span=(0, 10))
    assert CitationChecker().check([framed], evidence)[0].rule == "subject_is_user"


def test_claim_about_reviewers_must_cite_a_review() -> None:
    assert verdict("Reviewers say it costs $25.00.", ["P:spec:price"]) == ("unsupported", "subject_is_reviewer")


def test_supported_verdict_carries_spans_inside_the_cited_text() -> None:
    text = 'A reviewer wrote: "loved the coffee card"'
    result = CitationChecker().check([Claim(text=text, cites=["P:rev:R1:s1"], span=(0, len(text)))], EVIDENCE)[0]
    span = result.evidence_spans[0]
    assert EVIDENCE[1].text[span.start : span.end] == "loved the coffee card"


def test_naming_the_item_by_its_title_needs_no_support_but_the_rest_does() -> None:
    title = Evidence(
        id="B1:spec:title",
        item_id="B1",
        kind="spec",
        field="title",
        text="Olive Garden Gift Card",
        source_ref="m:2",
        score=0.9,
        rank=1,
    )
    review = Evidence(
        id="B1:rev:R1:s1",
        item_id="B1",
        user_id="R1",
        kind="review",
        text="Bought it as a Christmas gift for my parents.",
        source_ref="r:3",
        score=0.5,
        rank=2,
    )
    evidence = [title, review]
    named = Claim(text="The Olive Garden Gift Card is a Christmas gift.", cites=["B1:rev:R1:s1"], span=(0, 46))
    invented = Claim(text="The Olive Garden Gift Card never expires.", cites=["B1:rev:R1:s1"], span=(0, 41))
    verdicts = CitationChecker().check([named, invented], evidence)
    assert [v.label for v in verdicts] == ["supported", "unsupported"]
