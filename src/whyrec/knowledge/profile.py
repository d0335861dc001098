"""What a user cares about, from their own reviews: the aspects they write about, how they feel about each, and the
evidence units that say so (`whyrec profile U`).

Aspects come from the catalogue's aspect vocabulary (`whyrec.knowledge.aspects`). Each of the user's review sentences
that names an aspect counts one mention of it, with the sentence's VADER compound score as the feeling. Aspects are
ranked by mentions weighted by how rare the aspect is in the catalogue (mentions · log(sentences / sentences naming
it)), so "card" in a gift-card catalogue ranks below "tin" when both are mentioned once.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from whyrec.knowledge import Store
from whyrec.knowledge.aspects import AspectVocabulary
from whyrec.schema import EvidenceUnit

MAX_ASPECTS = 8
PROMPT_ASPECTS = 5


@dataclass(frozen=True)
class AspectMention:
    aspect: str
    mentions: int
    sentiment: float  # mean VADER compound of the sentences, from -1 to 1
    weight: float
    unit_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class UserProfile:
    user_id: str
    items: int
    review_sentences: int
    aspects: list[AspectMention]


class AspectProfiler:
    """`profile(user)`: the user's aspects, from their review sentences (optionally leaving one item out)."""

    def __init__(self, store: Store, vocabulary: AspectVocabulary, polarity: Callable[[str], float]):
        self.store = store
        self.vocabulary = vocabulary
        self.polarity = polarity

    @classmethod
    def of(cls, store: Store, vocabulary: AspectVocabulary | None = None) -> AspectProfiler:
        """The profiler over `vocabulary` (an index's, as its build stored it; else computed from the store) with
        VADER's compound score as the feeling."""
        from whyrec.knowledge.sentiment import polarity

        return cls(store, vocabulary or AspectVocabulary.of_store(store), polarity)

    def words(self, user_id: str, exclude_item: str | None = None, n: int = PROMPT_ASPECTS) -> list[str]:
        """The user's top `n` aspect words, most telling first (what the prompt and retrieval use): the ranking of
        `profile`, without reading the feeling of each sentence."""
        mentions, _ = self._mentions(user_id, exclude_item)
        return [aspect for aspect, _ in self._ranked(mentions)[:n]]

    def mentions(self, user_id: str, exclude_item: str | None = None) -> dict[str, list[str]]:
        """Each aspect the user's review sentences name, most telling first, with the ids of those sentences."""
        found, _ = self._mentions(user_id, exclude_item)
        return {aspect: [u.id for u in found[aspect]] for aspect, _ in self._ranked(found)}

    def phrase(self, user_id: str, exclude_item: str | None = None) -> str:
        """The user's top aspect words as one phrase to embed ("design, card, meal"); empty without aspects."""
        return ", ".join(self.words(user_id, exclude_item))

    def profile(self, user_id: str, exclude_item: str | None = None, n: int = MAX_ASPECTS) -> UserProfile:
        mentions, sentences = self._mentions(user_id, exclude_item)
        feeling: dict[str, float] = {}
        aspects = []
        for aspect, weight in self._ranked(mentions)[:n]:
            found = mentions[aspect]
            for unit in found:
                if unit.id not in feeling:
                    feeling[unit.id] = self.polarity(unit.text)
            aspects.append(
                AspectMention(
                    aspect=aspect,
                    mentions=len(found),
                    sentiment=round(sum(feeling[u.id] for u in found) / len(found), 3),
                    weight=weight,
                    unit_ids=[u.id for u in found],
                )
            )
        return UserProfile(user_id, len(self.store.user_items(user_id)), sentences, aspects)

    def _mentions(self, user_id: str, exclude_item: str | None) -> tuple[dict[str, list[EvidenceUnit]], int]:
        """Each aspect the user's review sentences name, with those sentences (in id order); and how many there are."""
        from whyrec.errors import UnknownIdError

        if not self.store.has_user(user_id):
            raise UnknownIdError(f"unknown user {user_id!r}")
        units = self.store.units_by_rowid(self.store.user_rowids(user_id, "review", exclude_item=exclude_item))
        mentions: dict[str, list[EvidenceUnit]] = {}
        for unit in sorted(units.values(), key=lambda u: u.id):
            for aspect in self.vocabulary.in_text(unit.text):
                mentions.setdefault(aspect, []).append(unit)
        return mentions, len(units)

    def _ranked(self, mentions: dict[str, list[EvidenceUnit]]) -> list[tuple[str, float]]:
        """(aspect, weight), heaviest first: mentions · log(sentences / sentences naming the aspect)."""
        total = max(1, self.vocabulary.sentences)
        weights = {
            aspect: round(len(found) * math.log(total / self.vocabulary.frequency[aspect]), 3)
            for aspect, found in mentions.items()
        }
        return sorted(weights.items(), key=lambda pair: (-pair[1], pair[0]))
