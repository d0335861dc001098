"""Explain speed and output quality per model on demo pairs, beside a raw llama.cpp call on the same prompts.

whyrec: the whole `explain` (retrieval, schema-bound generation, checker, one re-ask when a claim is rejected).
Baseline: the same llama.cpp model given the same first-round prompt, called directly with no schema and no checker,
as a plain RAG explainer would be. Both run in this process on the same pairs; each call reuses only the static
prompt prefix from the call before (whyrec runs all pairs, then the baseline runs all pairs).

Pairs: users with at least three interactions in the demo catalogue, their most recent item, first N by user id.

Run: .venv/bin/python benchmarks/explain.py [--models qwen2.5-1.5b qwen2.5-0.5b] [--pairs 20] [--k 12]
     [--max-claims 3] [--out benchmarks/results/explain.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from whyrec.agent.llm_composer import LLMComposer, parse_answer
from whyrec.config import Settings
from whyrec.factory import make_explainer, make_llm
from whyrec.knowledge import Store
from whyrec.prompts import handles_for, load_prompt


def demo_pairs(store: Store, n: int) -> list[tuple[str, str]]:
    rows = store._db.execute(
        "SELECT user_id, item_id FROM interactions WHERE user_id IN "
        "(SELECT user_id FROM interactions GROUP BY user_id HAVING COUNT(*) >= 3) "
        "ORDER BY user_id, time DESC, item_id"
    ).fetchall()
    latest: dict[str, str] = {}
    for user, item in rows:
        latest.setdefault(user, item)
    return sorted(latest.items())[:n]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def share(part: float, whole: float) -> float:
    return round(part / whole, 4) if whole else 0.0


def bench_model(model: str, pairs: list[tuple[str, str]], k: int, max_claims: int) -> dict[str, Any]:
    settings = Settings(model=model, fallback=False, k=k, max_claims=max_claims)
    llm = make_llm(settings)
    explainer = make_explainer(settings, llm=llm)
    explainer.explain(*pairs[0])  # load the model and cache the static prefix: startup is not per-explanation cost

    seconds, model_seconds, completion, verdicts_first, verdicts_all = [], [], 0, [], []
    calls = unparsed = 0
    statuses: dict[str, int] = {}
    prompts = []
    for user, item in pairs:
        started = time.perf_counter()
        explanation = explainer.explain(user, item)
        seconds.append(time.perf_counter() - started)
        run = explanation.manifest.model
        if run is None:
            raise SystemExit(f"{model}: no model run recorded for {user},{item}")
        model_seconds.append(run.seconds)
        completion += run.completion_tokens
        calls, unparsed = calls + run.calls, unparsed + run.unparsed
        statuses[explanation.status] = statuses.get(explanation.status, 0) + 1
        verdicts_first += [v for v in explanation.verdicts if v.attempt == 1]
        verdicts_all += explanation.verdicts
        composer = explainer.composer
        if not isinstance(composer, LLMComposer):
            raise SystemExit("the benchmark needs the LLM composer")
        product = explainer.index.store.product(item)
        evidence = explanation.evidence
        profile = explainer.profiles.aspects(user, exclude_item=item)
        prompts.append(
            (composer.prompt.messages(product.title if product else item, profile, None, evidence), evidence)
        )

    raw_seconds, raw_completion, raw_parsed, raw_valid, raw_claims = [], 0, 0, 0, 0
    for messages, evidence in prompts:
        started = time.perf_counter()
        response = llm.llama.create_chat_completion(
            messages=[dict(m) for m in messages], temperature=0.0, seed=0, max_tokens=256
        )
        raw_seconds.append(time.perf_counter() - started)
        raw_completion += response["usage"]["completion_tokens"]
        text = response["choices"][0]["message"]["content"] or ""
        try:
            claims = json.loads(text)["claims"]
            parsed = isinstance(claims, list)
        except (ValueError, KeyError, TypeError):
            claims, parsed = [], False
        raw_parsed += parsed
        handles = handles_for(evidence)
        for claim in claims if parsed else []:
            raw_claims += 1
            try:
                parse_answer(json.dumps({"claims": [claim]}), handles)
                raw_valid += 1
            except ValueError:
                pass

    total, in_model = sum(seconds), sum(model_seconds)
    first_valid = [v for v in verdicts_first if v.label != "invalid_citation"]
    return {
        "model": model,
        "sha256": llm.sha256,
        "prompt_version": load_prompt(settings.prompt).version,
        "pairs": len(pairs),
        "k": k,
        "max_claims": max_claims,
        "whyrec": {
            "p50_s": round(statistics.median(seconds), 2),
            "p95_s": round(percentile(seconds, 0.95), 2),
            "tokens_per_s": round(completion / in_model, 1) if in_model else 0.0,
            "outside_llm_share": share(total - in_model, total),
            "json_parse_success": share(calls - unparsed, calls),
            "citation_validity_before_checker": share(len(first_valid), len(verdicts_first)),
            "accepted_first_draft": share(sum(v.accepted for v in verdicts_first), len(verdicts_first)),
            "accepted_all_rounds": share(sum(v.accepted for v in verdicts_all), len(verdicts_all)),
            "status": statuses,
            "calls": calls,
        },
        "raw_llama_cpp": {
            "p50_s": round(statistics.median(raw_seconds), 2),
            "p95_s": round(percentile(raw_seconds, 0.95), 2),
            "tokens_per_s": round(raw_completion / sum(raw_seconds), 1),
            "json_parse_success": share(raw_parsed, len(prompts)),
            "citation_validity": share(raw_valid, raw_claims),
        },
        "p50_ratio_whyrec_to_raw": round(statistics.median(seconds) / statistics.median(raw_seconds), 2),
        "settings": llm.settings(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-1.5b", "qwen2.5-0.5b"])
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--k", type=int, default=Settings().k, help="evidence units per pair")
    parser.add_argument("--max-claims", type=int, default=Settings().max_claims)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/explain.json"))
    args = parser.parse_args()

    explainer = make_explainer(Settings(composer="extractive"))
    pairs = demo_pairs(explainer.index.store, args.pairs)
    results = [bench_model(model, pairs, args.k, args.max_claims) for model in args.models]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")

    print(
        "| model | p50 s | p95 s | tok/s | outside LLM | JSON ok | cites valid | accepted | raw p50 s | raw JSON ok |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        w, raw = r["whyrec"], r["raw_llama_cpp"]
        print(
            f"| {r['model']} | {w['p50_s']} | {w['p95_s']} | {w['tokens_per_s']} | {w['outside_llm_share']:.1%} "
            f"| {w['json_parse_success']:.0%} | {w['citation_validity_before_checker']:.0%} "
            f"| {w['accepted_first_draft']:.0%} first, {w['accepted_all_rounds']:.0%} all | {raw['p50_s']} "
            f"| {raw['json_parse_success']:.0%} (cites valid {raw['citation_validity']:.0%}) |"
        )
    print(f"pairs: {len(pairs)}, k={args.k}, max claims={args.max_claims}; results: {args.out}")


if __name__ == "__main__":
    main()
