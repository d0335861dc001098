"""The magazine claim set's evidence: Magazine Subscriptions reviews loaded by whyrec as a catalogue of reviews only
(no product metadata), and the units one claim's pair gets."""

from __future__ import annotations

import os
import tempfile
from collections import defaultdict
from pathlib import Path

from whyrec.knowledge.catalogue import load_catalogue
from whyrec.knowledge.split import split_catalogue
from whyrec.schema import EvidenceUnit

REVIEWS = "Magazine_Subscriptions_5.jsonl"
MAX_REVIEW_UNITS = 30


def load_units(shared: Path) -> list[EvidenceUnit]:
    """The category's evidence units through whyrec's own loader, from the review file alone."""
    source = (shared / "amazon" / REVIEWS).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"missing source data: {source}")
    with tempfile.TemporaryDirectory(prefix="whyrec-magazine-claims-") as tmp:
        os.symlink(source, Path(tmp) / REVIEWS)
        return split_catalogue(load_catalogue(tmp))


def _review_key(unit: EvidenceUnit) -> tuple[str, int]:
    _, _, review, sentence = unit.id.split(":")
    return review, int(sentence.removeprefix("s"))


class Units:
    """The units indexed for building one claim's evidence."""

    def __init__(self, units: list[EvidenceUnit]):
        self.product: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.reviews: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.history: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.all_units = {unit.id: unit for unit in units}
        for unit in units:
            if unit.kind == "history":
                self.history[unit.user_id or ""].append(unit)
            elif unit.kind == "review":
                self.reviews[unit.item_id].append(unit)
            else:
                self.product[unit.item_id].append(unit)
        for item_reviews in self.reviews.values():
            item_reviews.sort(key=_review_key)

    def evidence(self, item_id: str, user_id: str, cites: list[str]) -> list[EvidenceUnit]:
        """The stand-in title, the cited review sentences of other users and the rest in loader order (review id,
        then sentence) up to the cap, then the user's history on other items."""
        others = [u for u in self.reviews.get(item_id, []) if u.user_id != user_id]
        cited = set(cites)
        chosen = {u.id for u in others if u.id in cited}
        for unit in others:
            if len(chosen) >= MAX_REVIEW_UNITS:
                break
            chosen.add(unit.id)
        reviews = [u for u in others if u.id in chosen]
        history = [u for u in self.history.get(user_id, []) if u.item_id != item_id]
        return [*self.product[item_id], *reviews, *history]
