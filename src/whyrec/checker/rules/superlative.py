"""Superlatives and guarantees ("the best", "always", "never breaks") need evidence that says as much."""

from __future__ import annotations

from whyrec.checker.lexicon import NEVER, SUPERLATIVES
from whyrec.checker.rules.base import ClaimView, Context, Decision


class SuperlativeBacked:
    name = "superlative_backed"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        support = view.support_stems(ctx)
        for token in view.frame.tokens:
            if token.word in SUPERLATIVES and token.stem not in support:
                return Decision("unsupported", f"{token.word!r} claims more than the cited evidence says")
            if token.word == NEVER and NEVER not in support:
                # "never expires" is backed by "no expiration" or "does not expire": the same words, negated
                negated = {t.stem for t in view.frame.tokens if t.negated}
                backed = any(negated & ctx.analysed(e).negated_stems() for e in view.cited)
                if not backed:
                    return Decision("unsupported", "'never' claims more than the cited evidence says")
        return None
