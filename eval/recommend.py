"""Leave-one-out scores of the recommender on the demo catalogue and on both shared Amazon categories, in one run:
the blend, collaborative only, content only, popularity and a random ranking's exact expectation
(`whyrec.recommend.evaluate`). Magazine Subscriptions is where items are many for the interactions (a quarter of
them with fewer than 6), so the content part can matter there; on the 50-item demo a random top 10 already finds a
fifth of the held-out items.

Each shared category is indexed from its reviews and metadata (MiniLM, cached under WHYREC_HOME/eval-indexes and
rebuilt when its catalogue changes); the results JSON records each catalogue's size, the commit, machine and date.

Run: .venv/bin/python eval/recommend.py [--shared ../shared/data] [--out eval/results/recommend.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from recommend_table import table  # this directory's README-table formatter

from whyrec.config import Settings
from whyrec.evaluation.datasets import default_shared
from whyrec.factory import demo_catalogue, ensure_index, make_embedder, open_knowledge
from whyrec.recommend import evaluate_recommenders
from whyrec.recommend.evaluate import catalogue_scores, write_scores
from whyrec.retrieval import KnowledgeIndex, open_index

CATEGORIES = {"gift-cards": "Gift_Cards", "magazine-subscriptions": "Magazine_Subscriptions"}


def category_index(settings: Settings, shared: Path, name: str, stem: str) -> KnowledgeIndex:
    """The index of one shared category (its 5-core reviews and its metadata), built on first use."""
    catalogue = settings.home / "eval-catalogues" / name
    catalogue.mkdir(parents=True, exist_ok=True)
    for file in (f"{stem}_5.jsonl", f"meta_{stem}.jsonl"):
        link = catalogue / file
        if not link.exists():
            link.symlink_to((shared / "amazon" / file).resolve())
    embedder = make_embedder(settings)
    return open_index(ensure_index(catalogue, settings.home / "eval-indexes" / name, embedder), embedder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=None, help="shared data folder (default: ../shared/data)")
    parser.add_argument("--out", type=Path, default=Path("eval/results/recommend.json"))
    args = parser.parse_args()
    settings = Settings()
    shared = args.shared or default_shared()
    demo = open_knowledge(settings, make_embedder(settings))
    indexes = [(demo, f"demo ({demo_catalogue()})")]
    indexes += [(category_index(settings, shared, name, stem), name) for name, stem in CATEGORIES.items()]
    catalogues = [
        catalogue_scores(index, evaluate_recommenders(index, alpha=settings.rec_alpha), label)
        for index, label in indexes
    ]
    write_scores(args.out, catalogues, settings.rec_alpha)
    record = json.loads(args.out.read_text(encoding="utf-8"))
    print(table(record))
    print(f"results: {args.out}; commit {record['run']['git_commit']}")


if __name__ == "__main__":
    main()
