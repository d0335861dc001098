"""Price judgements: a claim that calls the item free, cheap, expensive, good value or discounted needs a cited unit
that says as much, in a word of the same family; one that says the item is free is contradicted by a cited price above
zero. "Free" that names something else ("stress free", "risk-free", "free shipping", "feel free") judges no price."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from whyrec.checker.analysis import Number, Token, analyse, is_cue, stem
from whyrec.checker.lexicon import (
    FREE_IDIOMS,
    FREE_LEADS,
    FREE_OTHER_THINGS,
    FREE_TO,
    PRICE_BACKING,
    PRICE_JUDGEMENTS,
)
from whyrec.checker.patterns import ABOUT_ONE_REVIEWER, ABOUT_REVIEWERS, COST_WORDS
from whyrec.checker.rules.base import ClaimView, Context, Decision, span
from whyrec.knowledge.text import STOPWORDS
from whyrec.schema import Evidence, EvidenceSpan

_OPPOSITE = {"cheap": "expensive", "expensive": "cheap"}
_BE = frozenset("is are was were be been being am remain remains stay stays become becomes".split())
# Phrases that say what the item itself costs (with "X is free"): a cited price above zero contradicts them.
_OF_ITEM = frozenset({"for free", "free of charge", "costs nothing", "cost nothing", "at no cost", "at no charge"})
_PRICE_STEMS = frozenset(stem(w) for w in "price cost pay paid charge".split())
_BREAK = re.compile(r"[,;:.!?()\"“”]")
_BREAK_WORDS = frozenset("but although though however while whereas".split())
_NEGATION_WINDOW = 3  # a cue this many words before a judgement (same clause) negates it: "is not that expensive"
_THAN_NUMBER = re.compile(r"[\s-]+than\s+(?:\$|\d)")  # "cheaper than $30" is a bound, for numbers_match


def _pattern(phrases: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = (re.escape(p).replace(r"\ ", r"[\s-]+") for p in sorted(phrases, key=len, reverse=True))
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", re.I)


_PATTERNS = {family: _pattern(phrases) for family, phrases in PRICE_JUDGEMENTS.items()}
_PERCENT_OFF = re.compile(r"(?<![\w.])(?:\d+(?:\.\d+)?\s?(?:%|percent)|\$\s?\d[\d,]*(?:\.\d+)?)\s+off\b", re.I)


@dataclass(frozen=True, slots=True)
class Judgement:
    family: str  # a key of PRICE_JUDGEMENTS
    negated: bool
    of_item: bool  # says what the item itself costs ("is free", "for free"), not what a thing it comes with costs
    start: int
    end: int

    @property
    def key(self) -> tuple[str, bool]:
        """Family and polarity, "not cheap" read as "expensive" and "not expensive" as "cheap"."""
        if self.negated and self.family in _OPPOSITE:
            return _OPPOSITE[self.family], False
        return self.family, self.negated


def _near(text: str, tokens: tuple[Token, ...], index: int, step: Literal[-1, 1], count: int) -> list[Token]:
    """Up to `count` tokens before (step -1, nearest first) or after (step 1) `tokens[index]`, in its clause."""
    found: list[Token] = []
    at = index
    while len(found) < count and 0 <= at + step < len(tokens):
        left, right = (tokens[at + step], tokens[at]) if step < 0 else (tokens[at], tokens[at + step])
        neighbour = tokens[at + step]
        if _BREAK.search(text[left.end : right.start]) or neighbour.word in _BREAK_WORDS:
            break
        found.append(neighbour)
        at += step
    return found


def _free_sense(text: str, tokens: tuple[Token, ...], index: int) -> Literal["item", "price", "other"]:
    """What "free" at `tokens[index]` says: that the item costs nothing ("is free"), that something costs nothing
    ("a free gift"), or something else ("stress free", "risk-free", "free shipping", "free of fees", "free time")."""
    before = _near(text, tokens, index, -1, 4)
    after = _near(text, tokens, index, 1, 3)
    first, second = (after[0].word if after else ""), (after[1].word if len(after) > 1 else "")
    if first == "of":
        return "item" if second in ("charge", "cost") else "other"  # "a card free of charge", not "free of fees"
    if before:  # the word just before it
        gap, word = text[before[0].end : tokens[index].start], before[0].word
        if "-" in gap and word not in ("cost", "charge"):
            return "other"  # "risk-free", "hands-free" (but "cost-free")
        if word.isalpha() and word not in STOPWORDS and word not in FREE_LEADS and not is_cue(word):
            return "other"  # "stress free", "gluten free", "feel free"
    if (first == "to" and second not in FREE_TO) or first in FREE_IDIOMS:
        return "other"  # "free to choose", "free time", "free from"
    for token in after:  # "free shipping", "free one-day shipping"
        if token.word in STOPWORDS:
            break
        if token.word in FREE_OTHER_THINGS:
            return "other"
    lead = next((t for t in before if t.word in _BE or t.word not in FREE_LEADS), None)  # "is completely free"
    predicative = lead is not None and (lead.word in _BE or lead.word.endswith(("'s", "'re")) or lead.word == "for")
    return "item" if predicative and (not after or after[0].word in STOPWORDS) else "price"


@lru_cache(maxsize=1 << 16)
def judgements(text: str) -> tuple[Judgement, ...]:
    """The price judgements a text makes, in order."""
    analysed = analyse(text)
    tokens = analysed.tokens
    starts = [t.start for t in tokens]
    found: list[Judgement] = []
    matches = [(family, m) for family, pattern in _PATTERNS.items() for m in pattern.finditer(text)]
    matches += [("discount", m) for m in _PERCENT_OFF.finditer(text)]
    for family, match in sorted(matches, key=lambda fm: (fm[1].start(), fm[0])):
        index = bisect_left(starts, match.start())
        if index >= len(tokens):
            continue
        phrase = " ".join(match.group().lower().replace("-", " ").split())
        of_item = phrase in _OF_ITEM
        if family in _OPPOSITE and _THAN_NUMBER.match(text, match.end()):
            continue
        if family == "free":
            if any(t.word in FREE_OTHER_THINGS for t in _near(text, tokens, index, -1, 4)):
                continue  # "no charge" / "for free" said of shipping
            free_at = next((i for i in range(index, len(tokens)) if tokens[i].word == "free"), None)
            if free_at is not None and tokens[free_at].start < match.end():
                sense = _free_sense(text, tokens, free_at)
                if sense == "other":
                    continue
                of_item = of_item or sense == "item"
        negated = any(is_cue(t.word) for t in _near(text, tokens, index, -1, _NEGATION_WINDOW))
        found.append(Judgement(family, negated, of_item, match.start(), match.end()))
    return tuple(found)


def _prices(unit: Evidence, ctx: Context) -> list[Number]:
    """The prices a unit states: amounts of money in the item's price field or next to "price", "cost", "paid"."""
    analysed = ctx.analysed(unit)
    if unit.field != "price" and not analysed.stems & _PRICE_STEMS:
        return []
    return [n for n in analysed.numbers if n.unit == "money"]


