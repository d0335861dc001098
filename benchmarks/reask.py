"""What asking the model again buys: the explain loop with and without the re-ask, on the same pairs, in one run.

Pairs are drawn (seed 11, dev: nothing reported elsewhere uses it) from an index's reviewed (user, item) pairs. For
each pair whyrec explains twice with the same model: the default loop (the checker's rejections mended by whyrec or
dropped, `whyrec.agent.mend`) and the loop with `reask` (what whyrec could not mend shown to the model once). Printed
and written: seconds per pair (p50, p95), model calls, claims per reason, claims the re-ask wrote and how many of them
stand in the final reason, and the claims whyrec mended by kind. The checker decides what stands: these are the
checker's own figures, not an independent judge's.

Run: .venv/bin/python benchmarks/reask.py [--index DIR] [--pairs 20] [--model qwen2.5-1.5b] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

from explain import spread  # this directory's explain benchmark: p50 and nearest-rank p95

from whyrec.config import Settings
from whyrec.evaluation.run import package_versions, run_record
from whyrec.factory import make_explainer, make_llm
from whyrec.llm.llama import LlamaCppLLM
from whyrec.schema import Explanation

MENDS = {"cited only": "narrowed", "cited again": "recited", "kept the part before": "trimmed"}  # `mended` starts


def summary(runs: list[tuple[float, Explanation]]) -> dict[str, Any]:
    walls = [wall for wall, _ in runs]
    counts: Counter[str] = Counter()
    for _, explanation in runs:
        reason = explanation.reason
        second = [v for v in explanation.verdicts if v.attempt == 2]
        counts["reasked"] += bool(second)
        counts["reask_claims"] += len(second)
        counts["reask_claims_kept"] += sum(v.accepted and v.claim.text in reason for v in second)
        counts[f"status_{explanation.status}"] += 1
        for v in explanation.verdicts:
            for start, kind in MENDS.items():
                counts[f"mended_{kind}"] += v.mended is not None and v.mended.startswith(start)
    model_runs = [e.manifest.model for _, e in runs if e.manifest.model is not None]
    return {
        "seconds": spread(walls),
        "calls_mean": round(statistics.mean(m.calls for m in model_runs), 2) if model_runs else 0,
        "claims_per_reason": round(statistics.mean(len(e.claims) for _, e in runs), 2),
        "counts": dict(sorted(counts.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, default=None, help="index directory (default: the demo index)")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--model", default="qwen2.5-1.5b")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/reask.json"))
    args = parser.parse_args()
    settings = Settings(model=args.model, fallback=False, index=args.index)
    llm = make_llm(settings)
    if not isinstance(llm, LlamaCppLLM):
        raise SystemExit(f"{args.model}: benchmarks/reask.py times a llama.cpp model")
    plain = make_explainer(settings, llm=llm)
    reasking = make_explainer(settings.model_copy(update={"reask": True}), llm=llm)
    pairs = random.Random(args.seed).sample(plain.index.store.reviewed_pairs(), args.pairs)
    plain.explain(*pairs[0])  # loads the model and the prefix state
    runs: dict[str, list[tuple[float, Explanation]]] = {"mend_and_drop": [], "reask": []}
    for user, item in pairs:
        for name, explainer in (("mend_and_drop", plain), ("reask", reasking)):
            # as a new pair finds it: the context holds no earlier prompt of this pair (the static prefix comes back
            # from disk), so the second system does not reuse the first one's prompt
            llm.llama.reset()
            started = time.perf_counter()
            explanation = explainer.explain(user, item)
            runs[name].append((time.perf_counter() - started, explanation))
    results = {name: summary(r) for name, r in runs.items()}
    ratio = results["reask"]["seconds"]["p50"] / max(results["mend_and_drop"]["seconds"]["p50"], 1e-9)
    record = {
        "run": run_record(),
        "packages": package_versions(("llama-cpp-python",)),
        "model": args.model,
        "index": str(args.index or "demo"),
        "pairs": len(pairs),
        "seed": args.seed,
        "results": results,
        "reask_to_default_p50": round(ratio, 2),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for name, result in results.items():
        print(f"{name:14} {json.dumps(result)}")
    print(f"re-ask ÷ default, p50 seconds per pair: {ratio:.2f}; results: {args.out}")


if __name__ == "__main__":
    main()
