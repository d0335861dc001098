"""Word lists the rules read: antonym pairs (antonyms.tsv, see README.md here), superlatives and guarantees,
attribute vocabularies, price judgements. The sentiment lexicon (VADER) is `whyrec.knowledge.sentiment`."""

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

# Price judgements, by family (whole words and phrases, lower case; a space also matches a hyphen). A claim that makes
# one needs a cited unit that makes one of the same family; `rules/price.py` reads them. "free" is a judgement only
# where it says what something costs, not in "stress free", "risk-free" or "free shipping" (see the rule).
PRICE_JUDGEMENTS: dict[str, tuple[str, ...]] = {
    "free": (
        "free",
        "for free",
        "free of charge",
        "costs nothing",
        "cost nothing",
        "at no cost",
        "at no charge",
        "no charge",
        "complimentary",
    ),
    "cheap": (
        "cheap",
        "cheaply",
        "cheaper",
        "inexpensive",
        "inexpensively",
        "affordable",
        "affordably",
        "low cost",
        "low priced",
        "low price",
        "budget friendly",
        "economical",
        "reasonably priced",
        "reasonable price",
        "fairly priced",
        "good price",
        "great price",
    ),
    "expensive": (
        "expensive",
        "pricey",
        "pricy",
        "pricier",
        "overpriced",
        "costly",
        "high priced",
        "high price",
        "steep price",
        "costs too much",
        "cost too much",
    ),
    "value": (
        "good value",
        "great value",
        "excellent value",
        "best value",
        "fair value",
        "value for money",
        "value for the money",
        "worth the money",
        "worth the price",
        "worth the cost",
        "worth every penny",
        "worth it",
        "money's worth",
        "bang for the buck",
        "bang for your buck",
        "good deal",
        "great deal",
        "bargain",
    ),
    "discount": ("discount", "discounts", "discounted", "on sale", "sale price", "marked down", "clearance"),
}
# Which families back a judgement: a low price is good value, but "pricey, but worth every penny" is not cheap.
PRICE_BACKING: dict[str, frozenset[str]] = {
    "free": frozenset({"free"}),
    "cheap": frozenset({"cheap"}),
    "value": frozenset({"value", "cheap"}),
    "expensive": frozenset({"expensive"}),
    "discount": frozenset({"discount"}),
}
# "free X" or "X is free" with X one of these names that thing as free (shipping, returns), not the item.
FREE_OTHER_THINGS = frozenset(
    """
    shipping ship ships shipped delivery deliveries delivered return returns exchange exchanges trial trials wrap
    wrapping activation app apps upgrade upgrades replacement replacements installation setup
    """.split()
)
# Words after "free" that make an idiom, not a price ("free time", "free speech", "free up").
FREE_IDIOMS = frozenset(
    """
    up time will speech market trade agent kick throw range form fall press rein hand spirit standing style flow
    world from
    """.split()
)
# Words before "free" that leave it a price ("completely free", "get one free"); another word before it makes a
# compound that names something else ("stress free", "gluten free", "feel free").
FREE_LEADS = frozenset(
    """
    totally completely entirely absolutely basically practically virtually essentially almost nearly really actually
    truly literally effectively technically now always still just even only get gets got getting come comes came
    coming included available offered received given being become becomes remain remains stay stays am one two
    """.split()
)
# "free to X" is a price for these X ("free to use", "free to join"), not in "free to choose".
FREE_TO = frozenset("use join download play register enter attend access stream watch read try sign".split())

# Praise that names no property: "a *great* product", "*perfect* for anyone". A claim about the item made of these
# and its name says nothing the evidence could check (what reviewers feel is checked as their claim, not the item's).
GENERIC_PRAISE = frozenset(
    """
    great good nice perfect excellent awesome amazing wonderful fantastic best better lovely fine cool super terrific
    outstanding superb ideal favorite favourite love loved loves like liked likes enjoy enjoyed enjoys recommend
    recommended happy pleased satisfied worth worthwhile wonderful special must-have incredible fabulous
    """.split()
)
