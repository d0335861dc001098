"""Support: enough of the claim's content words are in what it cites, or, for a claim in other words, its embedding
is close to a cited unit's. This rule always decides; it runs last."""

from __future__ import annotations

import numpy as np

from whyrec.checker.analysis import is_content
from whyrec.checker.patterns import HISTORY_IMPLIES
from whyrec.checker.rules.base import ClaimView, Context, Decision, span, unquoted
from whyrec.checker.rules.numbers import backed_numbers
from whyrec.checker.rules.price import backed_judgement_stems
from whyrec.checker.rules.shares import backed_shares
from whyrec.checker.words import lemmas, names_a_thing
from whyrec.schema import Evidence


def supporting_stems(view: ClaimView, ctx: Context) -> frozenset[str]:
    """What the evidence backs: the cited units' stems, the claim's numbers and quantifiers ("most") that the cited
    values make true, and for a unit of the user's history that the user had the item before."""
    history = HISTORY_IMPLIES if any(e.speaker == "user" for e in view.cited) else frozenset()
    said = view.support_stems(ctx)
    numbers = backed_numbers(view, ctx) | backed_shares(view, ctx)
    return said | _derived(view, ctx, said) | numbers | backed_judgement_stems(view, ctx) | history


MIN_ROOT = 5  # a stem this long that begins another names the same thing: "deliv" of "delivered" and "deliveri"


def _derived(view: ClaimView, ctx: Context, said: frozenset[str]) -> frozenset[str]:
    """The claim's content stems that a cited stem derives from, or derives: "delivered" from "E-mail Delivery"."""
    return frozenset(
        s
        for s in view.content(ctx) - said
        if len(s) >= MIN_ROOT and any(len(t) >= MIN_ROOT and (t.startswith(s) or _derives(s, t)) for t in said)
    )


def _derives(claimed: str, root: str) -> bool:
    """`claimed` is `root` with a suffix, but not one of degree: "freshest" is not backed by "fresh"."""
    return claimed.startswith(root) and claimed[len(root) :] not in ("r", "er", "ier", "st", "est", "iest")


def coverage(view: ClaimView, ctx: Context) -> float:
    """The share of the claim's content stems its cited evidence backs."""
    words = view.content(ctx)
    if not words:
        return 0.0  # nothing to check backs nothing (no_content decides such a claim first)
    return len(words & supporting_stems(view, ctx)) / len(words)


def coverage_of(view: ClaimView, ctx: Context, units: list[Evidence]) -> float:
    """The claim's coverage by some of its cited units only."""
    return coverage(ClaimView(claim=view.claim, cited=units, auto_cited=view.auto_cited), ctx)


def _invented(view: ClaimView, ctx: Context, absent: frozenset[str]) -> str:
    """The first word of the claim that names a thing or a quality its evidence never names, in any form
    ("garlic" butter against "cinnamon butter"); "" when every such word is backed."""
    if not absent or not ctx.is_catalogue:
        return ""
    tokens = [t for e in view.cited for t in ctx.analysed(e).tokens if is_content(t.word)]
    said = frozenset().union(*(lemmas(t.word) for t in tokens))
    words = list(dict.fromkeys(t.word for t in tokens))
    for token in view.frame.tokens:
        if token.stem not in absent or not names_a_thing(token.word) or lemmas(token.word) & said:
            continue
        if words and ctx.embed is not None:  # another word for it: "relatives" for "family" (close word vectors)
            vectors = ctx.embed([token.word, *words])
            if float(np.max(vectors[1:] @ vectors[0])) >= ctx.support.synonym:
                continue
        return token.word
    return ""


class ContentSupport:
    name = "content_support"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        limits = ctx.support
        words = view.content(ctx)
        backed = supporting_stems(view, ctx)
        share = len(words & backed) / len(words) if words else 0.0  # coverage(), with `backed` computed once
        spans = []
        for unit in view.cited:
            hit = ctx.analysed(unit).span_of(words)
            if hit is not None:
                spans.append(span(unit, *hit))
        own = view.own_content(ctx)
        own_share = len(own & backed) / len(own) if own else share
        invented = _invented(view, ctx, words - backed)
        if invented and share < 1:
            return Decision("unsupported", f"not in the evidence: {invented}", tuple(spans))
        if own_share < limits.overlap and share >= limits.overlap:
            # "The case is sturdy and [waterproof]": the shared words are backed, its own are not
            missing = ", ".join(t.word for t in view.frame.tokens if t.stem in own - backed)
            return Decision("unsupported", f"not in the evidence: {missing}", tuple(spans))
        if share >= limits.overlap:
            return Decision("supported", f"{share:.0%} of the claim's content words are in the evidence", tuple(spans))
        absent = words - backed
        missing = ", ".join(list(dict.fromkeys(t.word for t in view.frame.tokens if t.stem in absent))[:5])
        # similarity may confirm a claim that shares content words with what it cites, never one that shares none
        if share > 0 and share >= limits.overlap_floor and ctx.embed is not None and view.cited:
            vectors = ctx.embed([unquoted(view.claim.text), *(e.text for e in view.cited)])
            similarity = float(np.max(vectors[1:] @ vectors[0]))
            if similarity >= limits.embedding:
                return Decision(
                    "supported", f"close in meaning to the evidence (cosine {similarity:.2f})", tuple(spans)
                )
            return Decision("unsupported", f"not in the evidence: {missing} (cosine {similarity:.2f})", tuple(spans))
        return Decision("unsupported", f"not in the evidence: {missing}", tuple(spans))
