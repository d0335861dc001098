"""Aspect words: the things a catalogue's reviews talk about, found without a parser or a tagger.

An aspect word has three or more letters, is not a stopword, is not an opinion word (VADER's sentiment lexicon:
"great" and "love" are how a reviewer feels, not what about), is found in at least MIN_SENTENCES review sentences, and
is used as a noun: at least NOUN_SHARE of its uses come right after a determiner or one word after it ("the tin",
"a nice box", "my brother"), which leaves out verbs such as "bought". The same test lets through words of size,
amount and order that also follow determiners ("the only", "a little", "my own"); NOT_ASPECTS names those,
NAMES_NOTHING the words that name a time or the act of buying and reviewing ("the time", "this review"), and PEOPLE the
people a product is bought for. Two more tests drop what is not a thing the item has:

- **Modifiers**: a word lemminflect knows as an adjective or adverb ("new", "first", "monthly", "black") counts only
  when it mostly ends its phrase (followed by a stopword, an opinion word or nothing in at least HEAD_SHARE of its
  uses): "the new issue" uses "new" as a modifier, "a nice present" uses "present" as the thing.
- **The catalogue's kind**: given each sentence's item, a word found in the reviews of at least KIND_SHARE of the
  items (with at least MIN_ITEMS_FOR_KIND items) is what every item is ("card" of gift cards, "magazine" of
  magazines), not an aspect that sets one apart.

English only.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from lemminflect import getAllLemmas

from whyrec.knowledge.text import STOPWORDS

MIN_SENTENCES = 5
NOUN_SHARE = 0.4
HEAD_SHARE = 0.5
KIND_SHARE = 0.8
MIN_ITEMS_FOR_KIND = 10
_WORD = re.compile(r"\w+")
_ASPECT_WORD = re.compile(r"^[a-z][a-z-]{2,}$")
_DETERMINERS = frozenset("the a an this that these those my your his her their our its".split())
# English words that follow a determiner without naming anything a product has: size, amount, order, emphasis.
NOT_ASPECTS = frozenset(
    """absolutely asked available back big bit correct decent diverse double few further hit last little lot large
    many most much often ones only other own same small something started thing things way young""".split()
)
# Words that follow "this" or "the" without naming a thing an item has: the item in general, a review, a time.
NAMES_NOTHING = frozenset(
    """item items product products purchase purchases order orders review reviews stuff time times day days week
    weeks month months year years today""".split()
)
# People a shopper buys for ("my daughter", "the grandkids"): who a product is for, not something it has; named as
# the shopper's interests they invite claims about the shopper's family that no evidence of theirs states.
PEOPLE = frozenset(
    """adult adults aunt baby boss boyfriend boys brother brothers child children client coworker coworkers cousin dad
    daughter daughters family father friend friends girl girlfriend girls grandchild grandchildren granddaughter
    granddaughters grandkids grandma grandmother grandpa grandparents grandson grandsons guy husband kid kids lady
    man member members mom mother nephew nephews niece nieces parent parents person people recipient recipients
    relative relatives santa sister sisters son sons teacher teachers teen teenager uncle wife woman women""".split()
)


def tokenize(text: str) -> list[str]:
    """Lower-cased runs of word characters (`\\w+`); punctuation and spaces only separate tokens."""
    return _WORD.findall(text.lower())


def _may_modify(word: str) -> bool:
    """lemminflect knows the word as an adjective or an adverb (it may know it as a noun too)."""
    classes = getAllLemmas(word)
    return "ADJ" in classes or "ADV" in classes


class AspectVocabulary:
    """`frequency`: each aspect word with the number of review sentences it is found in, out of `sentences`;
    `kinds`: the words left out as the catalogue's kind (found only when each sentence's item is given)."""

    def __init__(
        self,
        review_sentences: Sequence[str],
        opinion_words: dict[str, float],
        items: Sequence[str] | None = None,
    ):
        """`items`, when given, holds the item of each sentence, in the same order."""
        found: Counter[str] = Counter()
        uses: Counter[str] = Counter()
        as_noun: Counter[str] = Counter()
        as_head: Counter[str] = Counter()
        spread: dict[str, set[str]] = {}
        for at, sentence in enumerate(review_sentences):
            tokens = tokenize(sentence)
            found.update(set(tokens))
            for i, word in enumerate(tokens):
                uses[word] += 1
                as_noun[word] += any(i - gap >= 0 and tokens[i - gap] in _DETERMINERS for gap in (1, 2))
                after = tokens[i + 1] if i + 1 < len(tokens) else None
                as_head[word] += after is None or after in STOPWORDS or after in opinion_words
            if items is not None:
                for word in set(tokens):
                    spread.setdefault(word, set()).add(items[at])
        self.sentences = len(review_sentences)
        candidates = {
            word: n
            for word, n in found.items()
            if n >= MIN_SENTENCES
            and _ASPECT_WORD.match(word)
            and word not in STOPWORDS
            and word not in NOT_ASPECTS
            and word not in NAMES_NOTHING
            and word not in PEOPLE
            and word not in opinion_words
            and as_noun[word] >= NOUN_SHARE * uses[word]
            and (as_head[word] >= HEAD_SHARE * uses[word] or not _may_modify(word))
        }
        n_items = len(set(items)) if items is not None else 0
        self.kinds = frozenset(
            word
            for word in candidates
            if n_items >= MIN_ITEMS_FOR_KIND and len(spread.get(word, ())) >= KIND_SHARE * n_items
        )
        self.frequency = {word: n for word, n in candidates.items() if word not in self.kinds}

    @property
    def words(self) -> list[str]:
        return sorted(self.frequency)

    def in_text(self, text: str) -> set[str]:
        return {w for w in tokenize(text) if w in self.frequency}
