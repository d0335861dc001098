"""The checker's rules, grouped in the stages they run in. Within a stage and from one stage to the next the rules run
in order and the first that decides gives the verdict; `content_support` always decides, so it is last.

`Stage.thresholds` names the section of the thresholds file that holds the stage's own thresholds (the subject rules
also read `support.overlap`, the share that counts as saying the same thing). Adding a rule touches its own module and
this list.
"""

from dataclasses import dataclass

from whyrec.checker.rules.attributes import AttributesAgree
from whyrec.checker.rules.base import ClaimView, Context, Decision, Rule
from whyrec.checker.rules.citation import CitationPresent, CitationValid, QuoteExact
from whyrec.checker.rules.content import ContentPresent, NoMarkup, NotFirstPerson
from whyrec.checker.rules.flips import AntonymFlip, NegationFlip
from whyrec.checker.rules.numbers import NumbersMatch
from whyrec.checker.rules.other_product import AboutThisItem
from whyrec.checker.rules.polarity import FeelingBacked, PolarityAgrees
from whyrec.checker.rules.price import ItemPriceAgrees, PriceJudgementBacked
from whyrec.checker.rules.shares import SharesMatch
from whyrec.checker.rules.subject import SubjectIsReviewer, SubjectIsSeller, SubjectIsUser
from whyrec.checker.rules.superlative import SuperlativeBacked
from whyrec.checker.rules.support import ContentSupport


@dataclass(frozen=True)
class Stage:
    name: str
    rules: tuple[Rule, ...]
    thresholds: str = ""  # the section of the thresholds file holding this stage's thresholds ("" for none)


def default_stages() -> list[Stage]:
    """atoms and content → citation → subject → exact checks → polarity and consensus → support. Citations are
    checked before the subject, since the subject rules read what a claim cites."""
    return [
        Stage("content", (NoMarkup(), ContentPresent(), NotFirstPerson())),
        Stage("citation", (CitationPresent(), CitationValid())),
        Stage("subject", (SubjectIsUser(), SubjectIsReviewer(), SubjectIsSeller(), AboutThisItem())),
        Stage(
            "exact",
            (
                QuoteExact(),
                NumbersMatch(),
                SharesMatch(),
                ItemPriceAgrees(),
                AttributesAgree(),
                NegationFlip(),
                AntonymFlip(),
                PriceJudgementBacked(),
                SuperlativeBacked(),
            ),
            thresholds="flips",
        ),
        Stage("polarity", (PolarityAgrees(), FeelingBacked()), thresholds="polarity"),
        Stage("support", (ContentSupport(),), thresholds="support"),
    ]


__all__ = ["ClaimView", "Context", "Decision", "Rule", "Stage", "default_stages"]
