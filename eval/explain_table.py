"""The README's explanation-evaluation tables, from the results of `whyrec eval explain` in `eval/results/explain`
(demo) and `eval/results/explain-reviews-only` and the blind readers' scores beside them, one column per reader:
whyrec against the plain RAG explainer (`pairwise-scores.json`, `pairwise-scores-2.json`, …, each from that reader's
`pairwise-judgements*.jsonl`) and against its own draft (`pairwise-draft-scores*.json`); regenerated, never retyped;
a test checks that README holds them.

    .venv/bin/python eval/explain_table.py
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from whyrec.evaluation.explain_eval import SYSTEMS
from whyrec.evaluation.explain_report import PAIRWISE

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = {"demo": RESULTS / "explain", "reviews only": RESULTS / "explain-reviews-only"}
# (key in metrics' informativeness, label, shown as a percentage)
INFORMATIVENESS = (
    ("claims_per_reason", "claims per reason", False),
    ("abstention", "abstention, % of pairs (target ≤ 10)", True),
    ("two_supported", "reasons with ≥ 2 supported claims, % (target ≥ 80)", True),
    ("personal_link", "personal link, % of pairs whose history relates (target ≥ 60)", True),
    ("aspects_per_reason", "aspects named per reason", False),
    ("generic_claims", "generic claims, % of claims (target ≤ 5; whyrec leaves them out by this very test)", True),
    ("copied_anecdote_claims", "copied first-person anecdotes, % of claims (target 0)", True),
    ("copied_history_claims", "copied history lines, % of claims (target 0)", True),
    ("raw_id_reasons", "reasons with a raw item id, % (target 0)", True),
)


def _seconds(ms_p50: float, ms_p95: float) -> str:
    if ms_p50 > 100:
        return f"{ms_p50 / 1000:.1f} / {ms_p95 / 1000:.1f}"
    return f"{ms_p50 / 1000:.3f} / {ms_p95 / 1000:.3f}"


def measures_table(metrics: dict[str, dict[str, Any]]) -> str:
    columns = [metrics[run]["systems"][system] for run in RUNS for system in SYSTEMS]
    header = " | ".join(f"{run}: {system}" for run in RUNS for system in SYSTEMS)
    lines = [f"| 20 pairs each | {header} |", "|---|" + "---:|" * len(columns)]
    for key, label, percent in INFORMATIVENESS:
        values = [c["informativeness"].get(key) for c in columns]
        shown = ["–" if v is None else f"{100 * v:.1f}" if percent else f"{v:.2f}" for v in values]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    rows: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...] = (
        (
            "supported by the checker, % of claims (whyrec: by construction)",
            lambda c: f"{100 * c['checker_supported']:.1f}",
        ),
        ("supported by the embedding check, % of claims", lambda c: f"{100 * c['independent_supported']:.1f}"),
        ("ROUGE-L F1 against the held-out review", lambda c: f"{c['text']['rougeL']:.2f}"),
        (
            "latency p50 / p95, s (in process, model loaded)",
            lambda c: _seconds(c["latency_p50_ms"], c["latency_p95_ms"]),
        ),
    )
    for label, show in rows:
        lines.append(f"| {label} | " + " | ".join(show(c) for c in columns) + " |")
    return "\n".join(lines)


def reader_table(scores: dict[str, dict[str, Any]], other: str) -> str:
    """One column per (run, reader): whyrec against `other`."""

    def row(label: str, show: Any, target: str) -> str:
        return f"| {label} | " + " | ".join(show(scores[column]) for column in scores) + f" | {target} |"

    lines = ["| | " + " | ".join(scores) + " | target |", "|---|" + "---:|" * (len(scores) + 1)]
    lines.append(
        row("whyrec preferred (a tie counts half)", lambda s: f"{100 * s['whyrec']['preference']:.1f}%", "≥ 70%")
    )
    lines.append(row("whyrec's reasons scored ≥ 4", lambda s: f"{100 * s['whyrec']['good_scores']:.1f}%", "≥ 75%"))
    lines.append(
        row(
            f"mean score, whyrec / {other}",
            lambda s: f"{s['whyrec']['mean_score']:.2f} / {s[other]['mean_score']:.2f}",
            "—",
        )
    )
    lines.append(
        row(
            f"claims the reader found supported, whyrec / {other}",
            lambda s: f"{100 * s['whyrec']['claims_supported']:.1f}% / {100 * s[other]['claims_supported']:.1f}%",
            "≥ 97% / —",
        )
    )
    return "\n".join(lines)


def reader_scores(name: str = "pairwise") -> dict[str, dict[str, Any]]:
    """Each run's readers' scores of the `name` files, in reader order: "demo, reader 1", "demo, reader 2", …"""
    scores = {}
    for run, path in RUNS.items():
        files = [path / f"{name}-scores.json", *sorted(path.glob(f"{name}-scores-*.json"))]
        for n, file in enumerate(files, start=1):
            scores[f"{run}, reader {n}"] = json.loads(file.read_text())
    return scores


def tables() -> str:
    metrics = {run: json.loads((path / "metrics.json").read_text()) for run, path in RUNS.items()}
    readers = [reader_table(reader_scores(name), other) for name, other in PAIRWISE.items()]
    return "\n\n".join([measures_table(metrics), *readers])


if __name__ == "__main__":
    print(tables())
