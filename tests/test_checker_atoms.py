"""Atomic claims and what the checker never lets through: a claim is split into its statements before any rule
runs, on the explain path (claims as a model writes them) and the audit path alike, and is supported only when every
statement is; a claim with nothing checkable is never supported; odd input gets a verdict, never a crash."""

from __future__ import annotations

import pytest

from whyrec.checker import RuleChecker, check
from whyrec.checker.atoms import split_atoms
from whyrec.schema import Claim, Evidence, ReviewContext


def unit(uid: str, text: str, kind: str = "review", field: str | None = None, **extra: object) -> Evidence:
    user = uid.split(":")[2] if kind == "review" else ("U" if kind == "history" else None)
    return Evidence(
        id=uid, item_id="P", user_id=user, kind=kind, field=field, text=text,  # type: ignore[arg-type]
        source_ref="t:1", score=0.0, rank=1, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


EVIDENCE = [
    unit("P:spec:title", "Olive Garden Gift Card", kind="spec", field="title"),
    unit("P:spec:category", "Category: Gift Cards", kind="spec", field="category"),
    unit("P:desc:s1", "Batteries are not included.", kind="description"),
    unit("P:rev:R1:s1", "My parents enjoyed dinner at Olive Garden.", rating=5),
    unit("P:rev:R2:s1", "The case is sturdy and quiet.", rating=5),
    unit("P:rev:R3:s1", "I wish it had a lid.", rating=3),
]
CHECKER = RuleChecker()


def verdict(text: str, *cites: str, evidence: list[Evidence] = EVIDENCE) -> tuple[str, str, str | None]:
    found = CHECKER.check([Claim(text=text, cites=list(cites), span=(0, len(text)))], evidence)[0]
    return found.label, found.rule, found.atom


@pytest.mark.parametrize(
    ("claim", "atoms"),
    [
        ("It is sturdy, quiet and waterproof.", ["It is sturdy.", "It is quiet.", "It is waterproof."]),
        ("It arrived quickly and works well.", ["It arrived quickly", "It works well."]),
        ("The magazine, which comes monthly, has tips.", ["The magazine has tips.", "The magazine comes monthly."]),
        ("It includes recipes and travel tips.", ["It includes recipes.", "It includes travel tips."]),
        ("It costs between $20 and $30.", ["It costs between $20 and $30."]),
        ("It costs $30 or less.", ["It costs $30 or less."]),
        ("Food and Wine has recipes.", ["Food and Wine has recipes."]),
        ('It says "fast and easy" on the box.', ['It says "fast and easy" on the box.']),
        ("It works at 3,000 shops and online.", ["It works at 3,000 shops.", "It works at 3,000 online."]),
    ],
)  # fmt: skip
def test_a_claim_is_split_into_one_statement_per_predicate(claim: str, atoms: list[str]) -> None:
    assert [a.text for a in split_atoms(claim)] == atoms


def test_a_true_half_does_not_carry_an_invented_one_on_the_explain_path() -> None:
    # the model's claim as written, not split by anyone before the checker
    label, _, atom = verdict("The reviewer's parents enjoyed dinner and dessert was included.", "P:rev:R1:s1")
    assert label == "unsupported" and atom == "dessert was included."
    assert verdict("The reviewer's parents enjoyed dinner at Olive Garden.", "P:rev:R1:s1")[0] == "supported"


def test_a_reviewers_words_told_in_the_first_person_are_not_the_reasons_own() -> None:
    label, rule, _ = verdict("My parents enjoyed dinner at Olive Garden.", "P:rev:R1:s1")
    assert (label, rule) == ("unsupported", "first_person")
    assert verdict('A reviewer wrote "My parents enjoyed dinner at Olive Garden."', "P:rev:R1:s1")[0] == "supported"


def test_a_list_of_properties_is_supported_only_when_every_property_is() -> None:
    found = CHECKER.check([Claim(text="The case is sturdy, quiet and waterproof.", cites=["P:rev:R2:s1"], span=(0, 9))],
                          EVIDENCE)[0]  # fmt: skip
    assert found.label == "unsupported" and found.atoms == 3
    assert found.atom == "The case is waterproof." and found.atom_span is not None
    assert found.claim.text[found.atom_span[0] : found.atom_span[1]] == "waterproof."
    assert verdict("The case is sturdy and quiet.", "P:rev:R2:s1")[0] == "supported"


def test_audit_and_explain_give_one_verdict_for_the_same_half_invented_claim() -> None:
    audited = check("The reviewer's parents enjoyed dinner and dessert was included. [P:rev:R1:s1]", EVIDENCE)
    assert [v.label for v in audited] == ["supported", "unsupported"]  # audit splits the sentence into two claims
    claim = "The reviewer's parents enjoyed dinner and dessert was included."
    assert verdict(claim, "P:rev:R1:s1")[0] == "unsupported"


@pytest.mark.parametrize(
    "claim",
    ["It is really something.", "The Olive Garden Gift Card is a gift.", "It is a great product.",
     "This gift card is perfect.", "It is a gift card."],
)  # fmt: skip
def test_a_claim_with_nothing_checkable_is_never_supported(claim: str) -> None:
    label, rule, _ = verdict(claim, "P:spec:title", "P:rev:R1:s1")
    assert (label, rule) == ("unsupported", "no_content")
    assert check(claim, EVIDENCE)[0].rule == "no_content"


REVIEWS_ONLY = [
    unit("M:spec:title", "Item M", kind="spec", field="title"),  # a catalogue of reviews alone: the item has no name
    unit("M:rev:A:s1", "I love this magazine, the recipes are great.", rating=5),
    unit("M:rev:B:s1", "The magazine arrives monthly with new recipes.", rating=5),
]


@pytest.mark.parametrize("claim", ["It is a magazine.", "This is a great magazine.", "It makes a great gift."])
def test_saying_only_what_kind_of_thing_an_unnamed_item_is_is_never_supported(claim: str) -> None:
    label, rule, _ = verdict(claim, "M:rev:A:s1", "M:rev:B:s1", evidence=REVIEWS_ONLY)
    assert (label, rule) == ("unsupported", "no_content")


def test_a_kind_with_something_checkable_about_it_is_checked() -> None:
    assert verdict("It is a monthly magazine.", "M:rev:B:s1", evidence=REVIEWS_ONLY)[0] == "supported"
    assert verdict("It is a weekly magazine.", "M:rev:B:s1", evidence=REVIEWS_ONLY)[0] != "supported"


def test_a_verdict_names_the_stage_that_decided_it() -> None:
    found = CHECKER.check([Claim(text="The batteries are included.", cites=["P:desc:s1"], span=(0, 5))], EVIDENCE)[0]
    assert (found.stage, found.rule) == ("exact", "negation_flip")
    found = CHECKER.check([Claim(text="It is really something.", cites=["P:desc:s1"], span=(0, 5))], EVIDENCE)[0]
    assert (found.stage, found.rule) == ("content", "no_content")


def test_praise_that_reviewers_give_is_their_claim_and_checked_against_them() -> None:
    assert verdict("One reviewer's parents enjoyed dinner.", "P:rev:R1:s1")[0] == "supported"


def test_a_negation_in_the_evidence_is_read_once_include_carries_meaning() -> None:
    assert verdict("The batteries are included.", "P:desc:s1")[0] == "contradicted"
    assert verdict("Batteries are not included.", "P:desc:s1")[0] == "supported"


def test_a_wish_says_the_item_lacks_it() -> None:
    assert verdict("It has a lid.", "P:rev:R3:s1")[0] == "contradicted"


class _SameVector:
    """An embedder that calls every text identical: only the rules' own limits can reject."""

    name = "same"
    dim = 2

    def embed(self, texts: list[str]) -> object:
        import numpy as np

        return np.tile(np.array([1.0, 0.0], dtype=np.float32), (len(texts), 1))


def test_similarity_never_supports_a_claim_that_shares_no_word_with_its_citation() -> None:
    near = RuleChecker(embedder=_SameVector())  # type: ignore[arg-type]
    claim = Claim(text="Shipping was remarkably fast overseas.", cites=["P:rev:R2:s1"], span=(0, 5))
    assert near.check([claim], EVIDENCE)[0].label == "unsupported"


def test_a_sentence_about_a_compared_product_supports_nothing_about_this_one() -> None:
    evidence = [
        *EVIDENCE,
        unit("P:rev:R4:s1", "I returned it and bought the Yamaha instead.", rating=2),
        unit("P:rev:R4:s2", "The feel and action are so much better.", rating=2,
             context=ReviewContext(before="I returned it and bought the Yamaha instead.")),
        unit("P:rev:R5:s1", "The M-Audio one is better built.", rating=3),
    ]  # fmt: skip
    assert verdict("The feel and action are so much better.", "P:rev:R4:s2", evidence=evidence)[:2] == (
        "unsupported",
        "other_product",
    )
    assert verdict("It is better built.", "P:rev:R5:s1", evidence=evidence)[1] == "other_product"
    assert (
        verdict("One reviewer finds the M-Audio one better built.", "P:rev:R5:s1", evidence=evidence)[0] == "supported"
    )


def test_a_plain_sentence_is_read_with_the_rating_of_its_review() -> None:
    evidence = [*EVIDENCE, unit("P:rev:R6:s1", "The sound is what you would expect from it.", rating=1)]
    assert verdict("The sound is wonderful.", "P:rev:R6:s1", evidence=evidence)[0] == "contradicted"


def test_a_rating_told_in_words_is_held_to_the_stars() -> None:
    evidence = [*EVIDENCE, unit("user:U:hist:Q", 'Reviewed "Panera Card", rated 5/5', kind="history", rating=5)]
    assert verdict("You gave the Panera card a poor rating.", "user:U:hist:Q", evidence=evidence)[0] == "contradicted"


@pytest.mark.parametrize(
    "claim",
    ["Great.", "word " * 10_000, "!!! ... ???", "[P:rev:R1:s1]", "", "and and and and", "It is " + "big and " * 40],
)
def test_odd_claims_get_a_verdict_never_a_crash_or_a_pass(claim: str) -> None:
    found = CHECKER.check([Claim(text=claim, cites=["P:rev:R1:s1"], span=(0, len(claim)))], EVIDENCE)[0]
    assert found.label != "supported"


@pytest.mark.parametrize("texts", [[""], ["<div><br/></div>"], ["   "]])
def test_empty_or_markup_evidence_supports_nothing(texts: list[str]) -> None:
    evidence = [unit(f"P:rev:R{n}:s1", t) for n, t in enumerate(texts)]
    for claim in ("It arrived quickly.", "It is great."):
        assert all(v.label != "supported" for v in check(claim, evidence))


def test_markup_in_a_claims_own_words_is_never_supported_but_a_quote_may_hold_it() -> None:
    script = Evidence(id="P:rev:R9:s1", item_id="P", user_id="R9", kind="review", rating=5, score=1.0, rank=1,
                      text="Great card! <script>fetch('https://evil.example/')</script>", source_ref="x")  # fmt: skip
    label, rule, _ = verdict("It is a great card <script>alert(1)</script>.", script.id, evidence=[*EVIDENCE, script])
    assert (label, rule) == ("unsupported", "no_markup")
    quoted = f'A reviewer wrote: "{script.text}"'
    assert verdict(quoted, script.id, evidence=[*EVIDENCE, script])[0] == "supported"
