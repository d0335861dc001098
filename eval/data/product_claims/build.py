"""Build the hand-labelled product-domain claim set: attach evidence to each claim of source.jsonl, check every
citation, split by item into dev.jsonl and test.jsonl.

    .venv/bin/python eval/data/product_claims/build.py [--shared ../shared/data]

The claims and their labels are written by hand in source.jsonl (see README.md); this script adds nothing to their
content. For each claim it attaches the evidence whyrec would have for the claim's user–item pair:

- every spec unit (`spec:*`, `feat:*`) and description sentence (`desc:s*`) of the item;
- up to MAX_REVIEW_UNITS review sentences of the item written by *other* users: the cited ones always, then the rest
  in the loader's order (review id, then sentence number) until the cap;
- every history unit of the claim's user on *other* items of the same category (`user:<id>:hist:<item>`).

Each category is loaded as its own catalogue, as `whyrec index` would load a folder holding one category's two
files, so a user's history never mixes gift cards and magazines.

A cited id missing from that evidence, an unknown item, label or kind stops the build with `source.jsonl:<line>`.
Each claim gets the id `pc-NNNN` from its line number among the claims; the split is by item (a stable hash of the
item id), so no item is in both files. Running it twice gives byte-identical files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from whyrec.evaluation.datasets import demo_items
from whyrec.knowledge.catalogue import load_catalogue
from whyrec.knowledge.context import with_context
from whyrec.knowledge.split import split_catalogue
from whyrec.schema import EvidenceUnit

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "source.jsonl"
CATEGORIES = {
    "gift cards": ("meta_Gift_Cards.jsonl", "Gift_Cards_5.jsonl"),
    "magazines": ("meta_Magazine_Subscriptions.jsonl", "Magazine_Subscriptions_5.jsonl"),
}
MAX_REVIEW_UNITS = 30
DEMO_ITEMS = demo_items(HERE.parents[2] / "data" / "demo")
DEV_SHARE = 0.4
LABELS = ("supported", "unsupported", "contradicted")
# The label(s) each kind of claim may carry.
KINDS: dict[str, tuple[str, ...]] = {
    "true_spec": ("supported",),
    "true_review": ("supported",),
    "true_user": ("supported",),
    "wrong_number": ("contradicted",),
    "negation": ("contradicted",),
    "attribute_swap": ("contradicted",),
    "invented_feature": ("unsupported",),
    "polarity_flip": ("contradicted", "unsupported"),
    "false_user": ("unsupported", "contradicted"),
    "unsupported_superlative": ("unsupported",),
}
FIELDS = ("item_id", "user_id", "claim", "cites", "label", "kind", "note")


class SourceError(Exception):
    pass


def load_units(shared: Path, category: str) -> list[EvidenceUnit]:
    """One category's evidence units, through whyrec's own loader (so ids are exactly whyrec's)."""
    with tempfile.TemporaryDirectory(prefix="whyrec-product-claims-") as tmp:
        for name in CATEGORIES[category]:
            source = (shared / "amazon" / name).resolve()
            if not source.is_file():
                raise FileNotFoundError(f"missing source data: {source}")
            os.symlink(source, Path(tmp) / name)
        return split_catalogue(load_catalogue(tmp))


def _review_key(unit: EvidenceUnit) -> tuple[str, int]:
    """Loader order of review sentences: review id, then sentence number (`<item>:rev:<review>:s<n>`)."""
    _, _, review, sentence = unit.id.split(":")
    return review, int(sentence.removeprefix("s"))


class Units:
    """One category's evidence units, indexed for building one claim's evidence."""

    def __init__(self, units: list[EvidenceUnit]):
        self.product: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.reviews: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.history: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.all_units = {unit.id: unit for unit in units}
        for unit in units:
            if unit.kind == "history":
                assert unit.user_id is not None
                self.history[unit.user_id].append(unit)
            elif unit.kind == "review":
                self.reviews[unit.item_id].append(unit)
            else:
                self.product[unit.item_id].append(unit)
        for item_reviews in self.reviews.values():
            item_reviews.sort(key=_review_key)

    def evidence(self, item_id: str, user_id: str, cites: list[str]) -> list[EvidenceUnit]:
        others = [u for u in self.reviews.get(item_id, []) if u.user_id != user_id]
        cited = set(cites)
        chosen = {u.id for u in others if u.id in cited}
        for unit in others:
            if len(chosen) >= MAX_REVIEW_UNITS:
                break
            chosen.add(unit.id)
        reviews = [u for u in others if u.id in chosen]
        history = [u for u in self.history.get(user_id, []) if u.item_id != item_id]
        return [*self.product[item_id], *reviews, *history]


def split_of(item_id: str) -> str:
    """`dev` for the demo catalogue's items (the rules were read against them) and for about DEV_SHARE of the rest,
    by a hash of the item id alone (stable across runs and machines)."""
    if item_id in DEMO_ITEMS:
        return "dev"
    bucket = int(hashlib.sha256(item_id.encode()).hexdigest()[:8], 16) / 0x1_0000_0000
    return "dev" if bucket < DEV_SHARE else "test"


def read_source(path: Path) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path.name}:{line_no}: not JSON: {exc}") from None
            rows.append((line_no, row))
    return rows


