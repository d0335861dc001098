"""Superlatives and guarantees ("the best", "always", "never breaks") need evidence that says as much."""

from __future__ import annotations

from whyrec.checker.analysis import stem
from whyrec.checker.lexicon import NEVER, SUPERLATIVE_BACKING, SUPERLATIVES
from whyrec.checker.rules.base import ClaimView, Context, Decision
from whyrec.checker.rules.shares import backed_shares


class SuperlativeBacked:
    name = "superlative_backed"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        support = view.support_stems(ctx) | backed_shares(view, ctx)  # "most" of a count, checked by shares_match
        tokens = view.frame.tokens
        for i, token in enumerate(tokens):
            if token.word in ("least", "most") and i and tokens[i - 1].word == "at":
                continue  # "at least $50" is a bound, checked by numbers_match
            backing = {stem(w) for w in SUPERLATIVE_BACKING.get(token.word, ())} | {token.stem}
            if token.word in SUPERLATIVES and not backing & support:
                return Decision("unsupported", f"{token.word!r} claims more than the cited evidence says")
            if token.word == NEVER and NEVER not in support:
                # "never expires" is backed by "no expiration" or "does not expire": the same words, negated
                negated = {t.stem for t in view.frame.tokens if t.negated}
                backed = any(negated & ctx.analysed(e).negated_stems(window=6) for e in view.cited)
                if not backed:
                    return Decision("unsupported", "'never' claims more than the cited evidence says")
        return None
