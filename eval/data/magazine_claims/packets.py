"""Write the annotators' packets for the magazine claim set: one text file per product with the evidence whyrec
would have for the claim's pair, loaded as a catalogue of reviews only (no product metadata).

    .venv/bin/python eval/data/magazine_claims/packets.py --out /tmp/packets [--shared ../shared/data]

Items: Magazine Subscriptions 5-core items that no other labelled set of this project uses, with at least
MIN_REVIEWS reviews, in the order of a hash of their id (so the choice depends on no one's reading of them). The
claim's user: the item's reviewer with most other items in their history (ties by id). Evidence, as `build.py`
attaches it: the stand-in title, up to MAX_REVIEW_UNITS review sentences of other users, the user's history.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import MAX_REVIEW_UNITS, Units, load_units  # noqa: E402

MIN_REVIEWS = 8
USED_BY = ("eval/data/product_claims", "eval/data/products")


def used_items(root: Path) -> set[str]:
    used: set[str] = set()
    for folder in USED_BY:
        for split in ("dev", "test"):
            with (root / folder / f"{split}.jsonl").open(encoding="utf-8") as handle:
                used |= {json.loads(line)["item_id"] for line in handle if line.strip()}
    return used


def candidates(units: Units, used: set[str]) -> list[tuple[str, str]]:
    """(item, user) pairs, in hash order of the item id."""
    pairs = []
    for item_id, reviews in units.reviews.items():
        reviewers = {u.user_id for u in reviews}
        if item_id in used or len(reviewers) < MIN_REVIEWS:
            continue
        scored = [(len([h for h in units.history.get(r or "", []) if h.item_id != item_id]), r) for r in reviewers]
        best = max(scored, key=lambda s: (s[0], s[1] or ""))
        if best[0] >= 2 and best[1]:
            pairs.append((item_id, best[1]))
    return sorted(pairs, key=lambda p: hashlib.sha256(p[0].encode()).hexdigest())


def packet(units: Units, item_id: str, user_id: str) -> str:
    lines = [f"item_id: {item_id}", f"user_id: {user_id}", "", "id | speaker | stars | text"]
    for unit in units.evidence(item_id, user_id, []):
        speaker = {"history": "user", "review": "reviewer"}.get(unit.kind, "seller")
        stars = f"{unit.rating:g}" if unit.rating is not None else "-"
        lines.append(f"{unit.id} | {speaker} | {stars} | {unit.text}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("WHYREC_SHARED_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N candidates (taken elsewhere)")
    args = parser.parse_args()
    units = Units(load_units(args.shared))
    chosen = candidates(units, used_items(Path.cwd()))[args.skip : args.skip + args.items]
    args.out.mkdir(parents=True, exist_ok=True)
    for item_id, user_id in chosen:
        (args.out / f"{item_id}.txt").write_text(packet(units, item_id, user_id), encoding="utf-8")
    print(f"{len(chosen)} packets in {args.out} (max {MAX_REVIEW_UNITS} review units each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
