"""Word lists the rules read: antonym pairs (antonyms.tsv, see README.md here), superlatives and guarantees,
attribute vocabularies, and the sentiment lexicon (VADER, from the vaderSentiment package)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from whyrec.checker.analysis import stem


@lru_cache(maxsize=1)
def antonyms() -> dict[str, frozenset[str]]:
    """stem → the stems of its antonyms, both directions. A pair whose words share a stem is left out."""
    table: dict[str, set[str]] = {}
    text = resources.files(__name__).joinpath("antonyms.tsv").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        left, right = (stem(w.strip()) for w in line.split("\t")[:2])
        if left != right:
            table.setdefault(left, set()).add(right)
            table.setdefault(right, set()).add(left)
    return {word: frozenset(others) for word, others in table.items()}


# Words that claim more than a plain statement: the evidence must say as much (whole words).
SUPERLATIVES = frozenset(
    """
    best worst greatest cheapest easiest fastest quickest nicest finest highest lowest largest smallest biggest
    perfect perfectly ultimate ideal unbeatable unmatched flawless flawlessly always forever guaranteed guarantee
    guarantees everyone everybody every lifetime ever most least top-rated unrivaled unparalleled superior
    """.split()
)
# Evidence that backs a superlative without the same word ("every issue" / "in each issue").
SUPERLATIVE_BACKING: dict[str, frozenset[str]] = {
    "every": frozenset({"each", "every", "per", "after", "weekly", "monthly", "daily", "annually", "yearly"}),
    "always": frozenset({"every", "each", "always"}),
    "everyone": frozenset({"everybody", "everyone", "anyone", "anybody", "all"}),
    "everybody": frozenset({"everybody", "everyone", "anyone", "anybody", "all"}),
}
# "never" is a guarantee too, but a negated statement in the evidence can back it ("no expiration date").
NEVER = "never"

# Attribute vocabularies (whole words): a claim naming one value where the evidence names another is contradicted.
ATTRIBUTES: dict[str, frozenset[str]] = {
    name: frozenset(words.split())
    for name, words in {
        "colour": "black white red blue green yellow orange purple pink brown grey gray silver gold golden beige "
        "navy teal turquoise maroon",
        "material": "plastic metal metallic paper cardboard wood wooden leather cotton wool glass steel aluminum "
        "aluminium silicone rubber fabric ceramic",
        "network": "visa mastercard amex discover maestro",
        "format": "email emailed emails printable print physical plastic digital electronic mailed text sms",
        "device": "iphone ipad android kindle windows mac macos ios alexa chromebook",
        "frequency": "weekly monthly quarterly annual annually yearly daily biweekly bimonthly",
    }.items()
}
