"""Evidence splitting: sentences, readable ids, and ids that stay the same across rebuilds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import DEMO, write_jsonl
from whyrec.knowledge import load_catalogue, split_catalogue, split_sentences


def test_sentences_split_on_end_punctuation_but_not_after_abbreviations() -> None:
    text = (
        "This card was a great gift for my mother. Dr. Smith said she loved it very much! "
        "Shipping was fast and the tin was cute."
    )
    assert split_sentences(text) == [
        "This card was a great gift for my mother.",
        "Dr. Smith said she loved it very much!",
        "Shipping was fast and the tin was cute.",
    ]


def test_short_sentences_are_merged_into_a_neighbour() -> None:
    assert split_sentences("Great. Love it! My daughter used it at the store the same day.") == [
        "Great. Love it! My daughter used it at the store the same day."
    ]
    assert split_sentences("My daughter used it at the store the same day. Great.") == [
        "My daughter used it at the store the same day. Great."
    ]


def test_units_have_readable_unique_ids_of_each_kind() -> None:
    units = split_catalogue(load_catalogue(DEMO))
    ids = [u.id for u in units]
    assert len(ids) == len(set(ids))
    by_id = {u.id: u for u in units}
    assert by_id["B00AR51Y5I:spec:price"].text == "Price: $25.00"
    assert by_id["B00AR51Y5I:spec:title"].text == "Starbucks Gift Card"
    assert by_id["B00AR51Y5I:feat:1"].kind == "spec"
    history = [u for u in units if u.id.startswith("user:A35ZJY01RQSY5O:hist:")]
    assert len(history) >= 3 and all(u.kind == "history" and u.user_id == "A35ZJY01RQSY5O" for u in history)
    review = next(u for u in units if u.kind == "review")
    assert review.id == f"{review.item_id}:rev:{review.user_id}:s1" and review.source_ref.startswith("Gift_Cards_5")
    assert set(Counter(u.kind for u in units)) == {"spec", "description", "review", "history"}


def test_ids_and_texts_are_identical_across_rebuilds() -> None:
    first = [(u.id, u.text) for u in split_catalogue(load_catalogue(DEMO))]
    second = [(u.id, u.text) for u in split_catalogue(load_catalogue(DEMO))]
    assert first == second


def test_a_user_who_reviewed_an_item_twice_gets_the_latest_review_with_its_rating(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "products.jsonl", [{"item_id": "A", "title": "Alpha"}])
    reviews = [
        {"review_id": "r2", "item_id": "A", "user_id": "u", "rating": 1, "title": "Broke", "text": "x", "time": 20},
        {"review_id": "r1", "item_id": "A", "user_id": "u", "rating": 5, "title": "Great", "text": "y", "time": 10},
    ]
    write_jsonl(tmp_path / "reviews.jsonl", reviews)
    history = next(u for u in split_catalogue(load_catalogue(tmp_path)) if u.kind == "history")
    assert history.rating == 1 and history.text == 'Reviewed "Alpha", rated 1/5: "Broke"'
