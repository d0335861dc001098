"""Write the annotator's packets for the probes' development split: gift-card items that are already development
items of the other product sets (the rules were read against them), so tuning on these probes spends no test item.

    .venv/bin/python eval/data/probes/dev_packets.py --out /tmp/dev-packets [--shared ../shared/data]

Items: gift cards of `product_claims/dev` and `products/dev` with at least MIN_REVIEWERS reviewers and MIN_SELLER
seller units, in `sha256(item_id)` order. The first WITH_LISTING keep their listing; the next REVIEWS_ONLY are
loaded from the review file alone (no title, no price, no description), as a catalogue of reviews only. The
claim's user: the item's reviewer with most other items in their history. The packet format is the test probes'.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from importlib import util
from pathlib import Path
from types import ModuleType

from whyrec.knowledge.catalogue import load_catalogue
from whyrec.knowledge.split import split_catalogue
from whyrec.schema import EvidenceUnit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "magazine_claims"))

from common import Units  # noqa: E402  (eval/data/magazine_claims/common.py)
from packets import packet  # noqa: E402  (the same packet format as every other annotated set)

MIN_REVIEWERS = 6
MIN_SELLER = 5
WITH_LISTING = 6
REVIEWS_ONLY = 4
DEV_SETS = ("product_claims", "products")
REVIEWS = "Gift_Cards_5.jsonl"


def sibling_script(folder: str) -> ModuleType:
    """The build script of a sibling data set, as a module."""
    spec = util.spec_from_file_location(f"{folder}_build", HERE.parent / folder / "build.py")
    if spec is None or spec.loader is None:
        raise ImportError(folder)
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dev_items() -> set[str]:
    items: set[str] = set()
    for folder in DEV_SETS:
        with (HERE.parent / folder / "dev.jsonl").open(encoding="utf-8") as handle:
            items |= {json.loads(line)["item_id"] for line in handle if line.strip()}
    return items


def reviews_only(shared: Path) -> list[EvidenceUnit]:
    """Gift cards as a catalogue of reviews alone: every item known by its id."""
    source = (shared / "amazon" / REVIEWS).resolve()
    with tempfile.TemporaryDirectory(prefix="whyrec-dev-probes-") as tmp:
        os.symlink(source, Path(tmp) / REVIEWS)
        return split_catalogue(load_catalogue(tmp))


def chosen(full: Units) -> list[tuple[str, str]]:
    """(item, user) pairs in hash order of the item id."""
    pairs = []
    for item_id in sorted(dev_items()):
        reviewers = {u.user_id for u in full.reviews.get(item_id, [])}
        seller = [u for u in full.product.get(item_id, []) if not u.id.endswith(":spec:title")]
        if len(reviewers) < MIN_REVIEWERS or len(seller) < MIN_SELLER:
            continue
        scored = [(len([h for h in full.history.get(r or "", []) if h.item_id != item_id]), r or "") for r in reviewers]
        best = max(scored)
        if best[0] >= 2:
            pairs.append((item_id, best[1]))
    return sorted(pairs, key=lambda p: hashlib.sha256(p[0].encode()).hexdigest())[: WITH_LISTING + REVIEWS_ONLY]


def catalogues(shared: Path) -> tuple[Units, Units, list[tuple[str, str]]]:
    """The full gift-card catalogue, the reviews-only one holding only the reviews-only items, and the pairs."""
    full = Units(sibling_script("product_claims").load_units(shared, "gift cards"))
    pairs = chosen(full)
    bare_items = {item for item, _ in pairs[WITH_LISTING:]}
    bare = Units([u for u in reviews_only(shared) if u.kind == "history" or u.item_id in bare_items])
    return full, bare, pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("WHYREC_SHARED_DATA", "../shared/data")))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    full, bare, pairs = catalogues(args.shared)
    args.out.mkdir(parents=True, exist_ok=True)
    for n, (item_id, user_id) in enumerate(pairs):
        units = full if n < WITH_LISTING else bare
        (args.out / f"{item_id}.txt").write_text(packet(units, item_id, user_id), encoding="utf-8")
    print(f"{len(pairs)} packets in {args.out}: {WITH_LISTING} with listings, {len(pairs) - WITH_LISTING} reviews only")
    return 0


if __name__ == "__main__":
    sys.exit(main())
