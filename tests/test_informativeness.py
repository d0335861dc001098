"""Informativeness of a reason (does it say why this shopper?) and the blind pairwise judgement files: each measure
both ways, and a write → judge → score round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from whyrec.agent.shape import is_thin
from whyrec.errors import CatalogueError
from whyrec.evaluation.informativeness import (
    Informativeness,
    history_relates,
    measure_informativeness,
    summarise_informativeness,
)
from whyrec.evaluation.pairwise import PairwiseRow, ShownClaim, evidence_lines, score_pairwise, write_pairwise
from whyrec.knowledge.aspects import AspectVocabulary
from whyrec.knowledge.sentiment import sentiment_words
from whyrec.schema import Claim, ClaimVerdict, Evidence, VerdictLabel

ITEM = "B00TIN1234"
TITLE = "Starbucks Gift Card in a Tin"
USER = "U1"


def unit(uid: str, text: str, kind: str, user_id: str | None = None, item_id: str = ITEM) -> Evidence:
    return Evidence(
        id=uid,
        item_id=item_id,
        user_id=user_id,
        kind=kind,  # type: ignore[arg-type]
        text=text,
        source_ref="test:1",
        score=0.0,
        rank=1,
    )


EVIDENCE = [
    unit(f"{ITEM}:spec:title", TITLE, "spec"),
    unit(f"{ITEM}:rev:R1:s1", "I sent this to my sister and she loved the tin it came in.", "review", "R"),
    unit(f"{ITEM}:rev:R2:s1", "The tin is sturdy and keeps the card safe in a purse.", "review", "R2"),
    unit(f"user:{USER}:hist:B00SUB0001", 'Reviewed "SUBWAY Gift Card", rated 5/5', "history", USER, "B00SUB0001"),
    unit(f"{ITEM}:sig:aspect:tin", "Of 14 reviews that mention the tin, 12 are positive.", "signal"),
    unit(f"user:{USER}:sig:wrote:design", "You wrote about the design in 2 of your reviews.", "signal", USER),
    unit(f"{ITEM}:rev:R3:s1", "I got this for my nephew because he was moving to a new city.", "review", "R3"),
]
REVIEW_I, REVIEW_PLAIN, HISTORY, ITEM_SIGNAL, USER_SIGNAL, REVIEW_STORY = (e.id for e in EVIDENCE[1:])


@pytest.fixture(scope="module")
def vocabulary() -> AspectVocabulary:
    sentences = ["The tin is sturdy.", "The design is pretty.", "The sound is clear."] * 5
    return AspectVocabulary(sentences, sentiment_words())


def claim(text: str, *cites: str) -> Claim:
    return Claim(text=text, cites=list(cites), span=(0, len(text)))


def verdict(c: Claim, label: VerdictLabel = "supported") -> ClaimVerdict:
    return ClaimVerdict(claim=c, label=label, rule="test")


def measure(
    vocabulary: AspectVocabulary, *claims: Claim, verdicts: list[ClaimVerdict] | None = None
) -> Informativeness:
    return measure_informativeness(claims, verdicts, EVIDENCE, title=TITLE, user_id=USER, vocabulary=vocabulary)


def test_a_claim_that_only_restates_the_title_or_calls_it_a_gift_is_generic(vocabulary: AspectVocabulary) -> None:
    assert measure(vocabulary, claim("The Starbucks Gift Card is a great gift.")).generic_claims == 1
    assert measure(vocabulary, claim("It's a great gift idea for anyone.")).generic_claims == 1
    assert measure(vocabulary, claim("A reviewer says it is perfect.", REVIEW_PLAIN)).generic_claims == 1


def test_a_claim_about_the_item_itself_is_not_generic(vocabulary: AspectVocabulary) -> None:
    assert measure(vocabulary, claim("The tin is sturdy.", REVIEW_PLAIN)).generic_claims == 0
    assert measure(vocabulary, claim("It keeps the card safe in a purse.", REVIEW_PLAIN)).generic_claims == 0


def test_a_first_person_story_is_a_copied_anecdote(vocabulary: AspectVocabulary) -> None:
    assert measure(vocabulary, claim("I sent this to my sister.", REVIEW_I)).copied_anecdotes == 1


def test_six_words_in_a_row_from_a_first_person_story_are_a_copied_anecdote(vocabulary: AspectVocabulary) -> None:
    copied = claim("A reviewer got it because he was moving to a new city.", REVIEW_STORY)
    assert measure(vocabulary, copied).copied_anecdotes == 1


def test_a_first_person_review_retold_that_names_an_aspect_is_not_an_anecdote(vocabulary: AspectVocabulary) -> None:
    # the reviewer's experience, told as theirs, says what the item offers (the reason shape allows it)
    assert measure(vocabulary, claim("She loved the tin it came in.", REVIEW_I)).copied_anecdotes == 0


def test_a_framed_report_of_a_review_is_not_a_copied_anecdote(vocabulary: AspectVocabulary) -> None:
    assert measure(vocabulary, claim("A reviewer says the tin is sturdy.", REVIEW_PLAIN)).copied_anecdotes == 0
    assert measure(vocabulary, claim("A reviewer's sister loved the tin.", REVIEW_I)).copied_anecdotes == 0


def test_six_words_from_a_review_that_tells_no_story_are_not_an_anecdote(vocabulary: AspectVocabulary) -> None:
    copied = claim("The tin is sturdy and keeps the card safe.", REVIEW_PLAIN)
    assert measure(vocabulary, copied).copied_anecdotes == 0


def test_a_history_line_echoed_is_copied_history(vocabulary: AspectVocabulary) -> None:
    assert measure(vocabulary, claim('You Reviewed "SUBWAY Gift Card".', HISTORY)).copied_history == 1
    assert measure(vocabulary, claim("You gave the SUBWAY Gift Card, rated 5/5.", HISTORY)).copied_history == 1


def test_a_history_line_told_in_other_words_is_not_copied(vocabulary: AspectVocabulary) -> None:
    told = claim("You gave a SUBWAY gift card five stars.", HISTORY)
    assert measure(vocabulary, told).copied_history == 0


def test_a_raw_item_id_is_counted(vocabulary: AspectVocabulary) -> None:
    assert measure(vocabulary, claim(f"{ITEM} comes in a tin.")).raw_ids == 1
    assert measure(vocabulary, claim("You liked Item B00SUB0001.", HISTORY)).raw_ids == 1
    assert measure(vocabulary, claim("The tin is sturdy.", REVIEW_PLAIN)).raw_ids == 0


def test_an_item_id_of_the_evidence_counts_even_when_it_is_not_an_asin(vocabulary: AspectVocabulary) -> None:
    evidence = [unit("card-77:spec:title", "A gift card", "spec", item_id="card-77")]
    seen = measure_informativeness(
        [claim("card-77 is a gift card.")], None, evidence, title="A gift card", user_id=USER, vocabulary=vocabulary
    )
    assert seen.raw_ids == 1


def test_a_supported_claim_to_the_shopper_citing_their_history_is_a_personal_link(
    vocabulary: AspectVocabulary,
) -> None:
    linked = claim("You rated a SUBWAY card 5/5, and this one comes in a tin.", HISTORY, REVIEW_PLAIN)
    assert measure(vocabulary, linked, verdicts=[verdict(linked)]).personal_link
    wrote = claim("You care about design, and the tin is pretty.", USER_SIGNAL)
    assert measure(vocabulary, wrote, verdicts=[verdict(wrote)]).personal_link


def test_an_unsupported_claim_to_the_shopper_is_no_personal_link(vocabulary: AspectVocabulary) -> None:
    linked = claim("You rated a SUBWAY card 5/5.", HISTORY)
    assert not measure(vocabulary, linked, verdicts=[verdict(linked, "unsupported")]).personal_link


def test_an_unchecked_reason_is_judged_as_written(vocabulary: AspectVocabulary) -> None:
    linked = claim("You rated a SUBWAY card 5/5.", HISTORY)
    row = measure(vocabulary, linked)
    assert row.personal_link
    assert row.supported is None


def test_no_personal_link_without_the_shopper_or_their_evidence(vocabulary: AspectVocabulary) -> None:
    not_to_them = claim("A SUBWAY card was rated 5/5.", HISTORY)
    not_theirs = claim("You will like the tin: 12 of 14 reviews praise it.", ITEM_SIGNAL)
    for c in (not_to_them, not_theirs):
        assert not measure(vocabulary, c, verdicts=[verdict(c)]).personal_link


def test_supported_counts_the_reasons_claims_the_checker_accepted(vocabulary: AspectVocabulary) -> None:
    kept = claim("The tin is sturdy.", REVIEW_PLAIN)
    dropped = claim("The tin is gold.", REVIEW_PLAIN)
    other = claim("It has a sound chip.", REVIEW_PLAIN)
    # an explanation's verdicts also hold the draft's dropped claims
    row = measure(vocabulary, kept, other, verdicts=[verdict(kept), verdict(dropped, "unsupported"), verdict(other)])
    assert (row.claims, row.supported, row.abstained) == (2, 2, False)
    assert row.aspects == {"tin", "sound"}
    assert measure(vocabulary).abstained


def test_history_relates_when_the_evidence_holds_the_shoppers_own_units() -> None:
    assert history_relates(EVIDENCE, USER)
    assert history_relates([e for e in EVIDENCE if e.id == USER_SIGNAL], USER)
    assert not history_relates([e for e in EVIDENCE if e.kind != "history" and e.user_id != USER], USER)
    assert not history_relates(EVIDENCE, "someone-else")
    assert not history_relates(EVIDENCE, None)


def test_the_summary_counts_rates_over_reasons_and_claims(vocabulary: AspectVocabulary) -> None:
    linked = claim("You rated a SUBWAY card 5/5.", HISTORY)
    generic = claim("It is a great gift idea for anyone.")
    specific = claim("The tin is sturdy.", REVIEW_PLAIN)
    rows = [
        measure(vocabulary, linked, specific, verdicts=[verdict(linked), verdict(specific)]),
        measure(vocabulary, generic, claim(f"{ITEM} is a tin."), verdicts=[verdict(generic)]),
        measure(vocabulary, verdicts=[]),
    ]
    summary = summarise_informativeness(rows, [True, True, False])
    assert summary["abstention"] == pytest.approx(1 / 3)
    assert summary["claims_per_reason"] == pytest.approx(4 / 3)
    assert summary["two_supported"] == pytest.approx(1 / 3)
    assert summary["personal_link"] == pytest.approx(1 / 2)
    assert summary["generic_claims"] == pytest.approx(1 / 4)
    assert summary["raw_id_reasons"] == pytest.approx(1 / 3)
    assert summary["aspects_per_reason"] == pytest.approx(2 / 3)


def rows(n: int) -> list[PairwiseRow]:
    lines = evidence_lines(EVIDENCE)
    return [
        PairwiseRow(f"U{i}:I{i}", TITLE, lines, "whyrec", f"good {i}", "extractive", f"plain {i}") for i in range(n)
    ]


def read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_evidence_lines_name_the_speaker_and_what_each_unit_is() -> None:
    lines = evidence_lines(EVIDENCE)
    assert lines[0] == f"e1 (seller, spec): {TITLE}"
    assert lines[3].startswith("e4 (user, history): Reviewed")
    assert lines[5].startswith("e6 (whyrec, signal): You wrote")


def test_the_reader_sees_each_claim_with_the_lines_it_cites(tmp_path: Path) -> None:
    claims = (ShownClaim("It has a tin.", ("e2",)),)
    row = PairwiseRow("U:I", TITLE, evidence_lines(EVIDENCE), "whyrec", "It has a tin.", "extractive", "", claims, ())
    reader_path, key_path = write_pairwise(tmp_path, [row], seed=0)
    shown, hidden = read(reader_path)[0], read(key_path)[0]
    side = "a" if hidden["a"] == "whyrec" else "b"
    assert shown[f"claims_{side}"] == [{"text": "It has a tin.", "cites": ["e2"]}]
    assert shown[f"claims_{'b' if side == 'a' else 'a'}"] == []


def test_the_reader_file_is_shuffled_blind_and_the_key_says_who_wrote_what(tmp_path: Path) -> None:
    reader_path, key_path = write_pairwise(tmp_path, rows(20), seed=7)
    text = reader_path.read_text(encoding="utf-8")
    assert "whyrec" not in text.replace("(whyrec, signal)", "") and "extractive" not in text
    key = read(key_path)
    assert {row["a"] for row in key} == {"whyrec", "extractive"}  # both orders occur
    for shown, hidden in zip(read(reader_path), key, strict=True):
        assert shown["pair"] == hidden["pair"]
        good_is_a = str(shown["reason_a"]).startswith("good")
        assert (hidden["a"] == "whyrec") == good_is_a
    write_pairwise(tmp_path / "again", rows(20), seed=7)
    assert (tmp_path / "again" / "pairwise-key.jsonl").read_text() == key_path.read_text()


def test_judgements_score_each_system_with_ties_counting_half(tmp_path: Path) -> None:
    _, key_path = write_pairwise(tmp_path, rows(4), seed=3)
    judgements = []
    for i, row in enumerate(read(key_path)):
        whyrec = "a" if row["a"] == "whyrec" else "b"
        other = "b" if whyrec == "a" else "a"
        scores = {f"score_{whyrec}": 5, f"score_{other}": 2}
        labels = {f"labels_{whyrec}": ["supported", "supported"], f"labels_{other}": ["unsupported", "supported"]}
        judgements.append({"pair": row["pair"], "prefer": "tie" if i == 0 else whyrec, **scores, **labels})
    judgements_path = tmp_path / "judged.jsonl"
    judgements_path.write_text("".join(json.dumps(j) + "\n" for j in judgements) + "\n", encoding="utf-8")
    scores = score_pairwise(judgements_path, key_path)
    assert scores["whyrec"].preference == pytest.approx(3.5 / 4)
    assert scores["extractive"].preference == pytest.approx(0.5 / 4)
    assert (scores["whyrec"].mean_score, scores["whyrec"].good_scores, scores["whyrec"].pairs) == (5.0, 1.0, 4)
    assert (scores["extractive"].mean_score, scores["extractive"].good_scores) == (2.0, 0.0)
    assert (scores["whyrec"].claims_labelled, scores["whyrec"].claims_supported) == (8, 1.0)
    assert (scores["extractive"].claims_labelled, scores["extractive"].claims_supported) == (8, 0.5)


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"pair": "p001", "prefer": "left", "score_a": 3, "score_b": 3}', "prefer"),
        ('{"pair": "p001", "prefer": "a", "score_a": 6, "score_b": 3}', "score_a"),
        ('{"pair": "p001", "prefer": "a", "score_a": 3}', "score_b"),
        ('{"pair": "p099", "prefer": "a", "score_a": 3, "score_b": 3}', "pair"),
        ('{"pair": "p002", "prefer": "a", "score_a": 3, "score_b": 3}', "pair"),  # p002 judged twice
        ('{"pair": "p001", "prefer": "a", "score_a": 3, "score_b": 3, "labels_a": ["true"]}', "labels_a"),
        ("not json", None),
    ],
)
def test_a_bad_judgement_line_is_an_error_naming_it(tmp_path: Path, line: str, field: str | None) -> None:
    _, key_path = write_pairwise(tmp_path, rows(2), seed=1)
    judgements_path = tmp_path / "judged.jsonl"
    good = '{"pair": "p002", "prefer": "tie", "score_a": 3, "score_b": 3}'
    judgements_path.write_text(f"{good}\n{line}\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as error:
        score_pairwise(judgements_path, key_path)
    assert (error.value.line, error.value.field) == (2, field)
    assert "judged.jsonl:2:" in str(error.value)


def test_a_title_word_that_is_an_aspect_still_says_something() -> None:
    title = "Gift Card in a Mini Shipping Box"
    assert not is_thin("A reviewer says the box is pretty cool.", title, {"pretty": 1, "cool": 1}, (), {"box"})
    assert is_thin("A reviewer says the box is pretty cool.", title, {"pretty": 1, "cool": 1})
    assert is_thin("A reviewer says this gift card is a great gift idea.", title, {"great": 1}, {"card"}, {"box"})
