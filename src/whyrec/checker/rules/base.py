"""What every rule sees and returns.

A rule looks at one claim (`ClaimView`: its text analysed, the evidence it cites) in the context of all the evidence
for the pair (`Context`) and either decides the verdict (`Decision`) or passes (None) to the next rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

from whyrec.checker.analysis import Analysed, analyse, called_by, names, stem, without_instructions
from whyrec.checker.config import SupportThresholds, Thresholds
from whyrec.schema import Claim, Evidence, EvidenceSpan, VerdictLabel

QUOTE = re.compile(r'"([^"]+)"|“([^”]+)”')
Vectors = np.ndarray
EmbedFn = Callable[[Sequence[str]], Vectors]


@dataclass(frozen=True)
class Decision:
    """A rule's verdict on one atom: the label, why, and the evidence spans behind it. The verdict's score is not the
    rule's: it is always the share of the atom's content its cited evidence backs (see the engine)."""

    label: VerdictLabel
    detail: str
    spans: tuple[EvidenceSpan, ...] = ()


def unquoted(text: str) -> str:
    """The claim in its own words: quoted text is blanked (same length, so offsets still hold)."""
    return QUOTE.sub(lambda m: " " * len(m.group()), text)


def quotes(text: str) -> list[str]:
    return [(m.group(1) or m.group(2)).rstrip("…").strip() for m in QUOTE.finditer(text)]


@dataclass
class Context:
    """All the evidence for the pair, analysed once, and the thresholds and embedder the rules share."""

    evidence: dict[str, Evidence]
    thresholds: Thresholds
    embed: EmbedFn | None = None
    _analysed: dict[str, Analysed] = field(default_factory=dict)

    def analysed(self, unit: Evidence) -> Analysed:
        found = self._analysed.get(unit.id)
        if found is None:
            found = self._analysed[unit.id] = analyse(without_instructions(unit.text))
        return found

    @cached_property
    def units(self) -> list[Evidence]:
        """The evidence in a fixed order (by id), so that the order it came in never changes a verdict."""
        return sorted(self.evidence.values(), key=lambda e: e.id)

    @cached_property
    def titles(self) -> list[Analysed]:
        """The item's names: the seller's title, and the quoted name of whyrec's unit of what reviewers call an item
        the seller gave no title (only the name: "reviewers", "call" and the counts name nothing)."""
        seller = [self.analysed(e) for e in self.units if e.kind == "spec" and e.field == "title"]
        named = [analyse(q) for e in self.units if e.kind == "signal" and e.field == "title" for q in quotes(e.text)]
        return seller + named

    @cached_property
    def title_stems(self) -> frozenset[str]:
        return frozenset().union(*(t.content for t in self.titles))

    @cached_property
    def category_units(self) -> list[Evidence]:
        return [e for e in self.units if e.kind == "spec" and e.field == "category"]

    @cached_property
    def naming_stems(self) -> frozenset[str]:
        """Words that only name the item: its title, its category, and the noun reviewers call it by ("this
        *magazine*", said by at least two reviewers), for an item whose title is only its id."""
        named = frozenset().union(*(self.analysed(c).content for c in self.category_units)) - {stem("category")}
        callers: dict[str, set[str]] = {}
        for unit in self.reviews():
            for noun in called_by(self.analysed(unit).text):
                callers.setdefault(noun, set()).add(_reviewer(unit))
        called = sorted(callers.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        kind = frozenset([called[0][0]]) if called and len(called[0][1]) >= 2 else frozenset()
        return self.title_stems | named | kind

    @cached_property
    def own_name_stems(self) -> frozenset[str]:
        """The content words of the item's title that its category does not share: "IHOP" of "IHOP Gift Card"."""
        kind = frozenset().union(*(self.analysed(c).stems for c in self.category_units))
        return frozenset(s for s in self.title_stems - kind if not s.isdigit())

    @cached_property
    def item_names(self) -> frozenset[str]:
        """The stems a name of this item may use: every word of the seller's units, and the capitalised words that
        at least two reviewers in the evidence use (an item known only by its id is named by its reviewers)."""
        seller = frozenset().union(*(self.analysed(e).stems for e in self.units if e.speaker == "seller"))
        users: dict[str, set[str]] = {}
        for unit in self.reviews():
            for token in names(self.analysed(unit)):
                users.setdefault(token.stem, set()).add(_reviewer(unit))
        return seller | self.naming_stems | frozenset(s for s, who in users.items() if len(who) >= 2)

    @cached_property
    def title_numbers(self) -> frozenset[float]:
        return frozenset(n.value for t in self.titles for n in t.numbers)

    @cached_property
    def support(self) -> SupportThresholds:
        """The support thresholds for this kind of evidence: items (short, cited units) or a plain document."""
        return self.thresholds.support if self.is_catalogue else self.thresholds.support_document

    @cached_property
    def all_stems(self) -> frozenset[str]:
        return frozenset().union(*(self.analysed(e).stems for e in self.units))

    @cached_property
    def is_catalogue(self) -> bool:
        """Evidence about items (specs, reviews, a user's history), not a plain document: the subject rules apply."""
        return any(e.item_id for e in self.units)

    def reviews(self) -> list[Evidence]:
        return [e for e in self.units if e.speaker == "reviewer"]

    def history(self) -> list[Evidence]:
        return [e for e in self.units if e.speaker == "user"]


@dataclass
class ClaimView:
    """One claim as the rules read it."""

    claim: Claim
    cited: list[Evidence]
    auto_cited: bool = False  # the claim cited nothing and is checked against the best-matching evidence
    own: str | None = None  # for one atom of several: the words it adds to what it shares ("waterproof")

    def own_content(self, ctx: Context) -> frozenset[str]:
        """The content stems of the atom's own words (all of its content when it shares none)."""
        return self.content(ctx) & analyse(self.own).content if self.own is not None else self.content(ctx)

    @cached_property
    def frame(self) -> Analysed:
        """The claim's own words (quotes blanked)."""
        return analyse(unquoted(self.claim.text))

    @cached_property
    def quotes(self) -> list[str]:
        return quotes(self.claim.text)

    def content(self, ctx: Context) -> frozenset[str]:
        """The content stems the evidence must back. Naming the item (its title, its category) is not a claim: those
        words support nothing, and a claim made of them alone is `no_content`."""
        numbers = {f"{n.value:g}" for n in self.frame.numbers if n.value not in ctx.title_numbers}
        return (self.frame.content - ctx.naming_stems) | numbers  # "5 stars": the 5 is content, however short

    def pool(self, ctx: Context) -> list[Evidence]:
        """Where what the claim says is looked for: what it cites, or, for an uncited claim, all the evidence (a
        sentence of a summary often fuses several sentences of its document)."""
        return ctx.units if self.auto_cited else self.cited

    def support_stems(self, ctx: Context) -> frozenset[str]:
        return frozenset().union(*(ctx.analysed(e).stems for e in self.cited))

    def best_aligned(self, ctx: Context) -> tuple[Evidence, float] | None:
        """The cited unit sharing most of the claim's content, and that share."""
        words = self.content(ctx)
        if not words or not self.cited:
            return None
        scored = [(len(words & ctx.analysed(e).stems) / len(words), e.id, e) for e in self.cited]
        share, _, unit = max(scored, key=lambda s: (s[0], _reverse(s[1])))
        return unit, share


def _reviewer(unit: Evidence) -> str:
    """Who wrote a review sentence (one reviewer's repeat reviews count once: the user id has no repeat suffix)."""
    return unit.user_id or unit.id


def _reverse(unit_id: str) -> tuple[int, ...]:
    """A key that makes `max` prefer the smallest id on ties."""
    return tuple(-ord(c) for c in unit_id)


def span(unit: Evidence, start: int, end: int) -> EvidenceSpan:
    return EvidenceSpan(unit_id=unit.id, start=start, end=end)


def whole(unit: Evidence) -> EvidenceSpan:
    return EvidenceSpan(unit_id=unit.id, start=0, end=len(unit.text))


class Rule(Protocol):
    name: str

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None: ...
