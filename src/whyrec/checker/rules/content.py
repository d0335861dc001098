"""Content: a claim must say something the evidence could check. "It is really something", "a great product", "The
Olive Garden Gift Card is a gift" (only the item's own name), "It is a magazine" (only what kind of thing it is) are
never supported, whatever they cite."""

from __future__ import annotations

from whyrec.checker.lexicon import GENERIC_PRAISE
from whyrec.checker.patterns import (
    ABOUT_ONE_REVIEWER,
    ABOUT_REVIEWERS,
    ABOUT_USER,
    COST_WORDS,
    FIRST_PERSON,
    KIND_ONLY,
    MARKUP,
)
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
        # the one content word is the head noun, "a [great] *magazine*" (not a modifier: "a *Visa* card")
        last = view.frame.tokens[-1].stem if view.frame.tokens else ""
        kind_only = words == {last} and KIND_ONLY.match(frame) is not None and not attributed
        if words and not kind_only:
            return None
        costs = any(t.word in COST_WORDS for t in view.frame.tokens)
        if costs and any(n.unit == "money" for n in view.frame.numbers):
            return None  # "It costs $25" (the title's amount): the numbers rules check it against the seller's price
        if judgements(view.frame.text):
            return None  # "It costs nothing", "it is cheap": the price rules check the judgement
        if kind_only:
            return Decision("unsupported", "nothing to check: the claim only says what kind of thing the item is")
        return Decision("unsupported", "nothing to check: the claim only names the item or praises it in general")


class NotFirstPerson:
    """A reason about items speaks to the shopper; a claim that says "I" or "my" outside quotation marks tells a
    reviewer's words as its own, and whose experience it is can no longer be checked."""

    name = "first_person"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not ctx.is_catalogue or (said := FIRST_PERSON.search(unquoted(view.claim.text))) is None:
            return None
        return Decision(
            "unsupported",
            f"speaks in the first person ({said.group()!r}): a reviewer's words told as the reason's own; quote them "
            "or tell them as the reviewer's",
        )


class NoMarkup:
    """A claim in its own words is plain text: markup in it ("<script>alert(1)</script>") is what a hostile review
    asks the model to write, and no evidence backs it, whatever the words around it say. A quote may hold markup: it
    is checked word for word, and shown as text."""

    name = "no_markup"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if (found := MARKUP.search(unquoted(view.claim.text))) is None:
            return None
        return Decision("unsupported", f"carries markup ({found.group()!r}): a reason is plain text")
