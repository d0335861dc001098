"""The aspect vocabulary: the things reviews talk about, not how, when, or what every item is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from whyrec.knowledge.aspects import AspectVocabulary


def _sentences(template: str, n: int = 6) -> list[str]:
    return [template.format(i=i) for i in range(n)]


def test_a_word_used_as_a_modifier_is_not_an_aspect_but_a_noun_that_can_also_modify_is():
    sentences = (
        _sentences("The new issue {i} arrived.")  # "new" modifies "issue"
        + _sentences("The present {i} was wrapped, a nice present.")  # "present" ends its phrase
        + _sentences("I liked the present.")
    )
    words = AspectVocabulary(sentences, {}).frequency
    assert "issue" in words and "present" in words
    assert "new" not in words


def test_times_and_the_act_of_reviewing_are_not_aspects():
    sentences = _sentences("This review is about the time it took, and the lid.")
    words = AspectVocabulary(sentences, {}).frequency
    assert "lid" in words
    assert "review" not in words and "time" not in words


def test_a_word_in_the_reviews_of_nearly_every_item_is_the_catalogues_kind():
    items = [f"I{n}" for n in range(10)]
    sentences, owners = [], []
    for n, item in enumerate(items):
        for i in range(3):
            sentences.append(f"The magazine has the recipes {i}." if n < 3 else f"The magazine has the maps {i}.")
            owners.append(item)
    vocabulary = AspectVocabulary(sentences, {}, owners)
    assert vocabulary.kinds == {"magazine"}
    assert "magazine" not in vocabulary.frequency
    assert {"recipes", "maps"} <= set(vocabulary.frequency)
    # without the items, nothing can be told to be the kind
    assert "magazine" in AspectVocabulary(sentences, {}).frequency


def test_nouns_of_kind_and_amount_and_inflected_verbs_are_not_aspects_but_an_activity_is():
    sentences = _sentences("The type of recipes, a bunch of the featured recipes, the gardening tips {i}.")
    sentences += _sentences("It includes the recipes; the fact is it added the maps {i}.")
    words = AspectVocabulary(sentences, {}).frequency
    assert {"recipes", "maps", "gardening", "tips"} <= set(words)
    assert not {"type", "bunch", "fact", "featured", "includes", "added"} & set(words)


def test_a_kind_word_cut_short_or_in_the_plural_is_the_kind_too():
    items = [f"I{n}" for n in range(10)]
    sentences, owners = [], []
    for n, item in enumerate(items):
        for i in range(3):
            thing = "maps" if n < 3 else "recipes"
            sentences.append(f"The magazine has the {thing} {i}, a good mag, one of my magazines.")
            owners.append(item)
    vocabulary = AspectVocabulary(sentences, {}, owners)
    assert vocabulary.kinds == {"magazine", "mag", "magazines"}
    assert {"maps", "recipes"} <= set(vocabulary.frequency) and "mag" not in vocabulary.frequency


def test_a_small_catalogue_has_no_kind_words():
    sentences = [f"The magazine has the maps {i}." for i in range(9)]
    vocabulary = AspectVocabulary(sentences, {}, [f"I{i}" for i in range(9)])
    assert vocabulary.kinds == frozenset()
    assert "magazine" in vocabulary.frequency


def test_the_index_build_stores_the_vocabulary_and_opening_reads_it_back(demo_index_dir: Path, embedder: Any) -> None:
    from whyrec.knowledge import Store
    from whyrec.knowledge.aspects import VOCABULARY_FILE
    from whyrec.retrieval import open_index

    stored = (demo_index_dir / VOCABULARY_FILE).read_text(encoding="utf-8")
    store = Store(demo_index_dir / "store.sqlite")
    computed = AspectVocabulary.of_store(store)
    store.close()
    read = AspectVocabulary.from_json(stored)
    assert read is not None and read.frequency == computed.frequency and read.kinds == computed.kinds
    assert read.sentences == computed.sentences and "tin" in read.frequency
    opened = open_index(demo_index_dir, embedder)
    assert opened.stored_vocabulary is not None and opened.stored_vocabulary.frequency == computed.frequency
    opened.close()


def test_a_vocabulary_stored_by_another_format_or_damaged_is_computed_again() -> None:
    from whyrec.knowledge.aspects import VOCABULARY_FORMAT

    vocabulary = AspectVocabulary(["the tin is nice"] * 6, {}, None)
    again = AspectVocabulary.from_json(vocabulary.to_json())
    assert again is not None and again.frequency == vocabulary.frequency == {"tin": 6}
    older = vocabulary.to_json().replace(f'"format": {VOCABULARY_FORMAT}', f'"format": {VOCABULARY_FORMAT - 1}')
    assert AspectVocabulary.from_json(older) is None
    assert AspectVocabulary.from_json('{"format": 1, "sentences": "x"}') is None
    assert AspectVocabulary.from_json("not json") is None
