"""Claim splitting: a reason → the claims it makes, each with its character span in the reason.

Sentences first (not at decimals such as "$4.99", common abbreviations, or inside a quotation), then clauses joined
by "and", "but", "while", "although" or a semicolon, when each side has a predicate of its own: "It arrived quickly
and my dad loved it" is two claims; "cheap and cheerful" is one. Deterministic, linear in the reason's length, no
model: the checker must explain its decisions and run at thousands of claims per second.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_REASON_CHARS = 20_000

_SENTENCE_END = re.compile(r'[.!?…]+["”\')\]]*(?=\s+["“(\[]?[A-Z0-9$])')
_ABBREVIATIONS = frozenset("mr mrs ms dr st vs etc e.g i.e approx no inc ltd co jr sr fig".split())
_COORDINATOR = re.compile(r"\s*(?:;|,?\s+(?:and|but|while|whereas|although|though)\s+)", re.I)
_WORD = re.compile(r"[A-Za-z']+")
# Verbs and auxiliaries that mark a predicate in the short, plain sentences of product reasons.
_PREDICATE_WORDS = frozenset(
    """
    is are was were be been being am isn't aren't wasn't weren't has have had hasn't haven't does do did doesn't
    don't didn't can can't could will won't would should may might must costs cost comes come came works work
    worked fits fit keeps keep kept holds hold held makes make made looks look looked feels feel felt says say
    said love loves loved like likes liked hate hates hated uses use used arrived arrives lasts last lasted runs
    run ran includes include offers offer provides provide gives give gave needs need needed buy buys bought rated
    rates recommend recommends recommended got gets broke breaks charges charge supports support lacks lack seems
    seem seemed expires expire ships ship shipped write writes wrote find finds found think thinks thought mention
    mentions notes note reports report
    """.split()
)
# A clause that opens with its own subject ("…; it never expires") has a predicate even when its verb is not listed.
_SUBJECTS = frozenset("it they he she we you i this that there".split())


@dataclass(frozen=True)
class ClaimSpan:
    text: str
    start: int
    end: int
    sentence: int = 0  # which sentence of the reason the claim is in (clauses of one sentence share it)


def is_predicate_word(word: str) -> bool:
    """A verb or auxiliary of the kind that marks a predicate ("is", "arrived", "works")."""
    word = word.lower()
    return word in _PREDICATE_WORDS or (len(word) > 4 and word.endswith("ed"))


def has_predicate(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    if len(words) > 1 and words[0] in _SUBJECTS:
        return True
    return any(is_predicate_word(w) for w in words)


def inside_quote(text: str, position: int) -> bool:
    return text.count('"', 0, position) % 2 == 1


def sentence_spans(reason: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(reason):
        end = match.end()
        before = reason[start : match.start()].rsplit(None, 1)
        last_word = before[-1].lower().rstrip(".") if before else ""
        if last_word in _ABBREVIATIONS or inside_quote(reason, end):
            continue
        spans.append((start, end))
        start = end
    spans.append((start, len(reason)))
    return spans


def clause_spans(reason: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split one sentence at coordinators whose both sides carry a predicate; quotes are never split."""
    pieces: list[tuple[int, int]] = []
    left = start
    for match in _COORDINATOR.finditer(reason, start, end):
        if inside_quote(reason, match.start()):
            continue
        head, tail = reason[left : match.start()], reason[match.end() : end]
        if has_predicate(head) and has_predicate(tail):
            pieces.append((left, match.start()))
            left = match.end()
    pieces.append((left, end))
    return pieces


def split_claims(reason: str) -> list[ClaimSpan]:
    """The claims of a reason, in order; `reason[c.start:c.end] == c.text` for each. ValueError past the limit."""
    if len(reason) > MAX_REASON_CHARS:
        raise ValueError(f"reason is {len(reason):,} characters; the limit is {MAX_REASON_CHARS:,}")
    claims = []
    for sentence, (sentence_start, sentence_end) in enumerate(sentence_spans(reason)):
        for start, end in clause_spans(reason, sentence_start, sentence_end):
            text = reason[start:end]
            stripped = text.strip()
            if not any(ch.isalnum() for ch in stripped):
                continue
            offset = start + (len(text) - len(text.lstrip()))
            claims.append(ClaimSpan(stripped, offset, offset + len(stripped), sentence))
    return claims
