"""Content: a claim must say something the evidence could check. "It is really something", "a great product", "The
Olive Garden Gift Card is a gift" (only the item's own name) are never supported, whatever they cite."""

from __future__ import annotations

from whyrec.checker.lexicon import GENERIC_PRAISE
from whyrec.checker.patterns import ABOUT_ONE_REVIEWER, ABOUT_REVIEWERS, ABOUT_USER, COST_WORDS
from whyrec.checker.rules.base import ClaimView, Context, Decision, unquoted
from whyrec.checker.rules.price import judgements


class ContentPresent:
    name = "no_content"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if view.quotes:
            return None  # a quote is checked word for word
        frame = unquoted(view.claim.text)
        words = view.content(ctx)
        # who feels it is part of a claim about reviewers or the user: "reviewers love it" is checked against them
        attributed = ABOUT_USER.search(frame) or ABOUT_REVIEWERS.search(frame) or ABOUT_ONE_REVIEWER.search(frame)
        if not attributed:
            words = words - {t.stem for t in view.frame.tokens if t.word in GENERIC_PRAISE}
        if words:
            return None
        costs = any(t.word in COST_WORDS for t in view.frame.tokens)
        if costs and any(n.unit == "money" for n in view.frame.numbers):
            return None  # "It costs $25" (the title's amount): the numbers rules check it against the seller's price
        if judgements(view.frame.text):
            return None  # "It costs nothing", "it is cheap": the price rules check the judgement
        return Decision("unsupported", "nothing to check: the claim only names the item or praises it in general")