def _names_the_item(text: str, judgement: Judgement, ctx: Context) -> bool:
    """A capitalised word inside the sentence that the title also has: part of the item's name ("Free Fire")."""
    words = text[judgement.start : judgement.end]
    opening = not text[: judgement.start].strip() or text[: judgement.start].rstrip().endswith((".", "!", "?", ":"))
    stems = {stem(w.lower()) for w in re.findall(r"[A-Za-z]+", words)}
    return words[:1].isupper() and not opening and stems <= ctx.title_stems


def _said(text: str, judgement: Judgement) -> str:
    return ("not " if judgement.negated else "") + text[judgement.start : judgement.end]


def backed_judgement_stems(view: ClaimView, ctx: Context) -> frozenset[str]:
    """The stems of the claim's price judgements that a cited unit makes in a word of the same family ("at a
    *discount*" against "20% off"): backed, though the words differ."""
    said = [j for unit in view.pool(ctx) for j in judgements(ctx.analysed(unit).text)]
    text = view.frame.text
    out: set[str] = set()
    for judgement in judgements(text):
        family, negated = judgement.key
        if any(j.key[1] == negated and j.key[0] in PRICE_BACKING[family] for j in said):
            out |= {t.stem for t in analyse(text).tokens if judgement.start <= t.start < judgement.end}
    return frozenset(out)


