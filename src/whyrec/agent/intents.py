"""How a chat message is read: which of a few intents it has and the aspect or item it names.

Rules, not a model: a chat turn on two CPU cores cannot afford a second LLM call, and a rule reads the same message
the same way every time. Whatever the message says, it only chooses what to retrieve; the reply is still written from
evidence and checked, so a message that tries to give orders ("ignore your rules and …") is read as a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from whyrec.schema import ChatIntent

MAX_MESSAGE_CHARS = 2000

_SOURCES = re.compile(
    r"^\s*/?sources?\W*$|\b(?:show|list|see|give)\b.*\b(?:sources?|evidence|citations?)\b"
    r"|\bwhere (?:does|did|do) (?:that|this|it|these|they) come from\b"
    r"|\bwhat (?:is|are|was) (?:that|this|it) based on\b",
    re.I,
)
_NOT_RELEVANT = re.compile(
    r"\b(?:not|isn't|is not|wasn't|was not|aren't) (?:very |really )?(?:relevant|helpful|useful)\b|\birrelevant\b"
    r"|^\W*(?:thumbs down|👎)\W*$",
    re.I,
)
_ASPECT = r"(?:the |its |their |a |an )?(?P<aspect>[a-z0-9$][^.?!,;]{0,60}?)"
# An aspect ends at punctuation, at the end, or before a clause that says something else ("price but I care
# about design").
_END = (
    r"(?:\s+(?:at all|(?:so |that |very )?much|anymore|any more|to me|for me|really))*"
    r"(?:\s*(?:[.?!,;]|$)|\s+(?=(?:but|though|although|because|while|whereas)\b))"
)
_AVOID = [
    re.compile(
        r"\b(?:i )?(?:don'?t|do not|doesn'?t|does not) (?:really |much )?(?:care (?:about|for)|mind) " + _ASPECT + _END,
        re.I,
    ),
    re.compile(r"\b(?:never ?mind|forget(?: about)?|stop (?:talking about|mentioning)) " + _ASPECT + _END, re.I),
    re.compile(
        r"^\W*" + _ASPECT + r" (?:(?:doesn'?t|does not|don'?t|do not) matter"
        r"|(?:is|are)(?:n'?t| not) (?:very |that |really |so )?important)" + _END,
        re.I,
    ),
    re.compile(r"\b(?:less|no more) (?:about|on) " + _ASPECT + _END, re.I),
    re.compile(r"\bcare (?:most |more |mostly )?about [^.?!,;]+? (?:but|and) not (?:about )?" + _ASPECT + _END, re.I),
]
_FOCUS = [
    re.compile(r"\bi (?:really |mostly |mainly )?care (?:most |more |mostly )?about " + _ASPECT + _END, re.I),
    re.compile(r"\bi'?m (?:more |most |mostly |really )?interested in " + _ASPECT + _END, re.I),
    re.compile(r"^\W*" + _ASPECT + r" (?:is|are) (?:what's |what is )?(?:most |more |really )?important" + _END, re.I),
    re.compile(r"\b(?:focus on|more about) " + _ASPECT + _END, re.I),
]
_COMPARE = re.compile(
    r"\bcompare[sd]?\b|\bcomparison\b|\bversus\b|\bvs\.?(?=\s)|\bdifference between\b|\bbetter than\b|\binstead of\b",
    re.I,
)
_OTHER = re.compile(r"\b(?:with|to|against|versus|vs\.?|than|and|of)\s+(?:the\s+)?(?P<other>[^?!]+?)\s*[?.!]*$", re.I)
# "compare the olive garden card", "the olive garden card vs this": the other item named without "with"
_OTHER_PLAIN = re.compile(
    r"^\W*compare\s+(?:it\s+|this\s+)?(?!with\b|to\b|against\b)(?:the\s+)?(?P<other>[^?!]+?)\s*[?.!]*$", re.I
)
_OTHER_BEFORE = re.compile(r"^\W*(?:the\s+)?(?P<other>[^?!]+?)\s+(?:vs\.?|versus)\s+(?:this|it|this one)\W*$", re.I)
_REFERENCES = frozenset({"this", "it", "this one", "that", "that one"})
_DISLIKES = re.compile(
    r"\b(?:dislike[sd]?|complain\w*|complaints?|downsides?|drawbacks?|cons|negatives?|problems?|issues?|hate[sd]?"
    r"|(?:don'?t|do not|didn'?t|did not) like|worst|bad reviews?|negative reviews?|criticism|weakness\w*|wrong)\b",
    re.I,
)
_MORE = re.compile(
    r"^\W*(?:tell me |say |anything |and )?(?:more|else|anything else|what else|go on)\W*(?:please)?\W*$", re.I
)
_WHY = re.compile(r"\b(?:why|explain|reason|recommend\w*|suggest\w*)\b", re.I)
# Words of a "why" question that name no aspect: with only these left, the question is the plain "why this item?".
_WHY_FRAME = frozenset(
    "why was is this that it the a an item product thing recommended recommend recommendation recommendations "
    "suggested suggest shown show me to for i my you explain reason reasons please did do does would should get "
    "picked chosen good one".split()
)
_ASPECT_FRAME = re.compile(
    r"^\W*(?:and |so |ok |okay )?(?:what (?:do|did|does) (?:people|reviewers|others|buyers|customers|users|they) "
    r"(?:say|think|write|feel|said|wrote) (?:about|of) |what about |how about |how (?:is|are|was|were) |tell me about "
    r"|is it |are they |does it |do they |can it |can i |what is |what are |what's )?(?:the |its |their )?",
    re.I,
)
_WORD = re.compile(r"[a-z0-9']+", re.I)
MAX_ASPECT_WORDS = 4
# What a message aimed at the system rather than at a product names; never taken as a shopper's aspect.
_NOT_ASPECTS = frozenset("instruction instructions rule rules prompt system previous above everything all".split())


@dataclass(frozen=True)
class Reading:
    """How one message was read. `aspect` is what it asks about; `other` names the item to compare with."""

    intent: ChatIntent
    aspect: str | None = None
    other: str | None = None
    avoid: list[str] = field(default_factory=list)
    focus: list[str] = field(default_factory=list)
    not_relevant: bool = False


def _aspects(patterns: list[re.Pattern[str]], message: str) -> list[str]:
    found = []
    for pattern in patterns:
        for match in pattern.finditer(message):
            words = match.group("aspect").lower().strip(" '\"").split()
            if 0 < len(words) <= MAX_ASPECT_WORDS and not set(words) & _NOT_ASPECTS and words != ["it"]:
                found.append(" ".join(words))
    return list(dict.fromkeys(found))


def aspect_of(message: str) -> str:
    """The aspect a question asks about: the message without its question frame ("what about the battery?")."""
    stripped = _ASPECT_FRAME.sub("", message.strip(), count=1)
    return " ".join(stripped.split()).strip(" ?!.").lower() or message.strip().lower()


def read_message(message: str) -> Reading:
    """Read a chat message: sources, feedback, compare, dislikes, more, why, or a question about an aspect."""
    text = " ".join(message.split())
    if _SOURCES.search(text):
        return Reading("sources")
    avoid, focus = _aspects(_AVOID, text), _aspects(_FOCUS, text)
    not_relevant = bool(_NOT_RELEVANT.search(text))
    if avoid or focus or not_relevant:
        return Reading("feedback", avoid=avoid, focus=focus, not_relevant=not_relevant)
    if _COMPARE.search(text):
        named = [m.group("other").strip() for m in (p.search(text) for p in (_OTHER, _OTHER_BEFORE, _OTHER_PLAIN)) if m]
        named = [n for n in named if n.lower() not in _REFERENCES] or named
        return Reading("compare", other=named[0] if named else None)
    if _DISLIKES.search(text):
        return Reading("dislikes", aspect=aspect_of(text))
    if _MORE.match(text):
        return Reading("more")
    words = {w.lower() for w in _WORD.findall(text)}
    if not words or (_WHY.search(text) and words <= _WHY_FRAME):
        return Reading("why")
    return Reading("aspect", aspect=aspect_of(text))
