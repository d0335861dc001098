"""The README's re-ask table, from benchmarks/results/reask*.json (regenerated, not retyped).

.venv/bin/python benchmarks/reask_table.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = {
    "demo": Path(__file__).with_name("results") / "reask.json",
    "reviews only": Path(__file__).with_name("results") / "reask-reviews-only.json",
}


def table(records: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| dev pairs (seed 11) | loop | p50 / p95 s per pair | model calls | claims per reason | claims re-asked, "
        "kept | claims mended: one review alone / cited again / cut |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for catalogue, record in records.items():
        for loop, r in record["results"].items():
            c = r["counts"]
            lines.append(
                f"| {catalogue} ({record['pairs']}) | {loop.replace('_', ' ')} | {r['seconds']['p50']:.2f} / "
                f"{r['seconds']['p95']:.2f} | {r['calls_mean']:.2f} | {r['claims_per_reason']:.2f} | "
                f"{c['reask_claims']}, {c['reask_claims_kept']} | {c['mended_narrowed']} / {c['mended_recited']} / "
                f"{c['mended_trimmed']} |"
            )
    return "\n".join(lines)


def read() -> dict[str, dict[str, Any]]:
    return {name: json.loads(path.read_text(encoding="utf-8")) for name, path in RESULTS.items()}


if __name__ == "__main__":
    print(table(read()))
