"""The aspect vocabulary: the things reviews talk about, not how, when, or what every item is."""

from __future__ import annotations

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


def test_a_small_catalogue_has_no_kind_words():
    sentences = [f"The magazine has the maps {i}." for i in range(9)]
    vocabulary = AspectVocabulary(sentences, {}, [f"I{i}" for i in range(9)])
    assert vocabulary.kinds == frozenset()
    assert "magazine" in vocabulary.frequency
