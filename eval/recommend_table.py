"""The README's recommender table, from eval/results/recommend.json (regenerated, not retyped).

.venv/bin/python eval/recommend_table.py [eval/results/recommend.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def table(record: dict[str, Any]) -> str:
    lines = [
        "| catalogue | items | users held out | ranking | HR@5 | NDCG@5 | HR@10 | NDCG@10 | HR@10 ÷ random |",
        "|---|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for catalogue in record["catalogues"]:
        scores = catalogue["scores"]
        chance = next(s for s in scores if s["name"] == "random (expected)")["hit_rate"]["10"]
        name = catalogue["catalogue"].split(" (")[0]
        for s in scores:
            hit, ndcg = s["hit_rate"], s["ndcg"]
            lines.append(
                f"| {name} | {catalogue['items']} | {s['users']} | {s['name']} | {hit['5']:.3f} | {ndcg['5']:.3f} | "
                f"{hit['10']:.3f} | {ndcg['10']:.3f} | {hit['10'] / max(chance, 1e-12):.2f} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "eval/results/recommend.json")
    print(table(json.loads(path.read_text(encoding="utf-8"))))
