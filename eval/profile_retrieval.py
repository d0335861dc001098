"""Does the user's aspect profile help retrieval find what the user will care about? Measured on the demo catalogue.

For every pair (u, i) where u reviewed i (5+ words, naming at least one aspect word the item's other evidence also
names) and has other reviews, u's review of i is held out, as in `whyrec eval explain`. The review's aspect words
(`whyrec.knowledge.aspects`) are what u cared about in i. Each way of asking for the pair's evidence retrieves k item
units (u's own review and history entry for i left out), scored by:

- aspect recall: the share of the review's aspect words, among those the item's evidence names at all, that the
  retrieved units name;
- feature hit: whether they name the review's rarest aspect word (the FeatureProxy of `whyrec eval explain`).

Ways of asking (the user direction is what PairRetriever ranks the item's reviews and specs by):

- item:     no user at all, the item's own title/price/brand direction (what a cold-start user gets);
- reviews:  the mean of the user's other review sentences (PairRetriever before the aspect profile);
- aspects:  the user's top aspect words (AspectProfiler, their other reviews), embedded as one phrase;
- blend:    reviews + aspects, each a unit vector, summed and normalised.

Ratios are against `item`, measured in the same run.

Run: .venv/bin/python eval/profile_retrieval.py [--k 12] [--out eval/results/profile_retrieval.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
from pathlib import Path

from whyrec.config import Settings
from whyrec.factory import make_embedder, open_knowledge
from whyrec.knowledge.aspects import MIN_SENTENCES, tokenize
from whyrec.knowledge.profile import AspectProfiler
from whyrec.retrieval import PairRetriever
from whyrec.retrieval.embedder import Vectors


class _ItemOnly(PairRetriever):
    def user_profile(self, user_id: str, exclude_item: str | None = None) -> Vectors | None:
        return None  # PairRetriever then ranks by the item's own direction


class _AspectsOnly(PairRetriever):
    def user_profile(self, user_id: str, exclude_item: str | None = None) -> Vectors | None:
        phrase = self.aspects(user_id, exclude_item) if self.aspects is not None else ""
        return self.embedder.embed([phrase])[0] if phrase else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=12)
    parser.add_argument("--out", type=Path, default=Path("eval/results/profile_retrieval.json"))
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    settings = Settings()
    embedder = make_embedder(settings)
    index = open_knowledge(settings, embedder)
    profiler = AspectProfiler.of(index.store)
    vocabulary = profiler.vocabulary
    store = index.store

    pairs = []
    for user, item in store.reviewed_pairs(min_other_items=1):
        reference = store.review_text(user, item) or ""
        if len(tokenize(reference)) < 5:
            continue
        units = store.units_by_rowid(store.item_unit_rowids(item, exclude_user=user)).values()
        pool = {w for unit in units for w in vocabulary.in_text(unit.text)}
        wanted = vocabulary.in_text(reference) & pool
        if wanted and store.user_rowids(user, "review", exclude_item=item):
            feature = min(wanted, key=lambda w: (vocabulary.frequency[w], w))
            pairs.append((user, item, wanted, feature))

    ways = {
        "item": _ItemOnly(index, embedder, k=args.k, history_k=0),
        "reviews": PairRetriever(index, embedder, k=args.k, history_k=0),
        "aspects": _AspectsOnly(index, embedder, k=args.k, history_k=0, aspects=profiler.phrase),
        "blend": PairRetriever(index, embedder, k=args.k, history_k=0, aspects=profiler.phrase),
    }
    results: dict[str, dict[str, float]] = {}
    recalls: dict[str, list[float]] = {}
    for name, retriever in ways.items():
        recall, hits = [], 0
        for user, item, wanted, feature in pairs:
            found = {w for e in retriever.for_pair(user, item) for w in vocabulary.in_text(e.text)}
            recall.append(len(wanted & found) / len(wanted))
            hits += feature in found
        recalls[name] = recall
        results[name] = {"aspect_recall": statistics.fmean(recall), "feature_hit": hits / len(pairs)}

    base = results["item"]
    print(f"{len(pairs)} pairs, k={args.k}, aspect words in >= {MIN_SENTENCES} review sentences")
    print(f"{'way':<8} {'aspect recall':>14} {'vs item':>8} {'feature hit':>12} {'vs item':>8}")
    for name, row in results.items():
        print(
            f"{name:<8} {row['aspect_recall']:>14.3f} {row['aspect_recall'] / base['aspect_recall']:>7.2f}x"
            f" {row['feature_hit']:>12.3f} {row['feature_hit'] / base['feature_hit']:>7.2f}x"
        )
    for name in ("aspects", "blend"):
        better = sum(a > b for a, b in zip(recalls[name], recalls["reviews"], strict=True))
        worse = sum(a < b for a, b in zip(recalls[name], recalls["reviews"], strict=True))
        print(f"{name} vs reviews, pair by pair: higher recall on {better} pairs, lower on {worse}")
        results[name]["pairs_better_than_reviews"], results[name]["pairs_worse_than_reviews"] = better, worse
    better = sum(a > b for a, b in zip(recalls["aspects"], recalls["blend"], strict=True))
    worse = sum(a < b for a, b in zip(recalls["aspects"], recalls["blend"], strict=True))
    print(f"aspects vs blend, pair by pair: higher recall on {better} pairs, lower on {worse}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"pairs": len(pairs), "k": args.k, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
