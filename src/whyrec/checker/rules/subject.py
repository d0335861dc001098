"""Who a claim is about. A claim about "you" is backed only by the user's own history; a claim about what reviewers
say is backed only by reviews, and "reviewers" (plural) by more than one reviewer."""

from __future__ import annotations

import re

from whyrec.checker.analysis import names, stem
from whyrec.checker.rules.base import ClaimView, Context, Decision, unquoted, whole

ABOUT_USER = re.compile(r"\b(you|your|yours|you've|you're|you'd|yourself)\b", re.I)
_ONE = r"reviewer|customer|buyer|user|shopper|purchaser|reader|subscriber|owner"
ABOUT_ONE_REVIEWER = re.compile(rf"\b(a|one|another|the)\s+(?:\w+\s+)?({_ONE})\b", re.I)
# Plural reviewers: the nouns themselves, or "many/several/most/some ..." and "people/everyone/others" as the subject
# of a saying verb ("people say", "most love it"); not "several awards" or "the richest people".
_SAYING = r"say|said|says|find|found|like|liked|love|loved|report|reported|complain|complained|mention|mentioned|agree"
ABOUT_REVIEWERS = re.compile(
    rf"\b(reviewers|customers|buyers|users|shoppers|purchasers|readers|subscribers|owners"
    rf"|(?:people|everyone|others|many|several|most|some)\s+(?:\w+\s+)?(?:{_SAYING}))\b",
    re.I,
)
# Words that frame a claim about the user's history rather than say what it holds.
_USER_FRAME = frozenset(
    stem(w)
    for w in """
    bought buy buys purchased purchase reviewed review rated rate history past before previously earlier liked
    like enjoyed enjoy similar often usually regularly frequently again also tend
    """.split()
)
# "You" as anyone: what the item lets a buyer do ("you can redeem it online", "lets you dine in", "what you receive").
_GENERIC_YOU = re.compile(
    r"\b(?:you(?:\s+(?:also|just|only|even|still|then))?\s+(?:can|could|will|'ll|would|may|might|must|need|get|"
    r"receive|don't have to|do not have to|won't)|(?:let|lets|make|makes|help|helps|allow|allows|for|give|gives)"
    r"\s+you)\b",
    re.I,
)
# ... but not a claim about what the user did ("you bought", "you have rated", "… before").
_USERS_PAST = re.compile(
    r"\byou(?:'ve|'d)?\s+(?:have|had|already|once|previously|\w+ed|bought|gave|got|paid|said|wrote|chose|took)\b"
    r"|\b(?:before|previously|already|in the past|last time)\b",
    re.I,
)
_AGREE = 2 / 3  # share of a claim's content words another reviewer's sentence must say to count as saying it
# What a unit of the user's history ("Reviewed X, rated 4/5") says without the words: the user had the item before.
HISTORY_IMPLIES = frozenset(
    stem(w)
    for w in """
    bought buy purchased purchase ordered order got get tried try reviewed review rated rate history past before
    previously earlier already
    """.split()
)
_OFTEN = re.compile(r"\b(often|usually|regularly|frequently|always|tend to|many times|a lot of)\b", re.I)


class SubjectIsUser:
    name = "subject_is_user"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not ctx.is_catalogue or not ABOUT_USER.search(unquoted(view.claim.text)):
            return None
        history = [e for e in view.cited if e.speaker == "user"]
        if not history and self._generic(view):
            return None
        if not history:
            return Decision("unsupported", "a claim about the user must cite the user's own history")
        words = view.content(ctx) - _USER_FRAME
        matching = [e for e in history if not words or words & ctx.analysed(e).content]
        if not matching:
            return Decision("unsupported", "the user's history cited says nothing of this", 0.0)
        said = frozenset().union(*(ctx.analysed(e).stems for e in history))
        unknown = [t.word for t in names(view.frame) if t.stem not in said]
        if unknown:  # "you have reviewed an Applebee's card" needs Applebee's in the history, not only in the title
            return Decision("unsupported", f"the user's history cited never mentions {unknown[0]!r}", 0.0)
        if _OFTEN.search(view.claim.text) and len(matching) < 2:
            return Decision("unsupported", "'often' needs more than one matching item in the user's history", 0.5)
        return None

    @staticmethod
    def _generic(view: ClaimView) -> bool:
        """Whether "you" means any buyer: a generic construction, or cited seller text that itself says "you"."""
        text = unquoted(view.claim.text)
        if _USERS_PAST.search(text):
            return False
        return bool(_GENERIC_YOU.search(text)) or any(
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
        if not reviews:
            return Decision("unsupported", "a claim about reviewers must cite a review")
        if not plural:
            return None
        words = view.content(ctx)
        agreeing = {e.user_id for e in reviews}
        # other reviewers in the evidence who say the same, cited or not
        # an uncited review agrees only if it says most of the claim, never on one word of two
        agree = max(ctx.support.overlap, _AGREE)
        for unit in ctx.reviews():
            if words and len(words & ctx.analysed(unit).content) / len(words) >= agree:
                agreeing.add(unit.user_id)
        if len(agreeing) < 2:
            return Decision(
                "unsupported",
                f"'{ABOUT_REVIEWERS.search(frame).group()}' needs more than one reviewer; only one says this",  # type: ignore[union-attr]
                0.5,
                tuple(whole(e) for e in reviews),
            )
        return None
