"""The sentiment lexicon every layer reads (VADER, from the vaderSentiment package): word valences for the aspect
vocabulary and the checker's feeling rules, and a sentence's compound score for signals, profiles and chat."""

from __future__ import annotations

from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer


@lru_cache(maxsize=1)
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment_words() -> dict[str, float]:
    """VADER's lexicon: word → valence, from -4 to 4."""
    return _analyzer().lexicon  # type: ignore[no-any-return]


@lru_cache(maxsize=1 << 16)
def polarity(text: str) -> float:
    """VADER's compound score of `text`, from -1 (negative) to 1 (positive)."""
    return float(_analyzer().polarity_scores(text)["compound"])
