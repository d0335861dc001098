"""Build the probe set: pairs of claims, one true and one broken in one named way (contentless, half invented,
over-generalised, about another product, negated, wrong attribute, polarity reversed), on gift cards (with their
listings) and magazines (reviews only). Every row is a test row: nothing is tuned on it.

    .venv/bin/python eval/data/probes/build.py [--split test|dev] [--shared ../shared/data]

source.jsonl (test) and dev_source.jsonl (dev) were written by annotators who saw only BRIEF.md and the products'
packets (see README.md); this script attaches each claim's evidence exactly as in the packets, checks every citation
and numbers the claims pr-0001 … (test) or pd-0001 … (dev).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "magazine_claims"))

from common import Units, load_units  # noqa: E402  (eval/data/magazine_claims/common.py)

sys.path.insert(0, str(HERE))
import dev_packets  # noqa: E402  (the dev split's items and catalogues)

product_claims = dev_packets.sibling_script("product_claims")  # the gift-card catalogue, as that set loads it
magazine_build = dev_packets.sibling_script("magazine_claims")  # rows, checks and writing

BROKEN = {
    "contentless": "unsupported",
    "half_invented": "unsupported",
    "over_generalised": "unsupported",
    "other_product": "unsupported",
    "negated": "contradicted",
    "wrong_attribute": "contradicted",
    "polarity_reversed": "contradicted",
}
KINDS = {kind: ("supported", label) for kind, label in BROKEN.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("WHYREC_SHARED_DATA", "../shared/data")))
    parser.add_argument("--split", choices=("test", "dev"), default="test")
    args = parser.parse_args()
    if args.split == "dev":
        full, bare, _ = dev_packets.catalogues(args.shared)
        catalogues, source, prefix = [bare, full], HERE / "dev_source.jsonl", "pd"  # reviews-only items first
    else:
        catalogues = [Units(product_claims.load_units(args.shared, "gift cards")), Units(load_units(args.shared))]
        source, prefix = HERE / "source.jsonl", "pr"
    try:
        rows = magazine_build.build(source, catalogues, KINDS, prefix, args.split)
    except magazine_build.SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    pairs = Counter(r["pair"] for r in rows)
    if bad := [p for p, n in pairs.items() if n != 2]:
        print(f"error: {source.name}: pair {bad[0]!r} has {pairs[bad[0]]} claims, not 2", file=sys.stderr)
        return 1
    magazine_build.write(rows, HERE / f"{args.split}.jsonl")
    magazine_build.print_counts(rows, ("kind", "label"))
    print(f"{len(rows)} claims in {len(pairs)} pairs, {len({r['item_id'] for r in rows})} items")
    return 0


if __name__ == "__main__":
    sys.exit(main())
