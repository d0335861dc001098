"""Claims whyrec states in its own words: the signals (`whyrec.knowledge.signals`) that say why an item fits a shopper.

A signal's text is already a claim whyrec can stand behind: a fixed format over figures it counted, which the checker
reads back. Having the model restate it costs a third of the generated tokens and adds nothing but the chance of a
changed figure, so a prompt version with `states_signals` has the explainer state up to MAX_STATED signals itself,
first in the reason, each citing its own unit; the model sees neither those units nor the shopper's history lines (the
signals carry the link to the shopper) and writes only what the evidence says about the item.
"""

from __future__ import annotations

from collections.abc import Sequence

from whyrec.agent.draft import DraftClaim
from whyrec.schema import Evidence

MAX_STATED = 2
# The order in which signals are stated: the shopper's own link first, then what reviewers agree on, then the stars.
_ORDER = ("also", "aspect:", "rating")


def _rank(unit: Evidence) -> tuple[int, int, int]:
    field = unit.field or ""
    kind = next((n for n, prefix in enumerate(_ORDER) if field.startswith(prefix)), len(_ORDER))
    return (unit.user_id is None, kind, unit.rank)


def stated_signals(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The signal units whyrec states itself, in the order they are said (not the item's derived name)."""
    signals = [e for e in evidence if e.kind == "signal" and e.field != "title"]
    return sorted(signals, key=_rank)[:MAX_STATED]


def stated_claims(evidence: Sequence[Evidence]) -> list[DraftClaim]:
    """One claim per stated signal: its text, citing it."""
    return [DraftClaim(text=unit.text, cites=[unit.id]) for unit in stated_signals(evidence)]


def left_to_the_model(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The evidence the model sees when whyrec states the signals: all but those and the shopper's history lines."""
    stated = {unit.id for unit in stated_signals(evidence)}
    return [e for e in evidence if e.id not in stated and e.kind != "history"]
