"""Atomic claims: a claim → the single statements it makes, each to be checked on its own.

"It is sturdy, quiet and waterproof" makes three ("It is sturdy", "It is quiet", "It is waterproof"); "It arrived
quickly and works well" two ("It arrived quickly", "It works well"); "The magazine, which comes monthly, has recipes"
two ("The magazine has recipes", "The magazine comes monthly"); "My parents enjoyed dinner and dessert was included"
two clauses. A claim is supported only when every atom is, so a true half cannot carry an invented one.

Lexical and linear, no parser: clauses first (claims.py), then relative clauses set off by commas, then a list of
conjuncts after the clause's last verb group, each rebuilt into a sentence with the words it shares. What is never
split: quotes, names ("Food and Wine", "Barnes & Noble"), ranges ("between $20 and $30"), lists with no verb to
share ("great articles and pictures").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from whyrec.checker.claims import clause_spans, has_predicate, inside_quote, is_predicate_word, sentence_spans

MAX_ATOMS = 16  # more separate statements than this in one claim is not a reason's claim: it gets a verdict of its own

_WORD = re.compile(r"[A-Za-z0-9$][\w$'.%/-]*")
_SEPARATOR = re.compile(r"\s*,\s*(?:and|or)\s+|\s*,\s+|\s+(?:and|or)\s+", re.I)  # "3,000" is a number
_RELATIVE = re.compile(r",\s*(?:which|who)\s+([^,]+?)\s*(?:,\s*|$)", re.I)
# A clause that reports what someone says: its frame carries over to the clauses joined to it.
_SAYING = re.compile(
    r"^(?:[\w'-]+\s+){0,3}?(?:says?|said|mentions?|mentioned|notes?|noted|reports?|reported|writes?|wrote|finds?|"
    r"found|thinks?|thought|feels?|felt|agrees?|agreed)(?:\s+that)?\s+",
    re.I,
)
_BOUND_WORD = re.compile(r"(?:less|more|fewer|under|over|up|above|below|lower|higher|cheaper|greater)\b", re.I)
_ATTACHED = re.compile(r"(?:with|including|of which)\b", re.I)
_NEGATION = frozenset("not no never n't".split())
_END = ".!?;:"


@dataclass(frozen=True)
class Atom:
    text: str  # the statement as a sentence of its own, shared words copied in ("It is quiet")
    start: int  # where its own words stand in the claim (for a rebuilt atom, the conjunct it adds)
    end: int
    own: str | None = None  # a rebuilt atom's own words, which its evidence must back by themselves


def _inside_quote(text: str, position: int) -> bool:
    """Inside a straight quote (as claims.py reads one) or a curly one."""
    return inside_quote(text, position) or text.count("“", 0, position) > text.count("”", 0, position)


def _verb_groups(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Runs of predicate words, negations between them ("does not expire"), in text[start:end]."""
    groups: list[tuple[int, int]] = []
    open_group = False
    for match in _WORD.finditer(text, start, end):
        word = match.group().lower()
        if is_predicate_word(word) or (open_group and (word in _NEGATION or word.endswith("n't"))):
            if open_group:
                groups[-1] = (groups[-1][0], match.end())
            else:
                groups.append((match.start(), match.end()))
            open_group = True
        else:
            open_group = False
    return groups


def _is_name_join(text: str, left_end: int, right_start: int) -> bool:
    """A separator between two capitalised words joins a name ("Food and Wine", "Town & Country")."""
    before = text[:left_end].rstrip()
    after = text[right_start:].lstrip()
    left = before.rsplit(None, 1)[-1] if before.split() else ""
    return bool(left[:1].isupper() and after[:1].isupper())


def _words(text: str) -> int:
    return len(_WORD.findall(text))


def _sentence(text: str) -> str:
    text = " ".join(text.split()).strip(" ,")
    return text if text[-1:] in _END else text + "."


