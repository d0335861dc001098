"""Aspect words: the things a catalogue's reviews talk about, found without a parser or a tagger.

An aspect word has three or more letters, is not a stopword, is not an opinion word (VADER's sentiment lexicon:
"great" and "love" are how a reviewer feels, not what about), is found in at least MIN_SENTENCES review sentences, and
is used as a noun: at least NOUN_SHARE of its uses come right after a determiner or one word after it ("the tin",
"a nice box", "my brother"), which leaves out verbs such as "bought". The same test lets through words of size,
amount and order that also follow determiners ("the only", "a little", "my own"); NOT_ASPECTS names those,
NAMES_NOTHING the words that name a time or the act of buying and reviewing ("the time", "this review"), ABSTRACT the
nouns of kind, part and amount ("a bunch of", "the type of", "the fact that"), and PEOPLE the people a product is bought
for. Three more tests drop what is not a thing the item has:

- **Modifiers**: a word lemminflect knows as an adjective or adverb ("new", "first", "monthly", "black") counts only
  when it mostly ends its phrase (followed by a stopword, an opinion word or nothing in at least HEAD_SHARE of its
  uses): "the new issue" uses "new" as a modifier, "a nice present" uses "present" as the thing.
- **Inflected verbs**: a word lemminflect knows only as an inflected verb ("the featured recipes", "it includes")
  is not a thing; an -ing form is an activity and stays ("gardening").
- **The catalogue's kind**: given each sentence's item, a word found in the reviews of at least KIND_SHARE of the
  items (with at least MIN_ITEMS_FOR_KIND items) is what every item is ("card" of gift cards, "magazine" of
  magazines), not an aspect that sets one apart; so is a kind word cut short or in the plural ("mag", "cards").

The vocabulary is computed once per index, when it is built (`VOCABULARY_FILE` beside the store), and read back when
the index opens; an index built before, or by a whyrec whose VOCABULARY_FORMAT differs, has it computed at open.

English only.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from whyrec.knowledge.text import STOPWORDS

if TYPE_CHECKING:
    from whyrec.knowledge.store import Store

VOCABULARY_FILE = "aspects.json"
# what a stored vocabulary was computed by: bump it with any change to what AspectVocabulary finds, so that an index
# built before recomputes its vocabulary instead of serving a stale one
VOCABULARY_FORMAT = 2

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
# English nouns of kind, part, amount and reasoning ("a bunch of", "the type of", "a great choice", "the fact that"):
# they follow a determiner as a thing would, but a consensus "about the bunch" says nothing about an item.
ABSTRACT = frozenset(
    """above addition amount basis beginning bunch choice couple deal deals end eye fact following kind kinds left
    level majority mix must nature non part parts percentage point range reason rest run sense side sort sorts touch
    type types variety""".split()
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


def _only_an_inflected_verb(word: str) -> bool:
    """lemminflect knows the word only as an inflected verb ("featured", "includes", "helped"), which the determiner
    test lets through ("the featured recipes"); an -ing form names an activity ("gardening") and stays."""
    from lemminflect import getAllLemmas

    classes = getAllLemmas(word)
    return set(classes) == {"VERB"} and word not in classes["VERB"] and not word.endswith("ing")


def _short_for(word: str, kinds: frozenset[str]) -> bool:
    """The word is a kind word cut short or in the plural ("mag" of "magazine", "cards" of "card")."""
    return any(kind != word and (kind.startswith(word) or word == f"{kind}s") for kind in kinds)


def _may_modify(word: str) -> bool:
    """lemminflect knows the word as an adjective or an adverb (it may know it as a noun too)."""
    from lemminflect import getAllLemmas  # its dictionaries take 0.4 s to load: only when a vocabulary is computed

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
            and word not in ABSTRACT
            and word not in NAMES_NOTHING
            and word not in PEOPLE
            and word not in opinion_words
            and as_noun[word] >= NOUN_SHARE * uses[word]
            and (as_head[word] >= HEAD_SHARE * uses[word] or not _may_modify(word))
            and not _only_an_inflected_verb(word)
        }
        n_items = len(set(items)) if items is not None else 0
        kinds = frozenset(
            word
            for word in candidates
            if n_items >= MIN_ITEMS_FOR_KIND and len(spread.get(word, ())) >= KIND_SHARE * n_items
        )
        self.kinds = kinds | {word for word in candidates if _short_for(word, kinds)}
        self.frequency = {word: n for word, n in candidates.items() if word not in self.kinds}

    @classmethod
    def of_store(cls, store: Store) -> AspectVocabulary:
        """The vocabulary of a store's review sentences, with VADER's lexicon as the opinion words."""
        from whyrec.knowledge.sentiment import sentiment_words

        texts, items = store.unit_texts_by_item("review")
        return cls(texts, sentiment_words(), items)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": VOCABULARY_FORMAT,
                "sentences": self.sentences,
                "kinds": sorted(self.kinds),
                "frequency": dict(sorted(self.frequency.items())),
            }
        )

    @classmethod
    def from_json(cls, text: str) -> AspectVocabulary | None:
        """A stored vocabulary, or None when it is of another VOCABULARY_FORMAT or not one at all."""
        try:
            data = json.loads(text)
            if data.get("format") != VOCABULARY_FORMAT:
                return None
            vocabulary = cls.__new__(cls)
            vocabulary.sentences = int(data["sentences"])
            vocabulary.kinds = frozenset(str(w) for w in data["kinds"])
            vocabulary.frequency = {str(w): int(n) for w, n in data["frequency"].items()}
        except (ValueError, TypeError, KeyError, AttributeError):
            return None
        return vocabulary

    @property
    def words(self) -> list[str]:
        return sorted(self.frequency)

    def in_text(self, text: str) -> set[str]:
        return {w for w in tokenize(text) if w in self.frequency}
