"""Negation and antonym flips: a claim that says what its evidence says, but negated ("does not expire" against
"expires") or with a word turned into its opposite ("arrived late" against "arrived quickly"), is contradicted."""

from __future__ import annotations

from whyrec.checker.analysis import NEGATION_CUES, Token
from whyrec.checker.lexicon import antonyms
from whyrec.checker.rules.base import ClaimView, Context, Decision, span


def _is_cue(word: str) -> bool:
    return word in NEGATION_CUES or word.endswith("n't")


def _near_cue(tokens: tuple[Token, ...], index: int) -> bool:
    """A negation cue just before the word, or just after it ("Parking: none", "Expiration: never")."""
    before = tokens[max(0, index - 3) : index]
    after = tokens[index + 1 : index + 3]
    return any(_is_cue(t.word) for t in (*before, *after))


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
        claim_has_cue = view.frame.has_negation()
        for index, token in enumerate(evidence.tokens):
            if token.stem not in words:
                continue
            if token.negated and token.stem in claim_pos and not claim_has_cue:
                flipped = "the evidence negates"
            elif token.stem in claim_neg and not token.negated and not _near_cue(evidence.tokens, index):
                if token.stem in evidence.negated_stems():
                    continue  # said both ways in the evidence
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
