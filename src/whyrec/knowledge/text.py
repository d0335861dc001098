"""Cleaning of marketplace text: HTML fragments, entities, whitespace, prices."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]*(?:>|$)")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_PRICE = re.compile(r"^\$?\s*(\d[\d,]*(?:\.\d+)?)$")


def clean_text(value: str) -> str:
    """Strip HTML tags (even an unclosed one), decode entities, squeeze whitespace."""
    text = _TAG.sub(" ", value.replace("<br>", "\n").replace("<br />", "\n"))
    return _SPACE.sub(" ", html.unescape(text)).strip()


def parse_price(value: str | float | int | None) -> float | None:
    """A single price like `$1,299.00` or `25`; ranges, CSS junk and blanks give None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if value >= 0 else None
    match = _PRICE.match(value.strip())
    return float(match.group(1).replace(",", "")) if match else None


def format_price(price: float) -> str:
    return f"${price:,.2f}"


def slug(value: str) -> str:
    """A readable id fragment: `Shipping Weight:` -> `shipping-weight`."""
    return re.sub(r"[^a-z0-9]+", "-", value.lower()).strip("-") or "field"


# Words that frame a claim rather than carry its content.
_STOPWORD_TEXT = (
    "a an the and or but of to in on for with at by from as is are was were be been it its this that these those "
    "i me my we our you your he she they them their his her has have had do does did so very also just than then "
    "there here which who what when where how all any some more most such not no yes can will would should could "
    "reviewer reviewers wrote says said seller history costs cost"
)
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def word_list(text: str) -> list[str]:
    """Lower-cased words that carry content, in order, repeats kept."""
    return [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]


def content_words(text: str) -> set[str]:
    """The distinct content words of a text: what a claim and its evidence must share."""
    return set(word_list(text))
