"""A display name for an item the seller gave no title: the noun phrase its reviewers call it by.

A catalogue of reviews alone (or a metadata row whose title is empty) leaves an item known only by its id, and an id
in a prompt ends up in the reason ("Item B00005N7P0 is a great read"). Reviewers point at the item they review:
"this *magazine*", "the *sustain pedal*", "Reader's *Digest*". The heuristic, without a parser or a tagger:

1. **Candidates** are the one word, and the two words, right after "this", "the", "these", "that" or a possessive
   ("my", "their", "Reader's"), inside one clause (punctuation ends a phrase), lower-cased.
2. **Filters**: no word of a candidate may be a stopword, an opinion word (VADER's lexicon: "great" is how a
   reviewer feels, not what the item is), a number ("the 12 issues", "the first"), a word of size, amount or order
   (`NOT_ASPECTS`: "the same", "the only"), a person the item is bought for (`PEOPLE`, also in the plural: "my
   daughter", "the men") or a word that names no item (`NAMES_NOTHING`: "this product", "the time"). Its last word
   must read as a noun and never as an adverb in lemminflect's tables, which leaves out "this arrived", "the
   competition out" and "the sustain" alone.
3. **Counting**: a candidate counts once per review, however often that review repeats it, and a review whose text
   repeats another's word for word counts once: the count says how many reviewers share the name.
4. **Choice**: the candidate most reviews use. A two-word phrase stands in for its head word (its last word) when
   at least as many reviews use the phrase as use the head word alone: "sustain pedal" (3 reviews) over "pedal" (1),
   but "magazine" (8) over "magazine covers" (2). Ties go to the two-word phrase (it says more), then to the one
   more reviews point at with "this"/"these"/"that" (a demonstrative points at the item itself, "the" also at its
   parts: "the articles"), then alphabetically, so the result never depends on the order of the reviews.
5. **Threshold**: at least MIN_REVIEWS reviews must use it (every review, for an item with fewer), so one
   reviewer's word is not taken for the item's name.

What it gets wrong: a noun the reviews discuss more than they name the item ("the world" of a news weekly), and a
name whose modifier VADER counts as a feeling ("gift card": VADER scores "gift"), which leaves the head ("card").
English only: the triggers, the word lists and the word classes are English.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from lemminflect import getAllLemmas

from whyrec.knowledge.aspects import NOT_ASPECTS, PEOPLE
from whyrec.knowledge.text import STOPWORDS

MIN_REVIEWS = 2
MAX_WORDS = 2
# Words that follow "this" or "the" without naming what the item is: the item in general, a review, a time.
NAMES_NOTHING = frozenset(
    """item items product products purchase purchases order orders review reviews stuff time times day days week
    weeks month months year years today""".split()
)
_DEMONSTRATIVES = frozenset("this these that".split())
_TRIGGERS = _DEMONSTRATIVES | {"the"} | frozenset("my your his her their our its".split())
# Words before "'s" that make a contraction ("it's great", "that's all"), not a possessive.
_CONTRACTED = frozenset("it that there here what who he she let where how".split())
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty fifty hundred thousand
    first second third fourth fifth sixth seventh eighth ninth tenth dozen half""".split()
)
# A clause: a run of text with no punctuation in it. A word: letters and digits, with inner hyphens and apostrophes
# ("non-fiction", "reader's").
_CLAUSE = re.compile(r"[^.,;:!?()\[\]{}\"“”…/]+")
_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


@dataclass(frozen=True)
class DerivedName:
    """A name reviewers use for an item: `reviews` of its `of` reviews use it."""

    name: str
    reviews: int
    of: int


@lru_cache(maxsize=1)
def _rejected() -> frozenset[str]:
    """Words a name may not contain. The checker's lexicon is imported here, not at the top: the checker imports the
    knowledge package, which imports this module."""
    from whyrec.checker.lexicon import sentiment_words

    return STOPWORDS | NOT_ASPECTS | PEOPLE | NAMES_NOTHING | _NUMBER_WORDS | frozenset(sentiment_words())


@lru_cache(maxsize=1 << 15)
def _may_name(word: str) -> bool:
    if not word[0].isalpha() or "'" in word or word in _rejected():
        return False
    return not any(lemma in PEOPLE for forms in getAllLemmas(word).values() for lemma in forms)


@lru_cache(maxsize=1 << 15)
def _is_noun(word: str) -> bool:
    classes = getAllLemmas(word)
    return "NOUN" in classes and "ADV" not in classes


def _is_trigger(word: str) -> bool:
    return word in _TRIGGERS or (word.endswith("'s") and word[:-2] not in _CONTRACTED)


def _candidates(text: str) -> tuple[set[str], set[str]]:
    """A review's candidate names, and those of them it points at with a demonstrative."""
    found: set[str] = set()
    pointed: set[str] = set()
    for clause in _CLAUSE.findall(text.lower().replace("’", "'")):
        words = _WORD.findall(clause)
        for i, trigger in enumerate(words[:-1]):
            if not _is_trigger(trigger):
                continue
            phrase = words[i + 1 : i + 1 + MAX_WORDS]
            for n in range(1, len(phrase) + 1):
                if not _may_name(phrase[n - 1]):
                    break
                if _is_noun(phrase[n - 1]):
                    name = " ".join(phrase[:n])
                    found.add(name)
                    if trigger in _DEMONSTRATIVES:
                        pointed.add(name)
    return found, pointed


def name_from_reviews(texts: Sequence[str]) -> DerivedName | None:
    """The noun phrase most of these reviews call their item by, or None when none is shared by enough of them
    (see the module's docstring for the heuristic)."""
    uses: Counter[str] = Counter()
    pointing: Counter[str] = Counter()
    for text in dict.fromkeys(" ".join(t.lower().split()) for t in texts):
        found, pointed = _candidates(text)
        uses.update(found)
        pointing.update(pointed)
    contenders = dict(uses)
    for phrase, n in uses.items():
        head = phrase.rsplit(" ", 1)[-1]
        if head != phrase and n >= uses[head]:
            contenders.pop(head, None)  # the phrase says more and is used at least as often: it stands in for it
    best = min(contenders, key=lambda c: (-contenders[c], -c.count(" "), -pointing[c], c), default=None)
    if best is None or contenders[best] < min(MIN_REVIEWS, len(texts)):
        return None
    return DerivedName(name=best, reviews=contenders[best], of=len(texts))
