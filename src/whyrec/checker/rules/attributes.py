"""Attribute values: a colour, material, card network, format or device the claim names must be the one the evidence
names (the cited units and the item's specs); a name the evidence never mentions is not backed by it."""

from __future__ import annotations

from whyrec.checker.analysis import Token
from whyrec.checker.lexicon import ATTRIBUTES
from whyrec.checker.rules.base import ClaimView, Context, Decision, span
from whyrec.schema import Evidence, EvidenceSpan

_NOT_NAMES = frozenset("i i'm i've you it its the a an this that they he she we".split())


def _values(units: list[Evidence], ctx: Context, vocabulary: frozenset[str]) -> list[tuple[str, EvidenceSpan]]:
    return [(t.word, span(u, t.start, t.end)) for u in units for t in ctx.analysed(u).tokens if t.word in vocabulary]


def _names(view: ClaimView) -> list[Token]:
    """Capitalised words inside the claim (not the first word): brands, places, people, products."""
    tokens = view.frame.tokens
    text = view.frame.text
    names = []
    for i, token in enumerate(tokens):
        if i == 0 or not token.word[0].isalpha() or token.word in _NOT_NAMES:
            continue
        previous = text[: token.start].rstrip()
        if previous.endswith((".", "!", "?", ":", '"')):
            continue  # starts a sentence or a quotation
        if text[token.start].isupper():
            names.append(token)
    return names


class AttributesAgree:
    name = "attributes_agree"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        claimed = {t.word: t for t in view.frame.tokens if not t.negated}
        cited_words = {t.word for e in view.cited for t in ctx.analysed(e).tokens}
        title_words = {t.word for e in ctx.units if e.field == "title" for t in ctx.analysed(e).tokens}
        specs = [e for e in ctx.units if e.kind in ("spec", "description")] if ctx.is_catalogue else []
        for attribute, vocabulary in ATTRIBUTES.items():
            named = sorted(w for w in claimed if w in vocabulary and w not in cited_words and w not in title_words)
            if not named:
                continue
            others = [(v, s) for v, s in _values(view.cited + specs, ctx, vocabulary) if v not in named]
            word = named[0]
            if others:
                stated = ", ".join(sorted({ctx.evidence[s.unit_id].text[s.start : s.end] for _, s in others}))
                detail = f"{attribute} {word!r} differs from the evidence ({stated})"
                return Decision("contradicted", detail, 0.0, tuple(s for _, s in others))
            if ctx.is_catalogue:
                return Decision("unsupported", f"no evidence names the {attribute} {word!r}", 0.0)
        # a name must be in what the claim cites; an uncited claim's names anywhere in the evidence
        known = ctx.all_stems if view.auto_cited else view.support_stems(ctx) | ctx.title_stems
        unknown = [t for t in _names(view) if t.stem not in known and len(t.word) > 1]
        if unknown:
            return Decision("unsupported", f"the evidence never mentions {unknown[0].word!r}", 0.0)
        return None
