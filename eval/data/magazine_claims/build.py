"""Build the magazine claim set: attach evidence to each claim of source.jsonl, check every citation, write
test.jsonl (every item is a test item: the category is never tuned on).

    .venv/bin/python eval/data/magazine_claims/build.py [--shared ../shared/data]

The claims and labels in source.jsonl were written by annotators who saw only BRIEF.md and the packets made by
packets.py (see README.md). This script adds nothing to their content: for each claim it attaches the evidence whyrec
has for the pair in a catalogue of Magazine Subscriptions reviews alone (common.py), checks that every cited id is
in it, and numbers the claims mc-0001 … in file order. Running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import Units, load_units  # noqa: E402

from whyrec.knowledge.context import with_context  # noqa: E402

LABELS = ("supported", "unsupported", "contradicted")
KINDS: dict[str, tuple[str, ...]] = {
    "true_review": ("supported",),
    "true_consensus": ("supported",),
    "true_user": ("supported",),
    "invented_feature": ("unsupported",),
    "half_invented": ("unsupported",),
    "wrong_number": ("contradicted",),
    "negation": ("contradicted",),
    "polarity_flip": ("contradicted", "unsupported"),
    "over_generalised": ("unsupported",),
    "other_product": ("unsupported",),
    "reviewer_as_user": ("unsupported",),
    "false_user": ("contradicted", "unsupported"),
    "contentless": ("unsupported",),
}
FIELDS = ("item_id", "user_id", "claim", "cites", "label", "kind", "note")


class SourceError(Exception):
    pass


def check_row(where: str, row: dict[str, Any], units: Units, kinds: dict[str, tuple[str, ...]]) -> None:
    missing = [f for f in FIELDS if f not in row]
    if missing:
        raise SourceError(f"{where}: missing fields {missing}")
    if row["item_id"] not in units.product:
        raise SourceError(f"{where}: unknown item {row['item_id']!r}")
    if row["label"] not in LABELS or row["kind"] not in kinds or row["label"] not in kinds[row["kind"]]:
        raise SourceError(f"{where}: kind {row['kind']!r} cannot be labelled {row['label']!r}")
    if not isinstance(row["cites"], list) or not row["cites"] or len(set(row["cites"])) != len(row["cites"]):
        raise SourceError(f"{where}: cites must be a non-empty list of distinct ids")


def build(
    source: Path, catalogues: list[Units], kinds: dict[str, tuple[str, ...]], prefix: str, split: str = "test"
) -> list[dict[str, Any]]:
    """The rows of `source`, each with its evidence from the catalogue that holds its item."""
    rows = []
    with source.open(encoding="utf-8") as handle:
        lines = [(n, line) for n, line in enumerate(handle, start=1) if line.strip()]
    for number, (line_no, line) in enumerate(lines, start=1):
        where = f"{source.name}:{line_no}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{where}: not JSON: {exc}") from None
        units = next((c for c in catalogues if row.get("item_id") in c.product), catalogues[0])
        check_row(where, row, units, kinds)
        evidence = units.evidence(row["item_id"], row["user_id"], row["cites"])
        present = {u.id for u in evidence}
        for cited in row["cites"]:
            if cited not in present:
                raise SourceError(f"{where}: cited id not in the claim's evidence: {cited}")
        extra = {k: row[k] for k in row if k not in FIELDS}
        rows.append(
            {
                "id": f"{prefix}-{number:04d}",
                "split": split,
                **{k: row[k] for k in FIELDS},
                **extra,
                "evidence": [u.model_dump() for u in with_context(evidence, units.all_units)],
            }
        )
    return rows


def write(rows: list[dict[str, Any]], path: Path) -> None:
    tmp = path.with_suffix(".jsonl.tmp")
    with tmp.open("w", encoding="utf-8", newline="\n") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    tmp.replace(path)


def print_counts(rows: list[dict[str, Any]], keys: tuple[str, str]) -> None:
    """How many rows each pair of values of `keys` has, one line each."""
    counts = Counter((str(r[keys[0]]), str(r[keys[1]])) for r in rows)
    for (first, second), n in sorted(counts.items()):
        print(f"{first:<18} {second:<18} {n:>4}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("WHYREC_SHARED_DATA", "../shared/data")))
    args = parser.parse_args()
    units = Units(load_units(args.shared))
    try:
        rows = build(HERE / "source.jsonl", [units], KINDS, "mc")
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write(rows, HERE / "test.jsonl")
    print_counts(rows, ("label", "kind"))
    print(f"{len(rows)} claims, {len({r['item_id'] for r in rows})} items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
