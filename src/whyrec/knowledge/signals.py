"""Signals: what whyrec itself counts from the catalogue for one user–item pair, told as evidence units in its own
words (kind `signal`, speaker `whyrec`), each with the ids it was counted from (`basis`).

They carry what no review or spec says, the link between this shopper and this item:

- **also**: `12 of the 40 other shoppers who reviewed "SUBWAY Gift Card", which you rated 5/5, also reviewed this
  item.` The history item the shopper liked (or did not rate) with the most shoppers in common with this one
  (item–item co-interaction, the signal the collaborative recommender ranks by). Tied to the shopper (`user_id` set).
- **aspect**: `12 of the 14 reviews of this item that mention the design are positive; 2 are negative.` Per-aspect
  consensus over the item's reviews (a review counts once; its feeling is the VADER compound of the sentences that
  name the aspect, or, when those are neutral, its stars: 4–5 positive, 1–2 negative). When the shopper wrote about
  the aspect in their own reviews, the unit starts `You wrote about the design in 3 of your reviews, and …` and is
  tied to them.
- **rating**: `Its 12 reviews give it 4.6 stars on average; 10 of the 12 are positive and 1 is negative.`
  (positive: 4–5 stars, negative: 1–2).

Every figure leaves out the shopper's own review of the item and their own interaction with it (in leave-one-out
evaluation that is the answer). The texts are fixed formats: `shares` reads them back for the checker, so the
figures a claim states ("most of the reviews", "12 of 14") are checked against what was counted.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from whyrec.knowledge.aspects import AspectVocabulary, tokenize
from whyrec.knowledge.store import Store
from whyrec.schema import EvidenceUnit

MIN_RATINGS = 3  # an average of fewer ratings says little
MIN_ASPECT_REVIEWS = 2  # a consensus needs at least two reviews
MIN_SHARED = 2  # "1 of the 3 shoppers" is a coincidence, not a pattern
LIKED = 4  # the stars from which a history item counts as liked
MAX_ASPECTS = 2
NEUTRAL = 0.05  # VADER's own cut-off between neutral and positive/negative compound scores

_SHARE = re.compile(r"\b(\d+) of the (\d+)\b")
_NEGATIVE = re.compile(r"\b(\d+) (?:are|is) negative\b")


@dataclass(frozen=True)
class Share:
    """A share a signal states: `part` of `whole`, and whether it counts the negative ones."""

    part: int
    whole: int
    negative: bool = False

    @property
    def fraction(self) -> float:
        return self.part / self.whole if self.whole else 0.0


def shares(text: str) -> list[Share]:
    """The shares a signal's text states, the main one ("12 of the 14 … are positive") first, then the negative
    count of the same whole ("2 are negative")."""
    found = [Share(int(a), int(b)) for a, b in _SHARE.findall(text)]
    if found:
        found += [Share(int(n), found[0].whole, negative=True) for n in _NEGATIVE.findall(text)]
    return found


def tied_to_user(unit: EvidenceUnit) -> bool:
    """A signal counted from the shopper's own history: it backs a claim about them."""
    return unit.kind == "signal" and unit.user_id is not None


def counts_people(unit: EvidenceUnit) -> bool:
    """A signal that counts people: shoppers in common, the reviews of an aspect, the ratings."""
    return unit.kind == "signal" and (unit.field or "").startswith(("also", "aspect:", "rating"))


@dataclass(frozen=True)
class _Mention:
    review: str  # the review's id prefix: `<item>:rev:<review id>`
    feeling: int  # 1, 0 or -1
    sentence_ids: tuple[str, ...]


