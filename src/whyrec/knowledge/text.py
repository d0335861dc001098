"""Cleaning of marketplace text: HTML fragments, entities, whitespace, prices."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<[^>]*(?:>|$)")
_SPACE = re.compile(r"\s+")
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
