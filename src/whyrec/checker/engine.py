"""The rule-based checker: each claim is split into atoms, then the rules run stage by stage (content, citation,
subject, exact checks, polarity, support) and the first that decides gives the verdict, with its stage and rule, a
score and the evidence spans behind it. Deterministic: the same claims and evidence, in any
order, give the same verdicts."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from whyrec.checker.analysis import analyse
from whyrec.checker.atoms import MAX_ATOMS, split_atoms
from whyrec.checker.config import Thresholds, load_thresholds
from whyrec.checker.patterns import ABOUT_USER
from whyrec.checker.rules import ClaimView, Context, Rule, Stage, default_stages
from whyrec.checker.rules.base import Decision, Vectors
from whyrec.checker.rules.support import coverage
from whyrec.retrieval.embedder import Embedder
from whyrec.schema import Claim, ClaimVerdict, Evidence

MAX_CLAIM_CHARS = 2_000  # a reason's claim is a sentence; a longer text is refused whole, not split at length


class _EmbeddingCache:
    """Embeds texts once; the evidence of a pair is embedded on its first gray-zone claim and reused after."""

    def __init__(self, embedder: Embedder, size: int = 50_000):
        self.embedder = embedder
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def __call__(self, texts: Sequence[str]) -> Vectors:
        todo = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        if todo:
            for text, vector in zip(todo, self.embedder.embed(todo), strict=True):
                self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return np.stack([self._vectors[t] for t in texts])


class RuleChecker:
    """`check(claims, evidence)` → one ClaimVerdict per claim. Without an embedder, only the lexical rules decide."""

    def __init__(
        self,
        thresholds: Thresholds | Path | None = None,
        embedder: Embedder | None = None,
        rules: Sequence[Rule] | None = None,
    ):
        self.thresholds = thresholds if isinstance(thresholds, Thresholds) else load_thresholds(thresholds)
        self.stages = default_stages() if rules is None else [Stage("rules", tuple(rules))]
        self._embed = _EmbeddingCache(embedder) if embedder is not None else None
        self.name = self.thresholds.version + ("" if embedder is not None else "-lexical")

    def context(self, evidence: Sequence[Evidence]) -> Context:
        return Context(evidence={e.id: e for e in evidence}, thresholds=self.thresholds, embed=self._embed)

    def check(
        self, claims: Sequence[Claim], evidence: Sequence[Evidence], uncited: str = "reject"
    ) -> list[ClaimVerdict]:
        """`uncited="reject"` labels a claim without citations uncited (the agent's policy); `"best"` checks it against
        the evidence units that match it best (auditing reasons written without citations)."""
        ctx = self.context(evidence)
        return [self.check_claim(claim, ctx, auto_cite=uncited == "best") for claim in claims]

    def check_claim(self, claim: Claim, ctx: Context, auto_cite: bool = False) -> ClaimVerdict:
        """The claim's verdict: it is split into atomic statements first, and it is supported only when every atom
        is; otherwise the verdict is its first failing atom's, naming that atom and where it stands in the claim."""
        if len(claim.text) > MAX_CLAIM_CHARS:
            detail = (
                f"a claim of {len(claim.text):,} characters is not one claim; split it (at most {MAX_CLAIM_CHARS:,})"
            )
            return ClaimVerdict(claim=claim, label="unsupported", rule="atoms", detail=detail)
        atoms = split_atoms(claim.text)
        if len(atoms) > MAX_ATOMS:
            detail = f"the claim makes more than {MAX_ATOMS} separate statements; split it"
            return ClaimVerdict(claim=claim, label="unsupported", rule="atoms", detail=detail, atoms=len(atoms))
        if len(atoms) == 1:
            return self._check_atom(claim, claim, ctx, auto_cite)
        verdicts = [
            self._check_atom(claim, claim.model_copy(update={"text": atom.text}), ctx, auto_cite, own=atom.own)
            for atom in atoms
        ]
        for n, (atom, verdict) in enumerate(zip(atoms, verdicts, strict=True), start=1):
            if not verdict.accepted:
                return verdict.model_copy(
                    update={
                        "detail": f"part {n} of {len(atoms)}, {atom.text!r}: {verdict.detail}",
                        "atom": atom.text,
                        "atom_span": (atom.start, atom.end),
                        "atoms": len(atoms),
                    }
                )
        spans = list(dict.fromkeys(s for v in verdicts for s in v.evidence_spans))
        return verdicts[0].model_copy(
            update={
                "detail": f"all {len(atoms)} parts supported: " + "; ".join(v.detail for v in verdicts),
                "evidence_spans": spans,
                "score": min(v.score for v in verdicts),
                "atoms": len(atoms),
            }
        )

    def _check_atom(
        self, claim: Claim, atom: Claim, ctx: Context, auto_cite: bool, own: str | None = None
    ) -> ClaimVerdict:
        cited = [ctx.evidence[c] for c in dict.fromkeys(atom.cites) if c in ctx.evidence]
        auto = auto_cite and not atom.cites
        view = ClaimView(claim=atom, cited=best_units(atom, ctx) if auto else cited, auto_cited=auto, own=own)
        for stage in self.stages:
            for rule in stage.rules:
                decision = rule(view, ctx)
                if decision is not None:
                    return self._verdict(claim, view, ctx, stage, rule, decision)
        raise AssertionError("content_support always decides; a rule list must end with it")

    @staticmethod
    def _verdict(
        claim: Claim, view: ClaimView, ctx: Context, stage: Stage, rule: Rule, decision: Decision
    ) -> ClaimVerdict:
        detail = decision.detail + (" (uncited: checked against the best match)" if view.auto_cited else "")
        return ClaimVerdict(
            claim=claim,  # the claim as given, whichever of its atoms this is
            label=decision.label,
            stage=stage.name,
            rule=rule.name,
            detail=detail,
            evidence_spans=list(decision.spans),
            score=round(coverage(view, ctx), 3),
        )


def best_units(claim: Claim, ctx: Context) -> list[Evidence]:
    """The evidence units sharing most content with an uncited claim (its own history, for a claim about "you")."""
    view = ClaimView(claim=claim, cited=[])
    words = view.content(ctx)
    about_user = ctx.is_catalogue and ABOUT_USER.search(claim.text) is not None
    pool = ctx.history() if about_user else ctx.units
    stems = view.frame.stems
    numbers = view.frame.numbers

    def score(unit: Evidence) -> tuple[int, int]:
        analysed = ctx.analysed(unit)
        # a unit stating the same kind of quantity ("$75" against "Price: $50.00") is what the claim is about
        quantity = any(n.comparable(m) and n.unit != "count" for n in numbers for m in analysed.numbers)
        return len(words & analysed.stems) + quantity, len(stems & analysed.stems)

    scored = sorted(((*score(e), e.id, e) for e in pool), key=lambda s: (-s[0], -s[1], s[2]))
    best = [e for overlap, shared, _, e in scored[: ctx.support.best_units] if overlap or shared]
    if not best and about_user:
        best = [e for *_, e in scored[: ctx.support.best_units]]
    return best


def warm(texts: Sequence[str]) -> None:
    """Analyse texts ahead of checking (benchmarks separate this from the per-claim cost)."""
    for text in texts:
        analyse(text)
