"""Grounding evaluation: how well the checker tells consistent texts from broken ones, per data set, beside a plain
embedding-similarity baseline measured in the same run.

A case is predicted consistent when every claim in it is supported. Reported per data set: balanced accuracy (the mean
of the recall on consistent and on broken cases, so the class balance does not flatter), the baseline's, confusion per
deciding rule, and claims checked per second on one core.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from whyrec.checker.analysis import clear_caches
from whyrec.checker.audit import parse_reason
from whyrec.checker.engine import RuleChecker
from whyrec.evaluation.datasets import SUMMEDITS_CALIBRATION, Case
from whyrec.retrieval.embedder import Embedder
from whyrec.schema import Claim, ClaimVerdict


@dataclass(frozen=True)
class Outcome:
    case: Case
    predicted: bool
    rule: str  # the rule behind the prediction: the first rejecting rule, or the one that accepted the first claim
    claims: int
    seconds: float


@dataclass
class Report:
    dataset: str
    split: str
    cases: int
    balanced_accuracy: float
    baseline_balanced_accuracy: float
    baseline_threshold: float
    recall_consistent: float
    recall_inconsistent: float
    claims: int
    claims_per_second: float
    claims_per_second_lexical: float = 0.0  # the same cases with the lexical rules only (no embedding step)
    lexical_balanced_accuracy: float = 0.0  # the lexical rules alone on the same cases
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    by_kind: dict[str, dict[str, int]] = field(default_factory=dict)


def claims_of(case: Case) -> list[Claim]:
    return case.claims or parse_reason(case.text, case.evidence)


def predict(case: Case, checker: RuleChecker) -> tuple[bool, list[ClaimVerdict]]:
    verdicts = checker.check(claims_of(case), case.evidence, uncited="best")
    return bool(verdicts) and all(v.accepted for v in verdicts), verdicts


def run_checker(cases: Sequence[Case], checker: RuleChecker) -> list[Outcome]:
    """One outcome per case, with the seconds spent checking it (claim splitting included)."""
    outcomes = []
    for case in cases:
        started = time.perf_counter()
        predicted, verdicts = predict(case, checker)
        seconds = time.perf_counter() - started
        rejected = [v for v in verdicts if not v.accepted]
        rule = rejected[0].rule if rejected else (verdicts[0].rule if verdicts else "no_claims")
        outcomes.append(Outcome(case, predicted, rule, len(verdicts), seconds))
    return outcomes


def balanced_accuracy(gold: Sequence[bool], predicted: Sequence[bool]) -> float:
    """Mean of the recall on each class, in percent; a class with no cases counts as fully recalled."""
    recalls = []
    for cls in (True, False):
        members = [p for g, p in zip(gold, predicted, strict=True) if g == cls]
        recalls.append(sum(p == cls for p in members) / len(members) if members else 1.0)
    return 100.0 * sum(recalls) / 2


def _recall(outcomes: Sequence[Outcome], cls: bool) -> float:
    members = [o for o in outcomes if o.case.consistent == cls]
    return 100.0 * sum(o.predicted == cls for o in members) / len(members) if members else 100.0


class EmbeddingBaseline:
    """Consistent when every sentence of the text is close (cosine ≥ threshold) to some evidence unit."""

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self._cache: dict[str, np.ndarray] = {}

    def _vectors(self, texts: Sequence[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if todo:
            self._cache.update(zip(todo, self.embedder.embed(todo), strict=True))
        return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)

    def score(self, case: Case) -> float:
        claims = claims_of(case)
        if not claims or not case.evidence:
            return -1.0
        pool = case.evidence
        scores = []
        for claim in claims:
            cited = [e for e in case.evidence if e.id in claim.cites] or pool
            claim_vector = self._vectors([claim.text])[0]
            scores.append(float(np.max(self._vectors([e.text for e in cited]) @ claim_vector)))
        return min(scores)


def best_threshold(scored: Sequence[Sequence[tuple[float, bool]]]) -> float:
    """The threshold that maximises the mean balanced accuracy over several data sets' (score, gold) lists."""
    candidates = sorted({round(s, 3) for group in scored for s, _ in group})

    def mean_ba(threshold: float) -> float:
        return float(
            np.mean([balanced_accuracy([g for _, g in grp], [s >= threshold for s, _ in grp]) for grp in scored if grp])
        )

    return max(candidates, key=lambda t: (mean_ba(t), -t)) if candidates else 0.5


