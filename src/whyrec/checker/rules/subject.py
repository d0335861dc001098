"""Who a claim is about. A claim about "you" is backed only by the user's own history; a claim about what reviewers
say is backed only by reviews, and "reviewers" (plural) by more than one reviewer."""

from __future__ import annotations

from whyrec.checker.analysis import names
from whyrec.checker.patterns import (
    ABOUT_ONE_REVIEWER,
    ABOUT_REVIEWERS,
    ABOUT_SELLER,
    ABOUT_USER,
    AGREE,
    GENERIC_YOU,
    OFTEN,
    THIS_ITEM,
    USER_FRAME,
    USERS_PAST,
)
from whyrec.checker.rules.base import ClaimView, Context, Decision, unquoted, whole
from whyrec.knowledge.signals import counts_people, shares, tied_to_user
from whyrec.schema import Evidence


class SubjectIsUser:
    name = "subject_is_user"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not ctx.is_catalogue:
            return None
        history = [e for e in view.cited if e.speaker == "user"]
        # whyrec's counts about this shopper ("… which you rated 5/5", "you wrote about the design") back a claim
        # about them, but speak of this item, so they lend it nothing of another's
        told = [*history, *(e for e in view.cited if tied_to_user(e))]
        if not ABOUT_USER.search(unquoted(view.claim.text)):
            # one atom of "IHOP food is cheaper than Outback's, you've noted" no longer says "you"; its history still
            # speaks of another item
            return self._history_lent_to_this_item(view, ctx, history, view.content(ctx) - USER_FRAME)
        if not told and self._generic(view):
            return None
        if not told:
            return Decision("unsupported", "a claim about the user must cite the user's own history")
        words = view.content(ctx) - USER_FRAME
        matching = [e for e in told if not words or words & ctx.analysed(e).stems]
        if not matching:
            return Decision("unsupported", "the user's history cited says nothing of this")
        said = frozenset().union(*(ctx.analysed(e).stems for e in told))
        unknown = [t.word for t in names(view.frame) if t.stem not in said]
        if unknown:  # "you have reviewed an Applebee's card" needs Applebee's in the history, not only in the title
            return Decision("unsupported", f"the user's history cited never mentions {unknown[0]!r}")
        if OFTEN.search(view.claim.text) and len(matching) < 2:
            return Decision("unsupported", "'often' needs more than one matching item in the user's history")
        return self._history_lent_to_this_item(view, ctx, history, words)

    @staticmethod
    def _history_lent_to_this_item(
        view: ClaimView, ctx: Context, history: list[Evidence], words: frozenset[str]
    ) -> Decision | None:
        """A unit of the user's history is about another item: what the user said of it ("I love their food for a
        quick lunch", of a Subway card) says nothing of this one ("you love *this* restaurant's food …")."""
        said_of_item = frozenset().union(*(ctx.analysed(e).stems for e in view.cited if e.speaker != "user"))
        capitalised = {t.stem for t in view.frame.tokens if view.frame.text[t.start].isupper()}
        points_at_this = THIS_ITEM.search(unquoted(view.claim.text)) is not None
        for unit in history:
            # the claim points at this item, or names it by a word of its own name the history unit does not say
            named = (capitalised & ctx.own_name_stems) - ctx.analysed(unit).stems
            if not named and not points_at_this:
                continue
            lent = [t.word for t in view.frame.tokens if t.stem in (words & ctx.analysed(unit).stems) - said_of_item]
            if lent:
                return Decision(
                    "unsupported",
                    f"{unit.id} is about another item ({unit.item_id}); what it says ({lent[0]!r}) is not said of "
                    "this one",
                    (whole(unit),),
                )
        return None

    @staticmethod
    def _generic(view: ClaimView) -> bool:
        """Whether "you" means any buyer: a generic construction, or cited seller text that itself says "you"."""
        text = unquoted(view.claim.text)
        if USERS_PAST.search(text):
            return False
        return bool(GENERIC_YOU.search(text)) or any(
            e.speaker == "seller" and ABOUT_USER.search(e.text) for e in view.cited
        )


class SubjectIsReviewer:
    name = "subject_is_reviewer"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not ctx.is_catalogue:
            return None
        frame = unquoted(view.claim.text)
        plural = ABOUT_REVIEWERS.search(frame) and not ABOUT_ONE_REVIEWER.search(frame)
        if not plural and not ABOUT_ONE_REVIEWER.search(frame):
            return None
        reviews = [e for e in view.cited if e.speaker == "reviewer"]
        counted = max((s.whole for e in view.cited if counts_people(e) for s in shares(e.text)), default=0)
        if not reviews and not counted:
            return Decision("unsupported", "a claim about reviewers must cite a review")
        writers = {e.user_id for e in reviews}
        if not plural and len(writers) > 1:  # "a reviewer says it's for Christmas and everyone loves it", of two
            return Decision(
                "unsupported",
                f"told as one reviewer's words, but the cited lines are {len(writers)} reviewers'",
                tuple(whole(e) for e in reviews),
            )
        if not plural or counted >= 2:  # whyrec counted what several reviews say: the shares rule checks how many
            return None
        words = view.content(ctx)
        # The reviewers in the evidence who say it. Citing a reviewer is not agreeing: "Reviewers say the box was
        # adorable", citing one review that says so and one that does not, is one reviewer's words. A cited review
        # says it as the support rule would find it said, by its own words or in other words close in meaning
        # ("a lot of ads" / "full of ads"); an uncited one must say most of the claim's words, never one of two.
        cited = {e.id for e in reviews}
        agree = max(ctx.support.overlap, AGREE)
        agreeing = {
            unit.user_id
            for unit in ctx.reviews()
            if words
            and (
                _says(view, ctx, unit, words)
                if unit.id in cited
                else len(words & ctx.analysed(unit).content) / len(words) >= agree
            )
        }
        if len(agreeing) < 2:
            return Decision(
                "unsupported",
                f"'{ABOUT_REVIEWERS.search(frame).group()}' needs more than one reviewer; only one says this",  # type: ignore[union-attr]
                tuple(whole(e) for e in reviews),
            )
        return None


def _says(view: ClaimView, ctx: Context, unit: Evidence, words: frozenset[str]) -> bool:
    """`unit` alone backs the claim's content as the support rule measures it: a share of its content words of at
    least `overlap`, or of at least `overlap_floor` with a cosine of at least `embedding` (the calibrated
    thresholds)."""
    limits = ctx.support
    share = len(words & ctx.analysed(unit).content) / len(words)
    if share >= limits.overlap:
        return True
    if share == 0 or share < limits.overlap_floor or ctx.embed is None:
        return False
    vectors = ctx.embed([unquoted(view.claim.text), unit.text])
    return float(vectors[1] @ vectors[0]) >= limits.embedding


class SubjectIsSeller:
    """A claim told as the seller's ("the seller says …", "the listing states …") is backed only by the seller's own
    words: a reviewer's sentence told as the seller's changes whose word it is."""

    name = "subject_is_seller"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not ctx.is_catalogue or not ABOUT_SELLER.search(unquoted(view.claim.text)):
            return None
        if any(e.speaker == "seller" for e in view.cited):
            return None
        speakers = sorted({e.speaker for e in view.cited})
        return Decision("unsupported", f"told as the seller's words, but it cites the {' and '.join(speakers)}'s")