class PriceJudgementBacked:
    name = "price_judgement_backed"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        text = view.frame.text
        claimed = [j for j in judgements(text) if not _names_the_item(text, j, ctx)]
        if not claimed:
            return None
        pool = view.pool(ctx)
        said = [(unit, j) for unit in pool for j in judgements(ctx.analysed(unit).text)]
        prices = [(unit, n) for unit in pool for n in _prices(unit, ctx)]
        for judgement in claimed:
            family, negated = judgement.key
            backing = [u for u, j in said if j.key[1] == negated and j.key[0] in PRICE_BACKING[family]]
            if family == "free":  # "Price: $0.00" says free; "Price: $25.00" says not free
                backing += [u for u, n in prices if (n.value > 0) == negated]
            if backing:
                continue
            words = _said(text, judgement)
            against = [(u, j) for u, j in said if j.key in ((family, not negated), (_OPPOSITE.get(family), False))]
            if against:
                unit, other = against[0]
                stated = _said(ctx.analysed(unit).text, other)
                spans: tuple[EvidenceSpan, ...] = (span(unit, other.start, other.end),)
                return Decision("contradicted", f"{words!r} against {stated!r} in the evidence", spans)
            charged = [(u, n) for u, n in prices if n.value > 0]
            if family == "free" and not negated and judgement.of_item and charged:
                stated = ", ".join(sorted({u.text[n.start : n.end] for u, n in charged}))
                spans = tuple(span(u, n.start, n.end) for u, n in charged)
                detail = f"{words!r}, but the cited evidence gives a price ({stated})"
                return Decision("contradicted", detail, spans)
            examples = ", ".join(PRICE_JUDGEMENTS[family][:3])
            return Decision(
                "unsupported",
                f"{words!r} judges the price and no cited evidence says so (as {examples}, …)",
            )
        return None


_COST_STEMS = frozenset(stem(w) for w in COST_WORDS)


class ItemPriceAgrees:
    """A claim that says what the item costs ("it costs $1", "priced at $5") agrees with the seller's price when the
    pair's evidence holds one, whatever it cites: a review that states another price ("e1 (seller, price): $1.00"
    typed into a review, a sale someone saw) does not make it the item's price. A claim that gives the price as a
    reviewer's word ("a reviewer says it cost $20 on sale") is left to the other rules."""

    name = "item_price_agrees"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if any(e.kind == "spec" and e.field == "price" for e in view.cited):
            return None  # checked against the cited price by numbers_match
        claimed = [n for n in view.frame.numbers if n.unit == "money"]
        if not claimed or not ({t.stem for t in view.frame.tokens} & _COST_STEMS):
            return None
        frame = view.frame.text
        if ABOUT_ONE_REVIEWER.search(frame) or ABOUT_REVIEWERS.search(frame):
            return None
        prices = [
            (n, e)
            for e in ctx.units
            if e.kind == "spec" and e.field == "price"
            for n in ctx.analysed(e).numbers
            if n.unit == "money"
        ]
        if not prices:
            return None
        for number in claimed:
            if not any(number.satisfied_by(price) for price, _ in prices):
                said = frame[number.start : number.end]
                stated = ", ".join(sorted({e.text for _, e in prices}))
                spans = tuple(span(e, n.start, n.end) for n, e in prices)
                return Decision("contradicted", f"{said!r} is not the seller's price ({stated})", spans)
        return None
