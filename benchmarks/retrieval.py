"""Index build and per-pair retrieval speed on the demo catalogue, beside a naive baseline in the same run.

Baseline: score the query against *every* unit vector with NumPy, then keep the pair's units (a search that does not
gather the pair's rows). Both return the same top units; the ratio is baseline time / whyrec time.

Run: .venv/bin/python benchmarks/retrieval.py [--pairs 200] [--out benchmarks/results/retrieval.json]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from whyrec.evaluation.run import package_versions, run_record
from whyrec.factory import demo_catalogue
from whyrec.retrieval import PairRetriever, SentenceTransformerEmbedder, build_index, open_index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/retrieval.json"))
    args = parser.parse_args()

    embedder = SentenceTransformerEmbedder()
    embedder.embed(["warm up"])  # model load is not part of the build figure
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        manifest = build_index(demo_catalogue(), Path(tmp) / "index", embedder)
        build_seconds = time.perf_counter() - started
        index = open_index(Path(tmp) / "index", embedder)
        retriever = PairRetriever(index, embedder)
        store, vectors = index.store, index.vectors
        all_vectors = vectors.vectors(list(range(1, vectors.count + 1)))

        rng = random.Random(0)
        users, items = store.user_ids(), store.item_ids()
        pairs = [(rng.choice(users), rng.choice(items)) for _ in range(args.pairs)]

        # Each method runs in its own loop: interleaving them makes the BLAS threads fight.
        cases = []
        for user, item in pairs:
            query = retriever.user_profile(user, exclude_item=item)
            if query is not None:
                cases.append((query, store.item_unit_rowids(item, exclude_user=user)))
        whyrec_ms, baseline_ms, whyrec_top, numpy_top = [], [], [], []
        for query, allowed in cases:
            started = time.perf_counter()
            hits = vectors.search(query, 8, among=allowed)
            whyrec_ms.append((time.perf_counter() - started) * 1000)
            whyrec_top.append({h for h, _ in hits})
        for query, allowed in cases:
            started = time.perf_counter()
            scores = all_vectors @ query
            allowed_set = set(allowed)
            ranked = [int(i) for i in np.argsort(-scores) + 1 if int(i) in allowed_set][:8]
            baseline_ms.append((time.perf_counter() - started) * 1000)
            numpy_top.append(set(ranked))
        # ties (identical review texts) may be ordered differently, so compare the 8th score rather than ids
        agree = sum(
            abs(
                float(np.sort(all_vectors[[i - 1 for i in a]] @ q)[0])
                - float(np.sort(all_vectors[[i - 1 for i in b]] @ q)[0])
            )
            < 1e-5
            for (q, _), a, b in zip(cases, whyrec_top, numpy_top, strict=True)
        )

        pair_ms = []
        for user, item in pairs:
            started = time.perf_counter()
            retriever.for_pair(user, item)
            pair_ms.append((time.perf_counter() - started) * 1000)

    result = {
        "run": run_record(),
        "packages": package_versions(("numpy", "faiss-cpu", "sentence-transformers")),
        "units": manifest.count,
        "build_seconds": round(build_seconds, 2),
        "units_per_second": round(manifest.count / build_seconds),
        "searches": len(whyrec_ms),
        "search_ms_p50": {"gather": round(statistics.median(whyrec_ms), 3),
                          "numpy_full_scan": round(statistics.median(baseline_ms), 3)},
        "speedup_vs_full_scan": round(statistics.median(baseline_ms) / statistics.median(whyrec_ms), 1),
        "same_top8": f"{agree}/{len(whyrec_ms)}",
        "for_pair_ms": {"p50": round(statistics.median(pair_ms), 2),
                        "p95": round(statistics.quantiles(pair_ms, n=20)[-1], 2)},
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
