"""What a user cares about, in words: the distinctive terms of their own reviews of other items.

A first, plain profile (frequency in the user's reviews, words common to most reviews left out); mined aspects
with sentiment replace it in issue 6/7. It feeds the prompt's "what this shopper wrote about before" line.
"""

from __future__ import annotations

from collections import Counter

from whyrec.knowledge import Store
from whyrec.knowledge.text import content_words, word_list

# A word found in more than this share of all review sentences says nothing about one user ("great", "gift").
GENERIC_SHARE = 0.04
MIN_WORD_CHARS = 3


class ProfileReader:
    """`aspects(user)`: up to n words the user wrote about most, most distinctive first."""

    def __init__(self, store: Store):
        self.store = store
        self._document_frequency: Counter[str] | None = None
        self._documents = 0

    def _generic(self) -> Counter[str]:
        if self._document_frequency is None:
            counts: Counter[str] = Counter()
            texts = self.store.unit_texts("review")
            for text in texts:
                counts.update(content_words(text))
            self._document_frequency, self._documents = counts, len(texts)
        return self._document_frequency

    def aspects(self, user_id: str, exclude_item: str | None = None, n: int = 5) -> list[str]:
        rowids = self.store.user_rowids(user_id, "review", exclude_item=exclude_item)
        words = Counter(
            w
            for unit in self.store.units_by_rowid(rowids).values()
            for w in word_list(unit.text)
            if len(w) >= MIN_WORD_CHARS and not w.isdigit()
        )
        frequency = self._generic()
        limit = max(1, int(GENERIC_SHARE * self._documents))
        ranked = sorted((w for w in words if frequency[w] <= limit), key=lambda w: (-words[w], frequency[w], w))
        return ranked[:n]
