"""Attribute values: a colour, material, card network, format or device the claim names must be the one the evidence
names (the cited units and the item's specs); a name the evidence never mentions is not backed by it."""

from __future__ import annotations

from whyrec.checker.analysis import Token, names, stem
from whyrec.checker.lexicon import ATTRIBUTES
from whyrec.checker.rules.base import ClaimView, Context, Decision, span
from whyrec.schema import Evidence, EvidenceSpan

_PLACE_ALIASES = ((frozenset({"usa", "us", "america"}), frozenset({"unit", "state"})),)


def _words(text: str, tokens: tuple[Token, ...]) -> list[tuple[str, Token]]:
    """Words with "e-" prefixes joined ("e-mailed" → "emailed"), each with its (last) token."""
    out: list[tuple[str, Token]] = []
    for i, token in enumerate(tokens):
        if i and tokens[i - 1].word == "e" and text[tokens[i - 1].end : token.start] == "-":
            out[-1] = (
                "e" + token.word,
                Token("e" + token.word, stem("e" + token.word), tokens[i - 1].start, token.end, token.negated),
            )
            continue
        out.append((token.word, token))
    return out


def _values(units: list[Evidence], ctx: Context, vocabulary: frozenset[str]) -> list[tuple[str, EvidenceSpan]]:
    return [
        (w, span(u, t.start, t.end))
        for u in units
        for w, t in _words(u.text, ctx.analysed(u).tokens)
        if w in vocabulary
    ]


class AttributesAgree:
    name = "attributes_agree"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        claimed = {w: t for w, t in _words(view.frame.text, view.frame.tokens) if not t.negated}
        cited_stems = {t.stem for e in view.cited for _, t in _words(e.text, ctx.analysed(e).tokens)}
        title_stems = {
            t.stem for e in ctx.units if e.field == "title" for _, t in _words(e.text, ctx.analysed(e).tokens)
        }
        specs = [e for e in ctx.units if e.kind in ("spec", "description")] if ctx.is_catalogue else []
        for attribute, vocabulary in ATTRIBUTES.items():
            named = sorted(w for w, t in claimed.items() if w in vocabulary and t.stem not in cited_stems | title_stems)
            if not named:
                continue
            named_stems = {claimed[w].stem for w in named}
            others = [(v, s) for v, s in _values(view.cited + specs, ctx, vocabulary) if stem(v) not in named_stems]
            word = named[0]
            if others:
                stated = ", ".join(sorted({ctx.evidence[s.unit_id].text[s.start : s.end] for _, s in others}))
                detail = f"{attribute} {word!r} differs from the evidence ({stated})"
                return Decision("contradicted", detail, tuple(s for _, s in others))
            if ctx.is_catalogue:
                return Decision("unsupported", f"no evidence names the {attribute} {word!r}")
        # a name must be in what the claim cites; an uncited claim's names anywhere in the evidence
        known = ctx.all_stems if view.auto_cited else view.support_stems(ctx) | ctx.title_stems
        for short, long in _PLACE_ALIASES:  # "U.S." names the same place as "United States"
            if short & known or long <= known:
                known = known | short | long
        unknown = [t for t in names(view.frame) if t.stem not in known and len(t.word) > 1]
        if unknown:
            return Decision("unsupported", f"the evidence never mentions {unknown[0].word!r}")
        return None
