"""The reviewer's sentence whyrec quotes when a reason holds only its own figures: when, and which."""

from __future__ import annotations

import pytest

from whyrec.agent.draft import DraftClaim
from whyrec.agent.item_quote import MAX_QUOTE_CHARS, item_quote, quote
from whyrec.knowledge.aspects import AspectVocabulary
from whyrec.knowledge.sentiment import sentiment_words
from whyrec.schema import Evidence

ITEM = "B00TIN1234"
TITLE = "Starbucks Gift Card in a Tin"


_UNIT = Evidence(id="-", item_id=ITEM, kind="review", text="-", source_ref="test:1", score=0.0, rank=1)


def unit(uid: str, text: str, kind: str, rank: int, rating: float | None = None, field: str | None = None) -> Evidence:
    """An evidence unit of the item (validated: `model_copy` would not check the kind)."""
    fields = {"id": uid, "text": text, "kind": kind, "rank": rank, "rating": rating, "field": field}
    return Evidence.model_validate({**_UNIT.model_dump(exclude={"speaker"}), **fields})


SIGNAL = unit(
    f"{ITEM}:sig:aspect:tin", "3 of the 3 reviews of this item that mention the tin are positive.", "signal", 1,
    field="aspect:tin",
)  # fmt: skip
ALSO = unit(
    f"{ITEM}:sig:also", "8 of the 50 other shoppers who reviewed X also reviewed this item.", "signal", 2, field="also"
)
STORY = unit(f"{ITEM}:rev:R1:s1", "I sent this to my sister and she loved the tin it came in.", "review", 3, 5)
PRAISE = unit(f"{ITEM}:rev:R2:s1", "This is a great gift card, really great.", "review", 4, 5)
DESIGN = unit(f"{ITEM}:rev:R3:s1", "The card design is pretty and it arrives fast.", "review", 5, 5)
TIN = unit(f"{ITEM}:rev:R4:s1", "The tin is sturdy and keeps the card safe in a purse.", "review", 6, 4)
COMPLAINT = unit(f"{ITEM}:rev:R5:s1", "The tin came dented and the card was scratched.", "review", 7, 1)
EVIDENCE = [SIGNAL, ALSO, STORY, PRAISE, DESIGN, TIN, COMPLAINT]


@pytest.fixture(scope="module")
def vocabulary() -> AspectVocabulary:
    sentences = ["The tin is sturdy.", "The design is pretty.", "The purse is red."] * 5
    return AspectVocabulary(sentences, sentiment_words())


def figures() -> list[DraftClaim]:
    return [DraftClaim(text=ALSO.text, cites=[ALSO.id]), DraftClaim(text=SIGNAL.text, cites=[SIGNAL.id])]


def test_a_reason_of_figures_only_gets_a_liked_review_naming_the_aspect_it_counts(vocabulary: AspectVocabulary) -> None:
    added = item_quote(figures(), EVIDENCE, TITLE, vocabulary)
    # not the first-person story, nor praise alone, nor the complaint; the tin sentence beats the earlier-ranked
    # design one because the reason counts the tin
    assert added == DraftClaim(text=f'A reviewer wrote: "{TIN.text}"', cites=[TIN.id])


def test_without_a_counted_aspect_the_first_sentence_naming_any_aspect_is_quoted(vocabulary: AspectVocabulary) -> None:
    only_also = [DraftClaim(text=ALSO.text, cites=[ALSO.id])]
    added = item_quote(only_also, EVIDENCE, TITLE, vocabulary)
    assert added is not None and added.cites == [DESIGN.id]


def test_no_quote_when_a_claim_already_says_what_the_item_offers_or_the_reason_is_empty_or_full(
    vocabulary: AspectVocabulary,
) -> None:
    told = [*figures(), DraftClaim(text="A reviewer says the design is pretty.", cites=[DESIGN.id])]
    assert item_quote(told, EVIDENCE, TITLE, vocabulary) is None
    assert item_quote([], EVIDENCE, TITLE, vocabulary) is None
    full = figures() * 2
    assert item_quote(full, EVIDENCE, TITLE, vocabulary) is None
    # weak claims do not fill it: they are left out once the quote stands
    praise = [DraftClaim(text="A reviewer says it is a great gift card.", cites=[PRAISE.id])] * 2
    assert item_quote([*figures(), *praise], EVIDENCE, TITLE, vocabulary) is not None
    # a reviewer's praise alone, or their story retold, does not say what the item offers: the quote is still added
    story = unit(f"{ITEM}:rev:R6:s1", "I sent this to my sister and she loved it so much.", "review", 8, 5)
    retold = [*figures(), DraftClaim(text="A reviewer's sister and she loved it so much.", cites=[story.id])]
    assert item_quote(retold, [*EVIDENCE, story], TITLE, vocabulary) is not None
    praised = [*figures(), DraftClaim(text="A reviewer says it is a great gift card.", cites=[PRAISE.id])]
    assert item_quote(praised, EVIDENCE, TITLE, vocabulary) is not None


def test_no_quote_when_no_sentence_qualifies(vocabulary: AspectVocabulary) -> None:
    assert item_quote(figures(), [SIGNAL, ALSO, STORY, PRAISE, COMPLAINT], TITLE, vocabulary) is None


def test_a_long_sentence_is_cut_at_a_word_with_an_ellipsis() -> None:
    text = "The tin is sturdy, " * 20
    cut = quote(text)
    assert len(cut) <= MAX_QUOTE_CHARS + 1 and cut.endswith("…") and text.startswith(cut[:-1])
