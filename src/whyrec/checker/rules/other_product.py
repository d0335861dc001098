"""This item, not another: a review sentence about a product the reviewer compares this one with ("the M-Audio one
is better", "my old Shure sounds warmer", "Men's Health is boring", or "so much better" right after a sentence that
names the other product) supports nothing about this item."""

from __future__ import annotations

from functools import lru_cache

from whyrec.checker.analysis import Analysed, analyse, names
from whyrec.checker.lexicon import GENERIC_PRAISE
from whyrec.checker.patterns import COMPARISON, NOT_PRODUCTS, OTHER_OWNED
from whyrec.checker.rules.base import ClaimView, Context, Decision, whole
from whyrec.checker.rules.support import coverage_of
from whyrec.knowledge.sentiment import sentiment_words
from whyrec.knowledge.text import STOPWORDS
from whyrec.schema import Evidence


@lru_cache(maxsize=1 << 14)
def product_names(text: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The product names a text may use: capitalised words inside it, and a capitalised run of two or more words
    that opens it ("Men's Health is …"); each as the stems of its words. Also the stems of the opening run alone."""
    analysed = analyse(text)
    found = [t.stem for t in names(analysed)]
    opening: list[str] = []
    for token in analysed.tokens:
        if not text[token.start : token.start + 1].isupper() or token.word in STOPWORDS:
            break
        opening.append(token.stem)
    sentiment = sentiment_words()
    ordinary = any(t.word in sentiment or t.word in GENERIC_PRAISE for t in analysed.tokens[: len(opening)])
    run = frozenset(opening) if len(opening) >= 2 and not ordinary else frozenset()
    return tuple(dict.fromkeys([*found, *run])), run


def _others(text: str, ctx: Context) -> list[str]:
    known = ctx.item_names
    found, _ = product_names(text)
    return [s for s in found if s not in known and s not in NOT_PRODUCTS]


def about_other_product(unit: Evidence, ctx: Context) -> str | None:
    """Why a review sentence is about another product than this item, or None."""
    if unit.speaker != "reviewer":
        return None
    text = ctx.analysed(unit).text
    others = _others(text, ctx)
    compares = COMPARISON.search(text) is not None
    if others and compares:
        return f"it compares this item with {_said(text, others[0])}"
    _, opening = product_names(text)
    if opening and set(others) & opening:
        return f"it is about {_said(text, others[0])}"
    if owned := OTHER_OWNED.search(text):
        return f"it is about {owned.group()!r}"
    before = unit.context.before if unit.context else None
    if compares and before and (named := _others(before, ctx)):
        return f"it compares with {_said(before, named[0])}, named in the sentence before"
    return None


def _said(text: str, stem_: str) -> str:
    analysed: Analysed = analyse(text)
    word = next((t for t in analysed.tokens if t.stem == stem_), None)
    return repr(text[word.start : word.end]) if word else repr(stem_)


class AboutThisItem:
    name = "other_product"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not ctx.is_catalogue:
            return None
        flagged = [(e, why) for e in view.cited if (why := about_other_product(e, ctx)) is not None]
        if not flagged:
            return None
        claim_names = set(product_names(view.frame.text)[0])
        flagged = [(e, why) for e, why in flagged if not claim_names & set(_others(ctx.analysed(e).text, ctx))]
        if not flagged:
            return None  # the claim itself names the other product: it reports the comparison
        rest = [e for e in view.cited if e not in {f for f, _ in flagged}]
        if rest and coverage_of(view, ctx, rest) >= ctx.support.overlap:
            return None  # what the claim says stands on the other units it cites
        unit, why = flagged[0]
        return Decision("unsupported", f"{unit.id} is about another product: {why}", (whole(unit),))