class SignalMaker:
    """`for_pair(user, item)`: the pair's signals, at most one co-interaction, MAX_ASPECTS aspects and the rating."""

    def __init__(
        self,
        store: Store,
        vocabulary: AspectVocabulary,
        user_aspects: Callable[[str, str], dict[str, list[str]]],
        polarity: Callable[[str], float],
    ):
        """`user_aspects(user, exclude_item)`: the aspect words the user's own reviews name, most telling first, each
        with the ids of the sentences that name it (`AspectProfiler.mentions`)."""
        self.store = store
        self.vocabulary = vocabulary
        self.user_aspects = user_aspects
        self.polarity = polarity

    def for_pair(self, user_id: str | None, item_id: str) -> list[EvidenceUnit]:
        """The pair's signals, what links the shopper first; no user (cold start): the item's counts alone."""
        units: list[EvidenceUnit] = []
        if user_id is not None and (also := self.also(user_id, item_id)) is not None:
            units.append(also)
        units += self.aspects(user_id, item_id)
        if (rating := self.rating(user_id, item_id)) is not None:
            units.append(rating)
        return units

    def also(self, user_id: str, item_id: str) -> EvidenceUnit | None:
        """The history item most often found beside this one in other shoppers' histories."""
        ratings = self.store.user_ratings(user_id)
        history = [i for i in ratings if i != item_id]
        counts = self.store.co_interactions(item_id, history, exclude_user=user_id)
        best = max(
            # an item the shopper disliked is no reason to like what others bought beside it
            (i for i, (_, both, _) in counts.items() if both >= MIN_SHARED and (ratings[i] or LIKED) >= LIKED),
            key=lambda i: (counts[i][1], counts[i][1] / counts[i][0], ratings[i] or 0, i),
            default=None,
        )
        product = self.store.product(best) if best is not None else None
        if best is None or product is None:
            return None
        total, both, reviews_only = counts[best]
        verb = "reviewed" if reviews_only else "bought"
        named = f'"{product.title}"' if product.title_from != "id" else "an item with no name"
        rated = f", which you rated {ratings[best]:g}/5," if ratings[best] is not None else ""
        return EvidenceUnit(
            id=f"user:{user_id}:sig:{item_id}:also:{best}",
            item_id=item_id,
            user_id=user_id,
            kind="signal",
            field="also",
            text=f"{both} of the {total} other shoppers who {verb} {named}{rated} also {verb} this item.",
            source_ref="counted from the catalogue's interactions",
            basis=(f"user:{user_id}:hist:{best}",),
        )

    def rating(self, user_id: str | None, item_id: str) -> EvidenceUnit | None:
        """The item's average stars and how many reviews are positive (4–5) and negative (1–2); None below
        MIN_RATINGS."""
        ratings = self.store.item_ratings(item_id, exclude_user=user_id)
        if len(ratings) < MIN_RATINGS:
            return None
        mean = sum(ratings) / len(ratings)
        good, bad = sum(r >= 4 for r in ratings), sum(r <= 2 for r in ratings)
        return EvidenceUnit(
            id=f"{item_id}:sig:rating",
            item_id=item_id,
            kind="signal",
            field="rating",
            text=(
                f"Its {len(ratings)} reviews give it {mean:.1f} stars on average; {good} of the {len(ratings)} are "
                f"positive and {bad} {'is' if bad == 1 else 'are'} negative."
            ),
            source_ref="counted from the item's review ratings",
        )

    def aspects(self, user_id: str | None, item_id: str) -> list[EvidenceUnit]:
        """The shopper's own aspects this item's reviews discuss, then the item's most telling ones."""
        found = self._mentions(user_id, item_id)
        product = self.store.product(item_id)
        # the item's own kind ("card" of a gift card) is what it is, not an aspect of it
        named = set(tokenize(product.title)) if product is not None else set()
        for word in named | {w + "s" for w in named} | {w[:-1] for w in named if w.endswith("s")}:
            found.pop(word, None)
        theirs = self.user_aspects(user_id, item_id) if user_id is not None else {}
        total = max(1, self.vocabulary.sentences)
        ranked = sorted(
            (a for a, m in found.items() if len(m) >= MIN_ASPECT_REVIEWS),
            key=lambda a: (a not in theirs, -len(found[a]) * math.log(total / self.vocabulary.frequency[a]), a),
        )
        units = []
        for aspect in ranked[:MAX_ASPECTS]:
            mentions = found[aspect]
            good = sum(m.feeling > 0 for m in mentions)
            bad = sum(m.feeling < 0 for m in mentions)
            consensus = (
                f"{good} of the {len(mentions)} reviews of this item that mention the {aspect} are positive; "
                f"{bad} {'is' if bad == 1 else 'are'} negative."
            )
            basis = tuple(i for m in mentions for i in m.sentence_ids)
            own = theirs.get(aspect)
            if user_id is not None and own:
                reviews = len({i.rsplit(":s", 1)[0] for i in own})
                written = f"{reviews} of your reviews" if reviews > 1 else "one of your reviews"
                text = f"You wrote about the {aspect} in {written}, and {consensus}"
                units.append(
                    self._aspect_unit(
                        f"user:{user_id}:sig:{item_id}:aspect:{aspect}", item_id, user_id, aspect, text, (*own, *basis)
                    )
                )
            else:
                text = consensus[0].upper() + consensus[1:]
                units.append(self._aspect_unit(f"{item_id}:sig:aspect:{aspect}", item_id, None, aspect, text, basis))
        return units

    @staticmethod
    def _aspect_unit(
        unit_id: str, item_id: str, user_id: str | None, aspect: str, text: str, basis: tuple[str, ...]
    ) -> EvidenceUnit:
        return EvidenceUnit(
            id=unit_id,
            item_id=item_id,
            user_id=user_id,
            kind="signal",
            field=f"aspect:{aspect}",
            text=text,
            source_ref="counted from the item's review sentences",
            basis=basis,
        )

    def _mentions(self, user_id: str | None, item_id: str) -> dict[str, list[_Mention]]:
        """Each aspect the item's reviews name (the shopper's own review left out), one mention per review."""
        units = self.store.units_by_rowid(self.store.item_unit_rowids(item_id, exclude_user=user_id))
        by_review: dict[str, dict[str, list[EvidenceUnit]]] = {}
        for unit in sorted(units.values(), key=lambda u: u.id):
            if unit.kind != "review":
                continue
            review = unit.id.rsplit(":s", 1)[0]
            for aspect in self.vocabulary.in_text(unit.text):
                by_review.setdefault(aspect, {}).setdefault(review, []).append(unit)
        return {
            aspect: [
                _Mention(review, self._feeling(said), tuple(u.id for u in said)) for review, said in reviews.items()
            ]
            for aspect, reviews in by_review.items()
        }

    def _feeling(self, sentences: list[EvidenceUnit]) -> int:
        score = sum(self.polarity(u.text) for u in sentences) / len(sentences)
        if abs(score) > NEUTRAL:
            return 1 if score > 0 else -1
        stars = sentences[0].rating
        if stars is None or 2 < stars < 4:
            return 0
        return 1 if stars >= 4 else -1
