"""`whyrec batch` throughput with the real model, per engine layout, and the pairs-per-hour estimate it gives.

Each layout explains the same N demo pairs (users with at least two interactions, their latest item) through
`run_batch` into a fresh output, with the model and threads of the settings: one process with all the llama threads
(the baseline), `--workers 2` processes with half the threads each, and `--engine ray` with 2 actors. Rates include
each layout's start-up (loading the model once per worker, starting Ray), as a user of `whyrec batch` pays it; the
per-pair steady rate is printed beside it. Ratios are against the one-process baseline of the same run.

The estimate for a node of C cores is the best measured rate per core here times C: it assumes the work divides by
cores as it does here (independent pairs, one model per worker, no shared state), and says so in its output.

Run: .venv/bin/python benchmarks/batch.py [--model qwen2.5-1.5b] [--pairs 12] [--layouts local1 local2 ray2]
     [--out benchmarks/results/batch.json]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from whyrec.batch import choose_engine, run_batch
from whyrec.config import Settings, physical_cores
from whyrec.factory import make_explainer

LAYOUTS = {"local1": ("local", 1), "local2": ("local", 2), "ray2": ("ray", 2)}


def demo_pairs(settings: Settings, n: int) -> list[tuple[str, str]]:
    store = make_explainer(settings.model_copy(update={"composer": "extractive"})).index.store
    latest: dict[str, str] = {}
    for user in store.user_ids():
        items = store.user_items(user)
        if len(items) >= 2:
            latest[user] = items[0]  # latest first
    return sorted(latest.items())[:n]


def run_layout(name: str, settings: Settings, pairs_csv: Path, work: Path) -> dict[str, Any]:
    engine, workers = LAYOUTS[name]
    out = work / f"{name}.jsonl"
    started = time.perf_counter()
    summary = run_batch(
        pairs_csv,
        out,
        settings,
        workers=workers,
        console=Console(stderr=True, quiet=True),
        engine=choose_engine(engine, settings, workers),  # type: ignore[arg-type]
    )
    seconds = time.perf_counter() - started
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    per_pair = [row["manifest"]["timings_ms"]["total"] / 1000 for row in rows]
    return {
        "layout": name,
        "engine": engine,
        "workers": workers,
        "pairs": summary.written,
        "seconds": round(seconds, 1),
        "pairs_per_hour": round(3600 * summary.written / seconds, 1),
        "mean_seconds_per_pair_in_worker": round(sum(per_pair) / len(per_pair), 2),
        "fallbacks": sum(row["fallback"] is not None for row in rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=Settings().model)
    parser.add_argument("--pairs", type=int, default=12)
    parser.add_argument("--layouts", nargs="+", choices=list(LAYOUTS), default=list(LAYOUTS))
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/batch.json"))
    args = parser.parse_args()

    settings = Settings(model=args.model, fallback=False)
    cores = physical_cores()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pairs_csv = work / "pairs.csv"
        pairs = demo_pairs(settings, args.pairs)
        pairs_csv.write_text("user_id,item_id\n" + "".join(f"{u},{i}\n" for u, i in pairs))
        for name in args.layouts:
            results.append(run_layout(name, settings, pairs_csv, work))
            print(json.dumps(results[-1]))
    baseline = results[0]["pairs_per_hour"]
    for result in results:
        result["ratio_vs_first"] = round(result["pairs_per_hour"] / baseline, 2)
    best = max(results, key=lambda r: r["pairs_per_hour"])
    per_core = best["pairs_per_hour"] / cores
    report = {
        "model": args.model,
        "cores": cores,
        "cpu_count": os.cpu_count(),
        "llm_threads": settings.llm_threads,
        "layouts": results,
        "best_layout": best["layout"],
        "measured_pairs_per_hour_this_node": best["pairs_per_hour"],
        "estimate": {
            "pairs_per_hour_per_core": round(per_core, 1),
            "pairs_per_hour_16_core_node": round(16 * per_core),
            "pairs_per_hour_64_core_node": round(64 * per_core),
            "assumes": "throughput grows with cores as measured here (one model per worker, pairs independent)",
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
