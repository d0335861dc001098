"""Negation and antonym flips: a claim that says what its evidence says, but negated ("does not expire" against
"expires") or with a word turned into its opposite ("arrived late" against "arrived quickly"), is contradicted."""

from __future__ import annotations

from whyrec.checker.lexicon import antonyms
from whyrec.checker.rules.base import ClaimView, Context, Decision, span


class NegationFlip:
    name = "negation_flip"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        aligned = view.best_aligned(ctx)
        if aligned is None or aligned[1] < ctx.thresholds.flips.align:
            return None
        unit, share = aligned
        evidence = ctx.analysed(unit)
        words = view.content(ctx)
        claim_neg = {t.stem for t in view.frame.tokens if t.negated} & words
        claim_pos = {t.stem for t in view.frame.tokens if not t.negated} & words - claim_neg
        for token in evidence.tokens:
            if token.stem not in words:
                continue
            # a flip only when one side has no negation at all: "no parking" and "Parking: none" agree
            if token.negated and token.stem in claim_pos and not view.frame.has_negation():
                flipped = "the evidence negates"
            elif not token.negated and token.stem in claim_neg and not evidence.has_negation():
                flipped = "the claim negates"
            else:
                continue
            return Decision("contradicted", f"{flipped} {token.word!r}", share, (span(unit, token.start, token.end),))
        return None


class AntonymFlip:
    name = "antonym_flip"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        table = antonyms()
        words = view.content(ctx)
        backed = view.support_stems(ctx)  # a word some cited unit says is not flipped by another that says otherwise
        for unit in view.cited:
            evidence = ctx.analysed(unit)
            stems = evidence.stems
            for token in view.frame.tokens:
                opposites = table.get(token.stem)
                if not opposites or token.stem in backed:
                    continue
                rest = words - {token.stem}
                if rest and len(rest & stems) / len(rest) < ctx.thresholds.flips.align:
                    continue
                for other in evidence.tokens:
                    if other.stem in opposites and other.negated == token.negated:
                        return Decision(
                            "contradicted",
                            f"{token.word!r} is the opposite of {other.word!r} in the evidence",
                            0.0,
                            (span(unit, other.start, other.end),),
                        )
        return None