def _coordination(text: str, start: int, end: int) -> list[Atom]:
    """The atoms of one clause that lists conjuncts after a verb group; [] when it lists none."""
    groups = _verb_groups(text, start, end)
    if not groups:
        return []
    seps = [
        m
        for m in _SEPARATOR.finditer(text, groups[0][1], end)
        if not _inside_quote(text, m.start())
        and not _is_name_join(text, m.start(), m.end())
        and not _BOUND_WORD.match(text, m.end())  # "$30 or less", "4 stars and up": one bound
        and not _ATTACHED.match(text, m.end())  # "4.8 stars, with 58 positive …": a phrase attached, not a conjunct
    ]
    if not seps or not any(m.group().strip(" ,").lower() in ("and", "or") for m in seps):
        return []
    if re.search(r"\bbetween\b", text[start : seps[0].start()], re.I):
        return []  # "between $20 and $30" is one range
    # a comma separates conjuncts only in a list that ends with "and"/"or": "a, b and c"
    last_and = max(i for i, m in enumerate(seps) if m.group().strip(" ,").lower() in ("and", "or"))
    seps = seps[: last_and + 1]
    first_sep = seps[0]
    groups = [g for g in groups if g[1] <= first_sep.start()]
    if not groups:
        return []
    verb_start, verb_end = groups[-1]  # the clause's last verb group before the list: what the conjuncts share
    subject = text[start:verb_start]
    ends = [m.start() for m in seps[1:]] + [end]
    pieces = [(sep.end(), right) for sep, right in zip(seps, ends, strict=True)]
    tail_words = list(_WORD.finditer(text, verb_end, first_sep.start()))
    # the first conjunct: as many words before the separator as the second conjunct has (at least one), never
    # reaching back into the verb group: "It includes [recipes] and [travel tips]"
    size = max(1, min(_words(text[pieces[0][0] : pieces[0][1]]), len(tail_words)))
    first_start = tail_words[-size].start() if tail_words else verb_end
    head = text[start:first_start]
    first = text[first_start : first_sep.start()] if tail_words else None
    atoms = [
        Atom(_sentence(text[start : first_sep.start()]), first_start if tail_words else start, first_sep.start(), first)
    ]
    for piece_start, piece_end in pieces:
        conjunct = text[piece_start:piece_end].strip()
        if not conjunct or not any(ch.isalnum() for ch in conjunct):
            return []
        first_word = conjunct.split()[0].lower().strip(",")
        if is_predicate_word(first_word):
            rebuilt = f"{subject.strip()} {conjunct}"  # "It arrived quickly and [works well]" → "It works well"
        elif has_predicate(conjunct) and first_word in ("it", "they", "he", "she", "we", "you", "i", "this"):
            rebuilt = conjunct  # a clause of its own
        else:
            rebuilt = f"{head.strip()} {conjunct}"  # "It is sturdy and [quiet]" → "It is quiet"
        atoms.append(Atom(_sentence(rebuilt), piece_start, piece_start + len(conjunct), own=conjunct))
    return atoms


def _relatives(text: str, start: int, end: int) -> tuple[list[Atom], list[tuple[int, int]]]:
    """Relative clauses set off by commas, as atoms of their own ("X, which Y, Z" → "X Y"), and the spans to keep of
    the main clause."""
    atoms: list[Atom] = []
    keep: list[tuple[int, int]] = []
    left = start
    for match in _RELATIVE.finditer(text, start, end):
        if _inside_quote(text, match.start()):
            continue
        before = text[left : match.start()]
        antecedent = before if not has_predicate(before) else (before.split() or [""])[-1]
        atoms.append(
            Atom(_sentence(f"{antecedent.strip()} {match.group(1)}"), match.start(1), match.end(1), own=match.group(1))
        )
        keep.append((left, match.start()))
        left = match.end()
    keep.append((left, end))
    return atoms, keep


def split_atoms(text: str) -> list[Atom]:
    """The atomic statements of one claim, in order; one atom (the claim itself) when it makes one statement."""
    found: list[Atom] = []
    for sentence_start, sentence_end in sentence_spans(text):
        shared = ""  # what a later clause of the sentence takes from the first: its subject, or who says it
        for n, (start, end) in enumerate(clause_spans(text, sentence_start, sentence_end)):
            while start < end and text[start].isspace():
                start += 1
            if not any(ch.isalnum() for ch in text[start:end]):
                continue
            clause = text[start:end].strip()
            if n == 0:
                saying = _SAYING.match(clause)
                groups = _verb_groups(text, start, end)
                shared = saying.group() if saying else text[start : groups[0][0]] if groups else ""
            elif shared and (is_predicate_word(clause.split()[0]) or _SAYING.match(shared)):
                # "It arrived quickly and [works well]", "One reviewer says … and [the photos are beautiful]"
                found.append(Atom(_sentence(f"{shared.strip()} {clause}"), start, end, own=clause))
                continue
            relatives, keep = _relatives(text, start, end)
            if relatives:
                main = " ".join(text[a:b].strip() for a, b in keep)
                found.append(Atom(_sentence(main), start, end))
                found.extend(relatives)
                continue
            listed = _coordination(text, start, end)
            found.extend(listed or [Atom(clause, start, end)])
            if len(found) > MAX_ATOMS:
                return found
    return found or [Atom(text, 0, len(text))]
