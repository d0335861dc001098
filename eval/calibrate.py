"""Calibrate the checker's thresholds on development data only, and write them to the versioned thresholds file.

    .venv/bin/python eval/calibrate.py            # writes src/whyrec/checker/thresholds-v3.toml
    .venv/bin/python eval/calibrate.py --dry-run  # prints what it would write

Development data: the gift-card items of the dev splits of both product-claim sets (eval/data/product_claims,
hand-written, and eval/data/products, generated), the probes' dev split (gift cards, eval/data/probes/dev.jsonl) and
SummEdits' "evaluation" split of the news and sales_email domains.
Test splits, magazine items (the category measured unseen), the other SummEdits domains and WiCE are never loaded.
The objective is the mean balanced accuracy over the dev sets (each set
weighs the same, whatever its size). Search: coordinate ascent over a grid per threshold, two sweeps, ties broken
towards the current value (so an unused threshold keeps its value). The embedding baseline's threshold is calibrated
on the same data, so `whyrec eval grounding` compares like with like.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from pathlib import Path

import numpy as np

from whyrec.checker.config import DEFAULT_THRESHOLDS, Thresholds, load_thresholds
from whyrec.checker.engine import RuleChecker
from whyrec.evaluation.datasets import SUMMEDITS_CALIBRATION, UNSEEN_CATEGORY, Case, category_of, load
from whyrec.evaluation.grounding import EmbeddingBaseline, balanced_accuracy, best_threshold, predict
from whyrec.retrieval.embedder import SentenceTransformerEmbedder

OUT = Path(__file__).resolve().parents[1] / "src" / "whyrec" / "checker" / DEFAULT_THRESHOLDS
_OVERLAP = [0.2, 0.3, 0.4, 0.5, 0.55, 0.6, 0.67, 0.75, 0.8, 0.9, 1.0]
_FLOOR = [0.0, 0.1, 0.2, 0.25, 0.3, 0.34, 0.4, 0.5]
_EMBEDDING = [0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8]
_UNITS: list[float] = [1, 2, 3, 4, 5, 8]  # whole numbers, kept as ints at run time
GRID: dict[tuple[str, str], list[float]] = {
    ("support", "overlap"): _OVERLAP,
    ("support", "overlap_floor"): _FLOOR,
    ("support", "embedding"): _EMBEDDING,
    ("support", "best_units"): _UNITS,
    ("support", "synonym"): [0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1.0],
    ("support_document", "overlap"): _OVERLAP,
    ("support_document", "overlap_floor"): _FLOOR,
    ("support_document", "embedding"): _EMBEDDING,
    ("support_document", "best_units"): _UNITS,
    ("flips", "align"): [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0],
    ("flips", "deny"): [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6],
    ("polarity", "claim"): [0.2, 0.3, 0.35, 0.45, 0.6, 0.8],
    ("polarity", "mention"): [0.1, 0.2, 0.3, 0.4, 0.5],
}

TEMPLATE = """\
# Thresholds of whyrec's rule-based checker. One file per version; the checker's name carries the version.
# Written by `python eval/calibrate.py` from development data only ({sources});
# test splits, magazine items, the other SummEdits domains and WiCE are never read by the calibration.
# Edit by rerunning it, not by hand.
# Mean balanced accuracy on that dev data: {score:.1f} (checker), {baseline_score:.1f} (embedding baseline).
version = "{version}"
calibrated_on = [{calibrated_on}]
calibrated_at = "{date}"
baseline = {baseline:g}        # the plain embedding-similarity baseline of `whyrec eval grounding`

# Evidence about items: specs, reviews, a user's history (short units, usually cited).
[support]
overlap = {support[overlap]:g}        # share of the claim's content stems found in its evidence: supported at or above
overlap_floor = {support[overlap_floor]:g}  # below this share not even a close embedding makes a claim supported
embedding = {support[embedding]:g}      # cosine(claim, best unit) that supports a claim between floor and overlap
best_units = {support[best_units]:d}       # an uncited claim (audit mode) is checked against this many best units
synonym = {support[synonym]:g}        # word-vector cosine from which a cited word stands for a noun or adjective added

