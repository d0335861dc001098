"""What kind of word a claim's unbacked word is: a thing or a quality the evidence never names ("garlic", "tacky",
"decorative") invents a fact; a verb ("sells", "delivered") or a function word mostly rephrases one. Word classes and
lemmas come from lemminflect's tables (no model, no download)."""

from __future__ import annotations

from functools import lru_cache

from lemminflect import getAllLemmas

from whyrec.checker.analysis import NUMBER_WORDS
from whyrec.knowledge.sentiment import sentiment_words

# Words that relate, count or bound rather than name: checked by the numbers and negation rules, or carrying no fact
# of their own ("both", "because", "only", "less than $30", "cheaper than $30").
LIGHT = frozenset(
    """
    both because only out onto into inside upon across via per each whole able worth less least more most
    same own other another else instead usa u.s cheaper lower higher greater fewer
    """.split()
)


@lru_cache(maxsize=1 << 15)
def lemmas(word: str) -> frozenset[str]:
    """Every lemma the word may have ("bought" → buy, "sold" → sell), and the word itself."""
    found: dict[str, tuple[str, ...]] = getAllLemmas(word)
    return frozenset({word, *(lemma for forms in found.values() for lemma in forms)})


@lru_cache(maxsize=1 << 15)
def names_a_thing(word: str) -> bool:
    """A noun or an adjective with no verb reading: what it names must be in the evidence."""
    if word in LIGHT or word in NUMBER_WORDS or not word.isalpha() or word in sentiment_words():
        return False  # numbers and feelings have rules of their own
    classes: set[str] = set(getAllLemmas(word))
    return bool(classes & {"NOUN", "ADJ"}) and not classes & {"VERB", "AUX", "ADV", "ADP"}


@lru_cache(maxsize=1 << 15)
def only_a_verb(word: str) -> bool:
    """A word with no reading but a verb's ("printed", "it's" is not one: it has none in the tables)."""
    classes: set[str] = set(getAllLemmas(word))
    return bool(classes) and classes <= {"VERB", "AUX"}
