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

A kind noun says what the item is, not which one: every magazine of a magazine catalogue is "magazine". Reviewers
also write the item's own name, capitalised in the middle of a sentence ("I have read *National Geographic* for
years"). `name_items` looks for that over a whole catalogue:

6. **Proper names** are runs of capitalised words inside a sentence (not its first word, not "I", no month or day;
   "of", "the" and "&" may join them: "Taste of Home"; "and" may not, as it joins two names as often as one), from
   sentences that are not in title case ("Great Read For Kids" is a headline, not a name), with no word that is a
   stopword, an opinion word or a number alone.
7. **Its own**: a proper name the reviews of more than `max(MAX_SHARED_ITEMS, SHARED_SHARE of the items)` items use
   is the catalogue's ("Amazon", "Kindle", "Christmas"), not one item's; one fewer items use belongs to the item whose
   reviews use it most, so no two items get the same proper name.
8. **Choice**: the one most reviews use (the same threshold as the kind noun); a longer name that holds it and that
   at least LONGER_SHARE as many reviews use stands in for it ("National Geographic" 10 over "Geographic" 13, which
   sentence-initial "National" cut short); ties go to the longer name, then alphabetically.
9. **Display**: the proper name, followed by the kind noun when the name does not hold it and the kind is the one
   most of the named items share ("Wired magazine", "PC Magazine"; "Bon Appetit", whose reviewers talk about "the
   recipes" more than they call it a magazine).

What it gets wrong: a noun the reviews discuss more than they name the item ("the world" of a news weekly), a
name whose modifier VADER counts as a feeling ("gift card": VADER scores "gift"), which leaves the head ("card"), and a
rival two reviewers compare the item with ("better than Time"). English only: the triggers, the word lists and the
word classes are English.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from whyrec.knowledge.aspects import NAMES_NOTHING, NOT_ASPECTS, PEOPLE
from whyrec.knowledge.text import STOPWORDS

MIN_REVIEWS = 2
MAX_WORDS = 2
MAX_SHARED_ITEMS = 3
SHARED_SHARE = 0.02
LONGER_SHARE = 0.4
TITLE_CASE_SHARE = 0.6
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
_SENTENCE = re.compile(r"[^.!?\n]+")
_CASED_WORD = re.compile(r"[A-Za-z0-9][\w'’&-]*|&")
_JOINERS = frozenset("of the &".split())
# Capitalised words that name no item: the reviewer, the calendar.
_NOT_NAMES = frozenset(
    """i i'm i've i'd i'll january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)


@dataclass(frozen=True)
class DerivedName:
    """A name reviewers use for an item: `reviews` of its `of` reviews use it."""

    name: str
    reviews: int
    of: int


@dataclass(frozen=True)
class ItemName:
    """What an item's reviewers call it: its proper name ("Wired"), what kind of thing it is ("magazine"), or both.
    `shows_kind`: the display adds the kind to the proper name."""

    proper: DerivedName | None
    kind: DerivedName | None
    shows_kind: bool = True

    @property
    def parts(self) -> tuple[DerivedName, ...]:
        return tuple(p for p in (self.proper, self.kind) if p is not None)

    @property
    def display(self) -> str:
        """ "Wired magazine", "PC Magazine", "Magazine": the name to show, upper-cased at its start."""
        if self.proper is None:
            shown = self.kind.name if self.kind is not None else ""
        elif (
            self.kind is None
            or not self.shows_kind
            or set(self.kind.name.split()) <= set(self.proper.name.lower().split())
        ):
            shown = self.proper.name
        else:
            shown = f"{self.proper.name} {self.kind.name}"
        return shown[:1].upper() + shown[1:]


@lru_cache(maxsize=1)
def _rejected() -> frozenset[str]:
    """Words a name may not contain. The checker's lexicon is imported here, not at the top: the checker imports the
    knowledge package, which imports this module."""
    from whyrec.knowledge.sentiment import sentiment_words

    return STOPWORDS | NOT_ASPECTS | PEOPLE | NAMES_NOTHING | _NUMBER_WORDS | frozenset(sentiment_words())


@lru_cache(maxsize=1 << 15)
def _may_name(word: str) -> bool:
    if not word[0].isalpha() or "'" in word or word in _rejected():
        return False
    from lemminflect import getAllLemmas  # loaded when names are made (an index build), not on every start

    return not any(lemma in PEOPLE for forms in getAllLemmas(word).values() for lemma in forms)


@lru_cache(maxsize=1 << 15)
def _is_noun(word: str) -> bool:
    from lemminflect import getAllLemmas

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


def _proper_candidates(text: str) -> set[str]:
    """The capitalised runs inside the sentences of one review (see the module's docstring, step 6)."""
    found: set[str] = set()
    for sentence in _SENTENCE.findall(text.replace("’", "'")):
        words = _CASED_WORD.findall(sentence)
        if len(words) < 2 or sum(w[0].isupper() for w in words) >= TITLE_CASE_SHARE * len(words):
            continue
        run: list[str] = []
        for word in [*words[1:], ""]:
            capital = word[:1].isupper() and word.lower() not in _NOT_NAMES
            if capital or (run and word.lower() in _JOINERS):
                run.append(word)
                continue
            while run and run[-1].lower() in _JOINERS:
                run.pop()
            if run and not any(w.lower() in _rejected() or w.isdigit() for w in run if w.lower() not in _JOINERS):
                found.add(" ".join(run))
            run = []
    return found


def _proper_name(uses: Counter[str], least: int, of: int) -> DerivedName | None:
    top = min(uses, key=lambda c: (-uses[c], -len(c.split()), c), default=None)
    if top is None or uses[top] < least:
        return None
    longer = [c for c in uses if c != top and f" {top} " in f" {c} " and uses[c] >= LONGER_SHARE * uses[top]]
    best = min(longer, key=lambda c: (-uses[c], -len(c.split()), c), default=top)
    return DerivedName(name=best, reviews=uses[best], of=of)


def name_items(texts: Mapping[str, Sequence[str]], which: Collection[str] | None = None) -> dict[str, ItemName]:
    """The name of each item of `which` (default: all) from its reviews (`texts`: every item of the catalogue to its
    review texts, since a proper name is told apart over all of them), for each whose reviews agree on a proper name
    or a kind noun (see the module's docstring)."""
    proper: dict[str, Counter[str]] = {}
    spread: Counter[str] = Counter()
    for item_id, reviews in texts.items():
        uses: Counter[str] = Counter()
        for text in dict.fromkeys(" ".join(t.split()) for t in reviews):
            uses.update(_proper_candidates(text))
        proper[item_id] = uses
        spread.update(uses.keys())
    shared = max(MAX_SHARED_ITEMS, math.ceil(SHARED_SHARE * len(texts)))
    # a proper name belongs to the one item whose reviews use it most (ties: the first id), so no two items are named
    # alike ("You rated EW magazine 5/5 … also bought EW magazine")
    owner: dict[str, tuple[int, str]] = {}
    for item_id, uses in proper.items():
        for candidate, n in uses.items():
            if candidate not in owner or (-n, item_id) < (-owner[candidate][0], owner[candidate][1]):
                owner[candidate] = (n, item_id)
    names = {}
    for item_id in texts if which is None else which:
        reviews = texts.get(item_id, [])
        own = Counter(
            {c: n for c, n in proper.get(item_id, Counter()).items() if spread[c] <= shared and owner[c][1] == item_id}
        )
        name = ItemName(
            proper=_proper_name(own, min(MIN_REVIEWS, len(reviews)), len(reviews)), kind=name_from_reviews(reviews)
        )
        if name.parts:
            names[item_id] = name
    kinds = Counter(n.kind.name for n in names.values() if n.kind is not None)
    common = min(kinds, key=lambda k: (-kinds[k], k), default=None)
    return {i: replace(n, shows_kind=n.kind is not None and n.kind.name == common) for i, n in names.items()}