# Plain documents (`check(reason, [str, ...])`): long prose that a faithful text often paraphrases.
[support_document]
overlap = {support_document[overlap]:g}
overlap_floor = {support_document[overlap_floor]:g}
embedding = {support_document[embedding]:g}
best_units = {support_document[best_units]:d}
synonym = {support_document[synonym]:g}

[flips]
align = {flips[align]:g}          # share of the claim's content a unit must share before a negation/antonym flip counts
deny = {flips[deny]:g}           # share of a negated claim's content a negated unit must share to back it

[polarity]
claim = {polarity[claim]:g}          # |VADER compound| from which a claim states a sentiment
mention = {polarity[mention]:g}        # |VADER compound| from which a review mention counts as positive or negative
"""


def calibrates(case: Case) -> bool:
    """Dev cases of the gift-card category and of the SummEdits calibration domains; never the unseen category
    (magazines) or the domains held out of calibration."""
    if case.dataset.startswith("summedits/"):
        return case.dataset.split("/")[1] in SUMMEDITS_CALIBRATION
    return not category_of(case).startswith(UNSEEN_CATEGORY)


def with_value(thresholds: Thresholds, section: str, key: str, value: float) -> Thresholds:
    part = getattr(thresholds, section).model_copy(update={key: int(value) if key == "best_units" else value})
    return thresholds.model_copy(update={section: part})


def score(checker: RuleChecker, dev: dict[str, list[Case]]) -> float:
    results = []
    for cases in dev.values():
        predicted = [predict(case, checker)[0] for case in cases]
        results.append(balanced_accuracy([c.consistent for c in cases], predicted))
    return float(np.mean(results))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dry-run", action="store_true", help="print the thresholds instead of writing them")
    parser.add_argument("--sweeps", type=int, default=2)
    args = parser.parse_args()

    dev: dict[str, list[Case]] = {}
    for name in ("product", "product-generated", "probes", "summedits"):
        try:
            dev[name] = [case for case in load(name, "dev") if calibrates(case)]
        except FileNotFoundError as exc:
            print(f"skipping {name}: {exc.filename} not found", file=sys.stderr)
    if not dev:
        print("no development data found", file=sys.stderr)
        return 2
    embedder = SentenceTransformerEmbedder()
    current = load_thresholds()
    checker = RuleChecker(current, embedder=embedder)
    best = score(checker, dev)
    print(f"start: mean dev balanced accuracy {best:.2f}")
    for sweep in range(args.sweeps):
        for (section, key), values in GRID.items():
            results = []
            for value in values:
                checker.thresholds = with_value(current, section, key, value)
                results.append((score(checker, dev), value == getattr(getattr(current, section), key), value))
            top, _, value = max(results)
            if top > best:
                current, best = with_value(current, section, key, value), top
            print(f"sweep {sweep + 1}: {section}.{key} = {getattr(getattr(current, section), key)} → {best:.2f}")

    baseline = EmbeddingBaseline(embedder)
    scored = [[(baseline.score(c), c.consistent) for c in cases] for cases in dev.values()]
    tau = best_threshold(scored)
    baseline_score = float(
        np.mean([balanced_accuracy([g for _, g in grp], [s >= tau for s, _ in grp]) for grp in scored])
    )
    sources = {
        "product": "product_claims/dev (gift cards)",
        "product-generated": "products/dev (gift cards)",
        "probes": "probes/dev (gift cards)",
        "summedits": "summedits/evaluation (news, sales_email)",
    }
    text = TEMPLATE.format(
        sources=", ".join(sources[n] for n in dev),
        score=best,
        baseline_score=baseline_score,
        version=current.version,
        calibrated_on=", ".join(f'"{sources[n]}"' for n in dev),
        date=datetime.date.today().isoformat(),
        baseline=round(tau, 3),
        support=current.support.model_dump(),
        support_document=current.support_document.model_dump(),
        flips=current.flips.model_dump(),
        polarity=current.polarity.model_dump(),
    )
    if args.dry_run:
        print(text)
    else:
        tmp = OUT.with_suffix(".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(OUT)
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