def report(name: str, split: str, outcomes: Sequence[Outcome], baseline: Sequence[float], threshold: float) -> Report:
    gold = [o.case.consistent for o in outcomes]
    by_rule: dict[str, Counter[str]] = defaultdict(Counter)
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for o in outcomes:
        cell = ("consistent" if o.case.consistent else "broken") + "→" + ("accepted" if o.predicted else "rejected")
        by_rule[o.rule][cell] += 1
        by_kind[o.case.kind or "-"]["correct" if o.predicted == o.case.consistent else "wrong"] += 1
    claims = sum(o.claims for o in outcomes)
    seconds = sum(o.seconds for o in outcomes)
    return Report(
        dataset=name,
        split=split,
        cases=len(outcomes),
        balanced_accuracy=round(balanced_accuracy(gold, [o.predicted for o in outcomes]), 1),
        baseline_balanced_accuracy=round(balanced_accuracy(gold, [s >= threshold for s in baseline]), 1),
        baseline_threshold=threshold,
        recall_consistent=round(_recall(outcomes, True), 1),
        recall_inconsistent=round(_recall(outcomes, False), 1),
        claims=claims,
        claims_per_second=round(claims / seconds, 1) if seconds else 0.0,
        by_rule={rule: dict(cells) for rule, cells in sorted(by_rule.items())},
        by_kind={kind: dict(cells) for kind, cells in sorted(by_kind.items())},
    )


LEXICAL_PASSES = 3  # the lexical rules are timed over this many passes from cold, and the median reported


def evaluate(
    datasets: dict[str, list[Case]],
    checker: RuleChecker,
    baseline: EmbeddingBaseline | None,
    threshold: float,
    lexical: RuleChecker | None = None,
) -> list[Report]:
    """One report per data set, and one per domain of a data set whose cases come from several (SummEdits)."""
    reports = []
    for name, cases in datasets.items():
        if not cases:
            continue
        clear_caches()  # each pass from cold: the texts are analysed inside the timed checks
        outcomes = run_checker(cases, checker)
        fast: list[list[Outcome]] = []
        while lexical is not None and len(fast) < LEXICAL_PASSES:  # fast enough to time a few passes
            clear_caches()
            fast.append(run_checker(cases, lexical))
        scores = [baseline.score(c) for c in cases] if baseline is not None else [0.0] * len(cases)
        groups = {name: list(range(len(cases)))}
        for n, case in enumerate(cases):
            if case.dataset != name:
                groups.setdefault(case.dataset, []).append(n)
        for n, case in enumerate(cases):  # domains calibration never read, together
            if case.dataset.startswith("summedits/") and case.dataset.split("/")[1] not in SUMMEDITS_CALIBRATION:
                groups.setdefault("summedits/unseen-domains", []).append(n)
        for group, members in groups.items():
            picked = [outcomes[n] for n in members]
            result = report(group, cases[0].split, picked, [scores[n] for n in members], threshold)
            if fast:
                seconds = float(np.median([sum(run[n].seconds for n in members) for run in fast]))
                result.claims_per_second_lexical = round(result.claims / seconds, 1) if seconds else 0.0
                rules_only = [fast[0][n] for n in members]
                result.lexical_balanced_accuracy = round(
                    balanced_accuracy([o.case.consistent for o in rules_only], [o.predicted for o in rules_only]), 1
                )
            reports.append(result)
    return reports
