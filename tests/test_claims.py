"""Claim splitting: sentences and predicate-bearing clauses, with exact character spans in the reason."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import examples
from whyrec.checker.claims import MAX_REASON_CHARS, split_claims


def texts(reason: str) -> list[str]:
    return [c.text for c in split_claims(reason)]


def test_sentences_split_but_not_at_prices_abbreviations_or_inside_quotes() -> None:
    reason = 'It costs $4.99 vs. $6.50 elsewhere. A reviewer wrote: "Great card. Arrived fast." You rated it 5/5.'
    assert texts(reason) == [
        "It costs $4.99 vs. $6.50 elsewhere.",
        'A reviewer wrote: "Great card. Arrived fast."',
        "You rated it 5/5.",
    ]


def test_clauses_with_their_own_predicates_become_separate_claims() -> None:
    assert texts("It arrived quickly and my dad loved it.") == ["It arrived quickly", "my dad loved it."]
    assert texts("The tin is pretty, but the card was scratched.") == ["The tin is pretty", "the card was scratched."]
    assert texts("It costs $25; it never expires.") == ["It costs $25", "it never expires."]


def test_coordinated_words_without_a_second_predicate_stay_one_claim() -> None:
    assert texts("It is cheap and cheerful.") == ["It is cheap and cheerful."]
    assert texts("Reviewers mention the design and the price.") == ["Reviewers mention the design and the price."]
    assert texts('A reviewer wrote: "It is small and it works."') == ['A reviewer wrote: "It is small and it works."']


def test_empty_and_blank_reasons_have_no_claims() -> None:
    assert split_claims("") == [] and split_claims("  .  ") == []


def test_an_overlong_reason_is_refused_with_the_limit() -> None:
    with pytest.raises(ValueError, match=f"the limit is {MAX_REASON_CHARS:,}"):
        split_claims("x" * 100_000)


def test_splitting_a_reason_at_the_limit_takes_bounded_time() -> None:
    reason = ("It is great and it works. " * 800)[:MAX_REASON_CHARS]
    started = time.perf_counter()
    claims = split_claims(reason)
    assert len(claims) > 1000 and time.perf_counter() - started < 2.0


@pytest.mark.fuzz
@given(st.text(alphabet=st.sampled_from(list('abc XYZ.,;!?"$5 and but')), max_size=300))
@settings(max_examples=examples(100), deadline=None)
def test_spans_point_at_the_claim_text_in_order_without_overlap(reason: str) -> None:
    previous_end = 0
    for claim in split_claims(reason):
        assert reason[claim.start : claim.end] == claim.text and claim.text == claim.text.strip()
        assert claim.start >= previous_end
        previous_end = claim.end
