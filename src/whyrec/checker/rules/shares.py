"""Shares: a claim that says how many of something whyrec counted ("most reviews that mention the design are
positive", "more than half of the shoppers", "all of its reviews", "few reviewers complain") must agree with the
count its cited signal states. The numbers rule checks the figures themselves; this one checks the words."""

from __future__ import annotations

import re
from collections.abc import Callable

from whyrec.checker.analysis import stem
from whyrec.checker.rules.base import ClaimView, Context, Decision, unquoted, whole
from whyrec.knowledge.sentiment import polarity
from whyrec.knowledge.signals import NEUTRAL, Share, shares
from whyrec.schema import Evidence

_WHO = r"(?:reviews|reviewers|shoppers|buyers|customers|people|ratings)"
# Most specific first: "nearly all" before "all", "more than half" before "half".
QUANTIFIERS: tuple[tuple[re.Pattern[str], Callable[[float], bool]], ...] = (
    (
        re.compile(r"\b(?:nearly|almost|virtually) (?:all|every)\b|\b(?:vast|overwhelming) majority\b", re.I),
        lambda f: f >= 0.8,
    ),
    (
        re.compile(
            rf"\b(?:all|every one)(?: of)?(?: the| its)?(?: \d+)? {_WHO}\b|\bevery (?:review|reviewer|shopper)\b", re.I
        ),
        lambda f: f == 1.0,
    ),
    (re.compile(r"\b(?:less|fewer) than half\b|\b(?:a )?minority\b|(?<!a )\bfew\b", re.I), lambda f: f < 0.5),
    (re.compile(r"\bmore than half\b|\b(?:the )?majority\b|(?<!at )\bmost\b|\bmostly\b", re.I), lambda f: f > 0.5),
    (re.compile(r"(?<!than )\bhalf\b", re.I), lambda f: abs(f - 0.5) <= 0.1),
)


def _said(view: ClaimView) -> tuple[re.Match[str], Callable[[float], bool], list[tuple[Evidence, Share]]] | None:
    """The claim's quantifier, its test, and each cited signal's share of the kind the claim speaks of (the
    negative count for a claim that complains, else the main one)."""
    text = unquoted(view.claim.text)
    said = next(((m, test) for pattern, test in QUANTIFIERS if (m := pattern.search(text))), None)
    if said is None:
        return None
    negative = polarity(text) < -NEUTRAL
    counted = [
        (unit, share)
        for unit in view.cited
        if unit.kind == "signal"
        for share in [s for s in shares(unit.text) if s.negative == negative][:1]
    ]
    return said[0], said[1], counted


def backed_shares(view: ClaimView, ctx: Context) -> frozenset[str]:
    """The stems of the claim's quantifier ("most", "nearly all") when every share it cites fits it: the words are
    then checked, and need not be found in the evidence."""
    said = _said(view)
    if said is None or not said[2] or not all(said[1](share.fraction) for _, share in said[2]):
        return frozenset()
    return frozenset(stem(word) for word in said[0].group().lower().split())


class SharesMatch:
    name = "shares_match"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        said = _said(view)
        if said is None:
            return None
        match, test, counted = said
        for unit, share in counted:
            if not test(share.fraction):
                return Decision(
                    "contradicted",
                    f"{match.group()!r} does not fit the count it cites: {share.part} of {share.whole}"
                    f"{' negative' if share.negative else ''}",
                    (whole(unit),),
                )
        return None
