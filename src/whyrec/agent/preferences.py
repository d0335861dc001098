"""A chat user's preferences applied to evidence: units about an aspect they do not care about are left out, units
they marked as not relevant are never shown again, and the aspects they asked about lead their profile."""

from __future__ import annotations

import re
from collections.abc import Sequence

from whyrec.checker.analysis import stem
from whyrec.feedback import Feedback, FeedbackStore
from whyrec.knowledge.text import STOPWORDS
from whyrec.schema import EvidenceUnit, Explanation, Preferences

# A few aspects shoppers name with many words. An aspect not listed here matches its own words (stemmed).
ASPECT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "price": ("price", "cost", "cheap", "expensive", "pricey", "value", "money", "dollar", "afford", "budget", "$"),
    "shipping": ("shipping", "delivery", "deliver", "arrive", "arrived", "ship", "shipped", "package", "mail"),
    "design": ("design", "look", "looks", "pretty", "beautiful", "cute", "color", "colour", "style", "picture"),
    "brand": ("brand", "maker", "manufacturer", "company"),
    "size": ("size", "small", "large", "big", "tiny", "dimensions", "fit"),
}
_GROUPS = [frozenset(stem(w) for w in (name, *synonyms)) for name, synonyms in ASPECT_SYNONYMS.items()]
_ASPECT_WORD_STEMS = frozenset().union(*_GROUPS)
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_MONEY = re.compile(r"\$\s?\d")
MAX_ASPECTS = 8


def _stems(text: str) -> set[str]:
    """The stems of a text's content words. "cost" is a stopword to the checker but a word about price here."""
    words = (w for w in _WORD.findall(text.lower()) if w not in STOPWORDS or stem(w) in _ASPECT_WORD_STEMS)
    return {stem(w) for w in words}


def aspect_stems(aspect: str) -> frozenset[str]:
    """The stems that mark a text as being about `aspect`: its words, and a listed aspect's synonyms when it uses
    any of them ("cost" and "money" are the price too)."""
    stems = _stems(aspect)
    for group in _GROUPS:
        if stems & group:
            stems |= group
    return frozenset(stems)


def mentions(unit: EvidenceUnit, aspect: str) -> bool:
    """Whether a unit is about the aspect: its spec field names it, or its text uses one of its words."""
    stems = aspect_stems(aspect)
    if unit.field and stem(unit.field.lower()) in stems:
        return True
    if "$" in stems and _MONEY.search(unit.text):
        return True
    return bool(stems & _stems(unit.text))


def allows(preferences: Preferences, unit: EvidenceUnit) -> bool:
    """False for a unit the user marked not relevant or one about an aspect they do not care about."""
    if unit.id in preferences.excluded:
        return False
    return not any(mentions(unit, aspect) for aspect in preferences.avoid)


def profile_with(profile: Sequence[str], preferences: Preferences) -> list[str]:
    """The user's profile words with the asked-about aspects first and the avoided ones taken out."""
    avoided = set().union(*(aspect_stems(a) for a in preferences.avoid)) if preferences.avoid else set()
    words = [*preferences.focus, *profile]
    kept = [w for w in words if not (aspect_stems(w) & avoided)]
    return list(dict.fromkeys(kept))


def updated(
    preferences: Preferences,
    *,
    focus: Sequence[str] = (),
    avoid: Sequence[str] = (),
    exclude: Sequence[str] = (),
) -> Preferences:
    """New preferences: an aspect moved to `avoid` leaves `focus` and the other way round (the latest word wins)."""
    avoid_stems = {s for a in avoid for s in aspect_stems(a)}
    focus_stems = {s for a in focus for s in aspect_stems(a)}
    kept_focus = [a for a in preferences.focus if not (aspect_stems(a) & avoid_stems)]
    kept_avoid = [a for a in preferences.avoid if not (aspect_stems(a) & focus_stems)]
    return Preferences(
        focus=list(dict.fromkeys([*focus, *kept_focus]))[:MAX_ASPECTS],
        avoid=list(dict.fromkeys([*kept_avoid, *avoid]))[-MAX_ASPECTS:],
        excluded=list(dict.fromkeys([*preferences.excluded, *exclude])),
    )


def from_feedback(preferences: Preferences, text: str) -> Preferences | None:
    """`preferences` updated by feedback text ("I don't care about price", "I care about design"); None if the text
    says nothing about aspects. Later words win over earlier ones."""
    from whyrec.agent.intents import MAX_MESSAGE_CHARS, read_message

    reading = read_message(" ".join(text.split())[:MAX_MESSAGE_CHARS])
    if reading.intent != "feedback" or not (reading.focus or reading.avoid):
        return None
    return updated(preferences, focus=reading.focus, avoid=reading.avoid)


def record_feedback(
    store: FeedbackStore, feedback: Feedback, explanation: Explanation | None = None
) -> tuple[int, Preferences | None]:
    """Store `feedback`, and keep what its text says about the user's preferences ("I don't care about price") for
    their next sessions, the latest word winning over what they said before. Returns the feedback's id and the
    preferences it changed (None: the text says nothing about them)."""
    kept = from_feedback(store.preferences(feedback.user_id), feedback.text) if feedback.text else None
    if kept is not None:
        store.set_preferences(feedback.user_id, kept)
    return store.add(feedback, explanation), kept


def describe_preferences(preferences: Preferences) -> str:
    parts = []
    if preferences.focus:
        parts.append("cares about " + ", ".join(preferences.focus))
    if preferences.avoid:
        parts.append("does not care about " + ", ".join(preferences.avoid))
    if preferences.excluded:
        parts.append(f"{len(preferences.excluded)} evidence units marked not relevant")
    return "; ".join(parts) or "nothing yet"
