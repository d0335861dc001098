"""The README's explain-speed table, from `benchmarks/results/explain.json` (regenerated, never retyped; a test checks
that README holds it).

    .venv/bin/python benchmarks/explain_table.py [benchmarks/results/explain.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "explain.json"


def table(record: dict[str, Any]) -> str:
    lines = [
        "| model | cold p50 / p95 s | warm p50 / p95 s | first checked claim, warm "
        "| prompt + generated tokens per reason | model calls per reason "
        "| s per token: raw free / chat API with grammar / whyrec | whyrec ÷ raw |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in record["models"]:
        cold, warm, decoding = r["cold"]["wall_s"], r["warm"], r["decoding"]
        per_token = decoding["seconds_per_token"]
        lines.append(
            f"| {r['model']} | {cold['p50']:.2f} / {cold['p95']:.2f} | {warm['wall_s']['p50']:.2f} / "
            f"{warm['wall_s']['p95']:.2f} | {warm['first_checked_claim_s']['p50']:.2f} s "
            f"| {warm['prompt_tokens_mean']:.0f} + {warm['completion_tokens_mean']:.0f} | {warm['calls_mean']:.1f} "
            f"| {per_token['raw_free']:.3f} / {per_token['chat_api_grammar']:.3f} / {per_token['whyrec_decoder']:.3f} "
            f"| {decoding['whyrec_to_raw']:.2f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS
    print(table(json.loads(path.read_text())))
