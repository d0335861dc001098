"""Rebuild the bundled demo catalogue from the shared Amazon 2018 Gift Cards files.

Usage: python data/demo/build_subset.py ../shared/data/amazon data/demo

Picks 50 products greedily so that as many reviewers as possible have their *whole* 5-core history inside the
subset, then copies every review of those products and their metadata rows unchanged (same JSON, same line order).
Also writes pairs.csv: for five users with complete histories, their most recent item (a leave-one-out pair).
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

N_PRODUCTS = 50
N_PAIRS = 5


def main(src: Path, out: Path) -> None:
    review_lines = (src / "Gift_Cards_5.jsonl").read_text(encoding="utf-8").splitlines()
    meta_lines = (src / "meta_Gift_Cards.jsonl").read_text(encoding="utf-8").splitlines()
    reviews = [json.loads(line) for line in review_lines]
    history: dict[str, set[str]] = collections.defaultdict(set)
    per_item: collections.Counter[str] = collections.Counter()
    for r in reviews:
        history[r["reviewerID"]].add(r["asin"])
        per_item[r["asin"]] += 1

    chosen: set[str] = set()
    while len(chosen) < N_PRODUCTS:
        gain: dict[str, float] = collections.defaultdict(float)
        for items in history.values():
            missing = items - chosen
            if 0 < len(missing) <= 3:
                for asin in missing:
                    gain[asin] += 1 / len(missing)
        pool = gain or {a: float(n) for a, n in per_item.items() if a not in chosen}
        # ties broken by asin so the subset is the same on every run
        chosen.add(max(sorted(pool), key=lambda a: pool[a]))

    out.mkdir(parents=True, exist_ok=True)
    kept_reviews = [line for line, r in zip(review_lines, reviews, strict=False) if r["asin"] in chosen]
    seen: set[str] = set()
    kept_meta = []
    for line in meta_lines:
        asin = json.loads(line)["asin"]
        if asin in chosen and asin not in seen:
            seen.add(asin)
            kept_meta.append(line)
    (out / "Gift_Cards_5.jsonl").write_text("\n".join(kept_reviews) + "\n", encoding="utf-8")
    (out / "meta_Gift_Cards.jsonl").write_text("\n".join(kept_meta) + "\n", encoding="utf-8")

    complete = sorted(u for u, items in history.items() if items <= chosen)
    latest: dict[str, tuple[int, str]] = {}
    for r in reviews:
        if r["reviewerID"] in complete:
            latest[r["reviewerID"]] = max(latest.get(r["reviewerID"], (0, "")), (r["unixReviewTime"], r["asin"]))
    pairs, used_items = [], set()
    for user in sorted(complete, key=lambda u: (-len(history[u]), u)):
        item = latest[user][1]
        if item not in used_items:
            pairs.append((user, item))
            used_items.add(item)
        if len(pairs) == N_PAIRS:
            break
    (out / "pairs.csv").write_text("user_id,item_id\n" + "".join(f"{u},{i}\n" for u, i in pairs), encoding="utf-8")
    print(f"{len(kept_meta)} products, {len(kept_reviews)} reviews, {len(complete)} users with whole histories")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