def check_row(where: str, row: dict[str, Any], units: Units) -> None:
    missing = [f for f in FIELDS if f not in row]
    extra = sorted(set(row) - set(FIELDS))
    if missing or extra:
        raise SourceError(f"{where}: missing fields {missing}, unknown fields {extra}")
    if not row["claim"].strip() or not row["note"].strip():
        raise SourceError(f"{where}: empty claim or note")
    if row["item_id"] not in units.product:
        raise SourceError(f"{where}: unknown item {row['item_id']!r}")
    if not units.history.get(row["user_id"]):
        raise SourceError(f"{where}: user {row['user_id']!r} has no history units")
    if row["label"] not in LABELS:
        raise SourceError(f"{where}: unknown label {row['label']!r}")
    if row["kind"] not in KINDS:
        raise SourceError(f"{where}: unknown kind {row['kind']!r}")
    if row["label"] not in KINDS[row["kind"]]:
        raise SourceError(f"{where}: kind {row['kind']} cannot be labelled {row['label']}")
    if not isinstance(row["cites"], list) or not row["cites"]:
        raise SourceError(f"{where}: cites must be a non-empty list")
    if len(set(row["cites"])) != len(row["cites"]):
        raise SourceError(f"{where}: a unit is cited twice")


def build(shared: Path) -> dict[str, list[dict[str, Any]]]:
    catalogues = [Units(load_units(shared, category)) for category in CATEGORIES]
    splits: dict[str, list[dict[str, Any]]] = {"dev": [], "test": []}
    seen: dict[tuple[str, str, str], str] = {}
    for n, (line_no, row) in enumerate(read_source(SOURCE), start=1):
        where = f"{SOURCE.name}:{line_no}"
        units = next((c for c in catalogues if row.get("item_id") in c.product), catalogues[0])
        check_row(where, row, units)
        key = (row["item_id"], row["user_id"], row["claim"].strip().lower())
        if key in seen:
            raise SourceError(f"{where}: same claim for the same pair as {seen[key]}")
        seen[key] = where
        evidence = units.evidence(row["item_id"], row["user_id"], row["cites"])
        present = {u.id for u in evidence}
        for cited in row["cites"]:
            if cited not in present:
                raise SourceError(f"{where}: cited id not in the claim's evidence: {cited}")
        split = split_of(row["item_id"])
        splits[split].append(
            {
                "id": f"pc-{n:04d}",
                "split": split,
                "item_id": row["item_id"],
                "user_id": row["user_id"],
                "claim": row["claim"],
                "cites": row["cites"],
                "label": row["label"],
                "kind": row["kind"],
                "note": row["note"],
                "evidence": [u.model_dump() for u in with_context(evidence, units.all_units)],
            }
        )
    return splits


def write(splits: dict[str, list[dict[str, Any]]], out: Path) -> None:
    for split, rows in splits.items():
        with (out / f"{split}.jsonl").open("w", encoding="utf-8", newline="\n") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def counts_table(splits: dict[str, list[dict[str, Any]]]) -> str:
    counts: Counter[tuple[str, str, str]] = Counter()
    for split, rows in splits.items():
        for row in rows:
            counts[(split, row["label"], row["kind"])] += 1
    pairs = sorted(
        {(label, kind) for _, label, kind in counts}, key=lambda p: (LABELS.index(p[0]), list(KINDS).index(p[1]))
    )
    lines = ["| label | kind | dev | test | all |", "|---|---|---|---|---|"]
    for label, kind in pairs:
        d, t = counts[("dev", label, kind)], counts[("test", label, kind)]
        lines.append(f"| {label} | {kind} | {d} | {t} | {d + t} |")
    for label in LABELS:
        d = sum(v for (s, lab, _), v in counts.items() if s == "dev" and lab == label)
        t = sum(v for (s, lab, _), v in counts.items() if s == "test" and lab == label)
        lines.append(f"| **{label}** | all | {d} | {t} | {d + t} |")
    d, t = len(splits["dev"]), len(splits["test"])
    lines.append(f"| **all** | all | {d} | {t} | {d + t} |")
    items = {s: len({r["item_id"] for r in rows}) for s, rows in splits.items()}
    lines.append(f"| items | | {items['dev']} | {items['test']} | {items['dev'] + items['test']} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("WHYREC_SHARED_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, default=HERE, help="where dev.jsonl and test.jsonl go (default: here)")
    args = parser.parse_args()
    start = time.perf_counter()
    try:
        splits = build(args.shared)
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    write(splits, args.out)
    print(counts_table(splits))
    print(f"built in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
