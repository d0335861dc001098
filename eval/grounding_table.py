"""The README's grounding table, from a results file of `whyrec eval grounding` (so the table is regenerated, not
retyped).

    .venv/bin/python eval/grounding_table.py [eval/results/grounding.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# how each data set is described in README, and whether anything was ever tuned on its items or domain
ROWS = {
    "product": "product (hand-written, 19 items, no demo item)",
    "product-generated": "product-generated (template + one edit, 14 items)",
    "magazine": "**magazine: unseen category, reviews only (20 items)**",
    "probes": "**probes: true/broken pairs (10 items)**",
    "summedits": "SummEdits, 4 domains",
    "summedits/news": "— news (calibration domain)",
    "summedits/sales_email": "— sales_email (calibration domain)",
    "summedits/podcast": "— podcast (never calibrated on)",
    "summedits/qmsumm": "— qmsumm (never calibrated on)",
    "summedits/unseen-domains": "**SummEdits, the 2 domains never calibrated on**",
    "wice": "WiCE (held out entirely)",
}


def table(results: dict[str, object]) -> str:
    reports = {r["dataset"]: r for r in results["reports"]}  # type: ignore[attr-defined]
    lines = [
        "| data set (test split) | cases | checker BA | lexical BA | baseline BA | recall ok / broken | claims/s"
        " | lexical claims/s |",
        "|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for name, label in ROWS.items():
        r = reports.get(name)
        if r is None:
            continue
        lines.append(
            f"| {label} | {r['cases']} | {r['balanced_accuracy']:.1f} | {r['lexical_balanced_accuracy']:.1f} | "
            f"{r['baseline_balanced_accuracy']:.1f} | {r['recall_consistent']:.1f} / {r['recall_inconsistent']:.1f} | "
            f"{r['claims_per_second']:,.0f} | {r['claims_per_second_lexical']:,.0f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else "eval/results/grounding.json")
    print(table(json.loads(path.read_text(encoding="utf-8"))))
