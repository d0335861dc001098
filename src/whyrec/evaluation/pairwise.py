"""Blind pairwise judgement of two systems' reasons for the same pairs, by a reader who sees no system names.

`write_pairwise` writes two files into a directory: `NAME.jsonl` (`pairwise.jsonl` by default) for the reader (per
pair: an id, the item's title, the evidence as numbered lines, reason A, reason B; which system wrote which is shuffled
per pair with a seeded `random.Random`) and `NAME-key.jsonl`, kept from the reader (per pair id: the pair's key, the
system behind A and the one behind B). Each reason is also shown claim by claim with the evidence lines each cites
(`claims_a`), so the reader can label every claim. The reader follows `eval/data/pairwise/BRIEF.md` and writes
one judgement per line:
`{"pair": id, "prefer": "a" | "b" | "tie", "score_a": 1-5, "score_b": 1-5, "labels_a": [...], "labels_b": [...]}`,
a label per claim (`supported`, `unsupported`, `contradicted`). `score_pairwise` joins judgements and key.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from whyrec.errors import CatalogueError
from whyrec.files import write_atomic
from whyrec.knowledge.reader import LoadReport, read_jsonl
from whyrec.schema import Evidence

PREFER = ("a", "b", "tie")
LABELS = ("supported", "unsupported", "contradicted")
GOOD_SCORE = 4  # "true and specific" in the brief's scale


@dataclass(frozen=True)
class ShownClaim:
    """One claim of a reason as the reader sees it: its text and the evidence lines it cites (`e3`)."""

    text: str
    cites: tuple[str, ...]


@dataclass(frozen=True)
class PairwiseRow:
    """One pair to judge: its key (e.g. "user:item"), the item's title, its evidence lines, and two systems' reasons,
    each as text and claim by claim."""

    key: str
    title: str
    evidence: tuple[str, ...]
    system_x: str
    reason_x: str
    system_y: str
    reason_y: str
    claims_x: tuple[ShownClaim, ...] = ()
    claims_y: tuple[ShownClaim, ...] = ()


@dataclass(frozen=True)
class SystemPreference:
    """How the reader judged one system: share of its pairs preferred (a tie counts half), mean score (1–5), share
    of scores ≥ GOOD_SCORE, over `pairs` judged pairs."""

    system: str
    pairs: int
    preference: float
    mean_score: float
    good_scores: float
    claims_labelled: int = 0
    claims_supported: float | None = None  # share of the labelled claims the reader found supported


def evidence_lines(evidence: Sequence[Evidence]) -> tuple[str, ...]:
    """The evidence as the reader sees it, one numbered line per unit: `e1 (seller, price): $25.00`,
    `e2 (reviewer, 5/5): The tin is sturdy.`; ids are left out, reasons carry no citations for the reader."""
    lines = []
    for n, unit in enumerate(evidence, start=1):
        what = f"{unit.rating:g}/5" if unit.kind == "review" and unit.rating is not None else unit.field or unit.kind
        lines.append(f"e{n} ({unit.speaker}, {what}): {unit.text}")
    return tuple(lines)


def write_pairwise(
    directory: Path, rows: Sequence[PairwiseRow], seed: int, name: str = "pairwise"
) -> tuple[Path, Path]:
    """Write the reader's file (`{name}.jsonl`) and the key (`{name}-key.jsonl`) into `directory`; return (reader
    file, key file). Pair ids are `p001`… in the order of `rows`, so they say nothing of the user, the item or the
    systems."""
    rng = random.Random(seed)
    width = max(3, len(str(len(rows))))
    reader, key = [], []
    for n, row in enumerate(rows, start=1):
        pair = f"p{n:0{width}d}"
        first = (row.system_x, row.reason_x, row.claims_x)
        second = (row.system_y, row.reason_y, row.claims_y)
        if rng.random() < 0.5:
            first, second = second, first
        reader.append(
            {
                "pair": pair,
                "title": row.title,
                "evidence": list(row.evidence),
                "reason_a": first[1],
                "reason_b": second[1],
                "claims_a": [{"text": c.text, "cites": list(c.cites)} for c in first[2]],
                "claims_b": [{"text": c.text, "cites": list(c.cites)} for c in second[2]],
            }
        )
        key.append({"pair": pair, "key": row.key, "a": first[0], "b": second[0]})
    reader_path, key_path = directory / f"{name}.jsonl", directory / f"{name}-key.jsonl"
    write_atomic(reader_path, _jsonl(reader))
    write_atomic(key_path, _jsonl(key))
    return reader_path, key_path


def score_pairwise(judgements_path: Path, key_path: Path) -> dict[str, SystemPreference]:
    """Each system's preference share, mean score and share of good scores over the judged pairs, by system name.
    A line that is not a judgement of a pair in the key, or judges a pair twice, is an error naming the line."""
    key = _read_key(key_path)
    wins: dict[str, float] = {}
    scores: dict[str, list[int]] = {}
    labels: dict[str, list[str]] = {}
    judged: set[str] = set()
    for line_no, row in _read_jsonl(judgements_path):
        pair = row.get("pair")
        if not isinstance(pair, str) or pair not in key:
            raise CatalogueError(f"no pair {pair!r} in the key {key_path}", judgements_path, line_no, "pair")
        if pair in judged:
            raise CatalogueError(f"pair {pair} is judged twice", judgements_path, line_no, "pair")
        judged.add(pair)
        prefer = row.get("prefer")
        if prefer not in PREFER:
            raise CatalogueError(f"got {prefer!r}, expected one of {PREFER}", judgements_path, line_no, "prefer")
        for side in ("a", "b"):
            score = row.get(f"score_{side}")
            if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
                raise CatalogueError(
                    f"got {score!r}, expected a whole number 1–5", judgements_path, line_no, f"score_{side}"
                )
            system = key[pair][side]
            scores.setdefault(system, []).append(score)
            said = row.get(f"labels_{side}", [])
            if not isinstance(said, list) or any(label not in LABELS for label in said):
                raise CatalogueError(
                    f"got {said!r}, expected a list of {LABELS}", judgements_path, line_no, f"labels_{side}"
                )
            labels.setdefault(system, []).extend(said)
            wins[system] = wins.get(system, 0.0) + (0.5 if prefer == "tie" else float(prefer == side))
    if not judged:
        raise CatalogueError("no judgements in the file", judgements_path)
    return {
        system: SystemPreference(
            system=system,
            pairs=len(marks),
            preference=wins[system] / len(marks),
            mean_score=sum(marks) / len(marks),
            good_scores=sum(mark >= GOOD_SCORE for mark in marks) / len(marks),
            claims_labelled=len(labels.get(system, [])),
            claims_supported=(labels[system].count("supported") / len(labels[system]) if labels.get(system) else None),
        )
        for system, marks in sorted(scores.items())
    }


def _jsonl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def _read_key(path: Path) -> dict[str, dict[str, str]]:
    """The key by pair id: the pair's key and the systems behind A and B."""
    key: dict[str, dict[str, str]] = {}
    for line_no, row in _read_jsonl(path):
        for field in ("pair", "key", "a", "b"):
            if not isinstance(row.get(field), str):
                raise CatalogueError("not a line of a pairwise key", path, line_no, field)
        if row["pair"] in key:
            raise CatalogueError(f"pair {row['pair']} is in the key twice", path, line_no, "pair")
        key[row["pair"]] = {field: row[field] for field in ("key", "a", "b")}
    return key


def _read_jsonl(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """The JSON objects of a file with their line numbers (blank lines skipped); the first bad line is an error
    naming it (the catalogue reader, strict)."""
    return list(read_jsonl(path, LoadReport(strict=True)))
