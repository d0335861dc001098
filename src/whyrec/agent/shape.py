"""A reason's shape: claims that are true and still do not belong in it.

**Thin claims** say nothing about this item beyond praise and what kind of thing it is.

"A reviewer says this gift card is a great gift idea" is backed by its review and tells a shopper nothing: once the
item's title (but for its aspect words), the catalogue's kind words ("card" of gift cards, `AspectVocabulary.kinds`),
stopwords, opinion words (VADER's lexicon) and FRAME_WORDS are taken out, no word is left. The explainer leaves such
claims out of a reason that has enough other claims, and `whyrec eval explain` counts them as generic (the same test,
so that figure is not an independent one; the blind reader's scores are).

**Copies** repeat what a reason should say in its own words: a reviewer's first-person story (the claim shares a run
of COPY_RUN tokens with a first-person review sentence it cites, or says "I"/"my" itself), which reads as whyrec's own
experience, or a line of the shopper's history ('You reviewed "…", rated 3/5: …', or a run of COPY_RUN tokens shared
with a history unit it cites), which says what they did, not why this item fits. The explainer asks the model to
rewrite a copied history line and leaves it out; it leaves out a reviewer's story retold when the story names none of
the catalogue's aspects (`tells_only_a_story`) and two other claims stand (a first-person story told as the reason's
own is the checker's `first_person` rule); `whyrec eval explain` counts the same (a story naming an aspect, told as
the reviewer's, is not a copy).
Texts are tokenised as the aspect vocabulary tokenises them.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from whyrec.checker.rules.base import unquoted
from whyrec.knowledge.aspects import AspectVocabulary, tokenize
from whyrec.knowledge.sentiment import sentiment_words
from whyrec.knowledge.text import STOPWORDS
from whyrec.schema import Evidence

# Words that frame a claim about the item without saying anything about it: what kind of thing it is, who says so or
# could get it, that it is a good choice, that it did what it should ("worked", "as described"), how often; and the
# stems contractions leave ("doesn't" → "doesn"). Opinion words ("great", "perfect", "love") are VADER's and need not
# be listed, but "great" is kept here so the list reads as the frame it is.
FRAME_WORDS = frozenset(
    """item items product products gift gifts card cards present presents idea ideas choice option great
    anyone anybody everyone everybody someone somebody whoever person people recipient recipients receiver receivers
    occasion occasions one buy purchase give gives gave given giving make makes made thing things really overall
    definitely sure always work works worked described advertised expected
    reviewer reviewers review reviews shopper shoppers say says said
    aren couldn didn doesn don hasn haven isn shouldn wasn weren won wouldn""".split()
)
FIRST_PERSON = frozenset("i my me we our mine myself ours".split())  # not "us": "the US" lower-cases to it
COPY_RUN = 6  # consecutive tokens a claim must share with a unit's text to count as copying it
# How `history_unit` words a history line ('Reviewed "…"', 'Bought an item with no name'), and how a claim retells one
# ('You reviewed "…", rated 3/5').
HISTORY_LINE = re.compile(
    r"\b(?:Reviewed|Bought) (?:[\"“]|an item with no name)"  # the line itself, capitalised as `history_unit` writes it
    r"|(?i:\byou (?:reviewed|bought) .{0,120}?, rated \d(?:\.\d)?/5\b)"  # a claim retelling it
)


# Who says it, at a claim's start: "A reviewer says", "Reviewers say", "The seller notes"
_SPEAKER_WORDS = frozenset(
    "a one another the its reviewer reviewers seller sellers listing says say said notes note writes write".split()
)


def gist(text: str) -> str:
    """What a claim says, without who says it: "A reviewer says it comes ready to use" and "Reviewers say it comes
    ready to use" are one claim in a reason."""
    words = tokenize(text)
    start = 0
    while start < len(words) and words[start] in _SPEAKER_WORDS:
        start += 1
    return " ".join(words[start:]) or " ".join(words)


def is_thin(
    text: str, title: str, opinion: Collection[str], kinds: Collection[str] = (), aspects: Collection[str] = ()
) -> bool:
    """Nothing is left of `text` once the title's words, `kinds`, stopwords, `opinion` words and FRAME_WORDS are
    out. A title word that is one of the catalogue's `aspects` stays: "the box is pretty" says something about the
    box of "Gift Card in a Mini Shipping Box", which the title only names."""
    frame = (set(tokenize(title)) - set(aspects)) | set(kinds)
    # single letters are the leftovers of contractions and possessives ("it's", "Garden's")
    left = [
        w
        for w in tokenize(text)
        if w not in FRAME_WORDS
        and w not in STOPWORDS
        and w not in frame
        and w not in opinion
        and not (len(w) == 1 and w.isalpha())
    ]
    return not left


def is_thin_in(text: str, title: str, vocabulary: AspectVocabulary) -> bool:
    """`is_thin` with VADER's lexicon as the opinion words and the catalogue's kind and aspect words."""
    return is_thin(text, title, sentiment_words(), vocabulary.kinds, vocabulary.frequency.keys())


def _runs(tokens: list[str]) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + COPY_RUN]) for i in range(len(tokens) - COPY_RUN + 1)}


def _shares_run(text: str, sources: Iterable[str]) -> bool:
    runs = _runs(tokenize(text))
    return bool(runs) and any(runs & _runs(tokenize(source)) for source in sources)


def first_person(text: str) -> bool:
    return not FIRST_PERSON.isdisjoint(tokenize(text))


def _cited(cites: Iterable[str], units: Mapping[str, Evidence]) -> list[Evidence]:
    return [units[cite] for cite in cites if cite in units]


def copies_anecdote(text: str, cites: Iterable[str], units: Mapping[str, Evidence]) -> bool:
    """The claim speaks in the first person, or repeats a run of a first-person review sentence it cites."""
    stories = [u.text for u in _cited(cites, units) if u.speaker == "reviewer" and first_person(u.text)]
    return first_person(text) or _shares_run(text, stories)


def tells_only_a_story(
    text: str, cites: Iterable[str], units: Mapping[str, Evidence], vocabulary: AspectVocabulary
) -> bool:
    """A reviewer's first-person story retold (`copies_anecdote`) that names none of the catalogue's aspects: "A
    reviewer says it helped them out when they needed gifts for their nieces" is the reviewer's life; "A reviewer says
    they enjoy the recipes and decorating ideas" retells one too, but says what the item offers."""
    return copies_anecdote(text, cites, units) and not vocabulary.in_text(text)


def weakness(
    text: str,
    cites: Iterable[str],
    title: str,
    units: Mapping[str, Evidence],
    vocabulary: AspectVocabulary,
    stories: bool = True,
) -> str | None:
    """Why a true claim is weak, "thin" or "story" (a reviewer's story retold that names no aspect; with `stories`),
    or None. A review quoted in quotation marks is the reviewer's, not a story retold."""
    if is_thin_in(text, title, vocabulary):
        return "thin"
    if stories and tells_only_a_story(unquoted(text), cites, units, vocabulary):
        return "story"
    return None


def copies_history(text: str, cites: Iterable[str], units: Mapping[str, Evidence]) -> bool:
    """The claim retells a history line, or repeats a run of one it cites."""
    lines = [u.text for u in _cited(cites, units) if u.speaker == "user"]
    return bool(HISTORY_LINE.search(text)) or _shares_run(text, lines)
