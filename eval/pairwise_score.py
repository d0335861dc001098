"""Score a reader's blind pairwise judgements against the key `write_pairwise` wrote (see eval/data/pairwise/BRIEF.md).

    .venv/bin/python eval/pairwise_score.py JUDGEMENTS.jsonl pairwise-key.jsonl > pairwise-scores.json

The table goes to stderr, the JSON (per system: pairs, preference, mean_score, good_scores) to stdout.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

from whyrec.errors import WhyrecError
from whyrec.evaluation.pairwise import GOOD_SCORE, SystemPreference, score_pairwise


def table(scores: dict[str, SystemPreference]) -> str:
    lines = [
        f"| system | pairs | preferred (tie = ½) | mean score 1–5 | scores ≥ {GOOD_SCORE} | claims the reader found "
        "supported |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for s in scores.values():
        supported = "–" if s.claims_supported is None else f"{s.claims_supported:.1%} of {s.claims_labelled}"
        lines.append(
            f"| {s.system} | {s.pairs} | {s.preference:.1%} | {s.mean_score:.2f} | {s.good_scores:.1%} | {supported} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("judgements", type=Path, help="the reader's judgements, one JSON line per pair")
    parser.add_argument("key", type=Path, help="pairwise-key.jsonl, written beside the reader's pairwise.jsonl")
    args = parser.parse_args(argv)
    try:
        scores = score_pairwise(args.judgements, args.key)
    except WhyrecError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(table(scores), file=sys.stderr)
    print(json.dumps({name: dataclasses.asdict(s) for name, s in scores.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
