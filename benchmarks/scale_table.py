"""The README's scale tables, from benchmarks/results/scale.json (regenerated, not retyped).

.venv/bin/python benchmarks/scale_table.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).with_name("results") / "scale.json"


def _ms(spread: dict[str, float]) -> str:
    return f"{spread['p50']:.2f} / {spread['p95']:.2f}"


def sizes_table(results: dict[str, Any]) -> str:
    lines = [
        "| evidence units | build s (units/s) | build peak RSS / vectors MB | index on disk MB "
        "| `for_pair` p50 / p95 ms | its search p50 ms: whyrec / FAISS flat + id selector | `ask` p50 / p95 ms "
        "| its search p50 ms: whyrec / exact scan | global search | recall@10: typed needs / moved rows |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for s in results["sizes"]:
        q, b = s["queries"], s["build"]
        recall = q["recall_at_10"]
        kind = q["global_search"] + (f", nprobe {q['nprobe']}" if q["nprobe"] else "")
        lines.append(
            f"| {s['units']:,} | {b['seconds']:.1f} ({s['units'] / b['seconds']:,.0f}) | {b['peak_rss_mb']:,.0f} / "
            f"{s['vectors_mb']:,.0f} | {s['index_mb']:,.0f} | {_ms(q['for_pair_ms'])} | "
            f"{q['pair_search_ms']['p50']:.3f} / {q['pair_search_baseline_ms']['p50']:.3f} "
            f"({q['pair_search_speedup']:.1f}×) | {_ms(q['ask_ms'])} | {q['ask_search_ms']['p50']:.1f} / "
            f"{q['ask_search_exact_ms']['p50']:.1f} ({q['ask_search_speedup']:.1f}×) | {kind} | "
            f"{recall['review words']:.3f} / {recall['perturbed rows']:.3f} |"
        )
    return "\n".join(lines)


def _met(ok: bool) -> str:
    return "met" if ok else "**missed**"


def targets_table(results: dict[str, Any]) -> str:
    first, last = results["sizes"][0], results["sizes"][-1]
    fq, lq = first["queries"], last["queries"]
    ratio = lq["for_pair_ms"]["p50"] / fq["for_pair_ms"]["p50"]
    recall = lq["recall_at_10"]["review words"]
    spare = last["build"]["peak_rss_mb"] - last["vectors_mb"]
    rows = [
        (
            f"`for_pair` p50 at {last['units']:,} units ≤ 1.5× its p50 at {first['units']:,}",
            f"{ratio:.2f}×",
            _met(ratio <= 1.5),
        ),
        (
            f"… and ≤ 5 ms at {last['units']:,}",
            f"{lq['for_pair_ms']['p50']:.2f} ms",
            _met(lq["for_pair_ms"]["p50"] <= 5),
        ),
        ("recall@10 ≥ 0.95 against exact (typed needs)", f"{recall:.3f}", _met(recall >= 0.95)),
        ("`ask` p50 ≤ 50 ms", f"{lq['ask_ms']['p50']:.1f} ms", _met(lq["ask_ms"]["p50"] <= 50)),
        (
            "build peak RSS ≤ 2 GB plus the vectors",
            f"{last['build']['peak_rss_mb']:,.0f} MB = vectors {last['vectors_mb']:,.0f} + {spare:,.0f}",
            _met(spare <= 2048),
        ),
    ]
    if "minilm" in first:
        m = first["minilm"]
        rows.append(
            (
                "MiniLM build ≥ 90% of the raw encoder's throughput",
                f"{m['build_embedding_units_per_s']:.0f} / {m['raw_encoder_units_per_s']:.0f} units/s = "
                f"{100 * m['build_over_raw']:.0f}%",
                _met(m["build_over_raw"] >= 0.9),
            )
        )
    if "minilm_ray" in first:
        r = first["minilm_ray"]
        rows.append(
            (
                "Ray build on 2 local actors equal to the local one",
                f"same unit ids: {'yes' if r['same_units'] else 'no'}; largest vector difference "
                f"{r['max_abs_difference']:.1e}; {r['build_embedding_units_per_s']:.0f} units/s",
                _met(r["same_units"] and r["max_abs_difference"] < 1e-4),
            )
        )
    if "resume" in last:
        r = last["resume"]
        rows.append(
            (
                "a resumed build equal to an uninterrupted one",
                f"killed after {r['killed_after_rows']:,} rows, resumed in {r['resumed_seconds']:.0f} s, vectors "
                f"{'byte-identical' if r['vectors_equal'] else 'different'}",
                _met(r["vectors_equal"]),
            )
        )
    lines = ["| W2 5/5 target | measured | |", "|---|---|---|"]
    lines += [f"| {what} | {measured} | {verdict} |" for what, measured, verdict in rows]
    return "\n".join(lines)


def extras(results: dict[str, Any]) -> str:
    """`--add` and cold explain, one line each (README quotes them in prose)."""
    last = results["sizes"][-1]
    lines = []
    if "add" in last:
        a = last["add"]
        lines.append(
            f"--add: {a['units']:,} units after, {a['embedded']:,} embedded, {a['seconds']:.0f} s "
            f"(the full build: {last['build']['seconds']:.0f} s), peak RSS {a['peak_rss_mb']:,.0f} MB"
        )
    if "explain_cold" in results:
        e = results["explain_cold"]
        lines.append(
            f"cold explain p50: {e['smallest']['p50_s']:.2f} s at {results['sizes'][0]['units']:,} units, "
            f"{e['largest']['p50_s']:.2f} s at {last['units']:,} ({e['largest']['pairs']} pairs each)"
        )
    return "\n".join(lines)


def read() -> dict[str, Any]:
    return dict(json.loads(RESULTS.read_text(encoding="utf-8")))


if __name__ == "__main__":
    data = read()
    print(sizes_table(data), targets_table(data), extras(data), sep="\n\n")
