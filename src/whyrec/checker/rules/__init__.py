"""The checker's rules, in the order they run. The first that decides gives the verdict; `content_support` always
decides, so it is last."""

from whyrec.checker.rules.attributes import AttributesAgree
from whyrec.checker.rules.base import ClaimView, Context, Decision, Rule
from whyrec.checker.rules.citation import CitationPresent, CitationValid, QuoteExact
from whyrec.checker.rules.content import ContentPresent
from whyrec.checker.rules.flips import AntonymFlip, NegationFlip
from whyrec.checker.rules.numbers import NumbersMatch
from whyrec.checker.rules.other_product import AboutThisItem
from whyrec.checker.rules.polarity import PolarityAgrees
from whyrec.checker.rules.price import ItemPriceAgrees, PriceJudgementBacked
from whyrec.checker.rules.subject import SubjectIsReviewer, SubjectIsUser
from whyrec.checker.rules.superlative import SuperlativeBacked
from whyrec.checker.rules.support import ContentSupport


def default_rules() -> list[Rule]:
    return [
        ContentPresent(),
        CitationPresent(),
        CitationValid(),
        SubjectIsUser(),
        SubjectIsReviewer(),
        AboutThisItem(),
        QuoteExact(),
        NumbersMatch(),
        ItemPriceAgrees(),
        AttributesAgree(),
        NegationFlip(),
        AntonymFlip(),
        PriceJudgementBacked(),
        SuperlativeBacked(),
        PolarityAgrees(),
        ContentSupport(),
    ]


__all__ = ["ClaimView", "Context", "Decision", "Rule", "default_rules"]
