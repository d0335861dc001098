"""`whyrec eval explain`: reasons for sampled user–item pairs, scored against the pair's own held-out review.

For each sampled pair (u, i) where u reviewed i and has other items in their history, u's review of i is the
reference text. It is never evidence: `PairRetriever.for_pair` leaves the user's own review of the item and their
history entry for it out, and the profile is read from their other reviews. Four systems run on the same pairs in
the same process:

- `whyrec`: the LLM's draft, checked, mended where whyrec can, unsupported and weak claims left out
  (`Explainer.explain`);
- `whyrec-draft`: whyrec's first draft as it came out (the same call, scored before the checker sees it): with a
  prompt that states signals, whyrec's stated signals and the model's claims; whyrec without its check;
- `llm-unchecked`: a plain RAG explainer: the same model and the same evidence (signals and history lines included),
  asked with PLAIN_PROMPT to write the whole reason with citations, as it came out (its own call, made after every
  pair's whyrec call so that it cannot slow them);
- `extractive`: the extractive composer (no model) through the same check.

Each is scored on grounding (the checker's verdicts; an independent embedding check that shares none of the
checker's rules; citation precision; abstention), on informativeness (does the reason say why this shopper: see
`informativeness`), on the PETER/PEPLER text measures against the held-out review, and on speed; whyrec is also
written side by side with llm-unchecked, and with whyrec-draft, in random order, for a blind reader (`pairwise`). The
measures are defined in the module docstrings of `text_metrics`, `informativeness` and below.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from whyrec.agent.draft import Composer, place_claims
from whyrec.agent.explain import Explainer, FirstDraft
from whyrec.agent.llm_composer import LLMComposer
from whyrec.checker import RuleChecker
from whyrec.errors import CatalogueError, ModelError, WhyrecError
from whyrec.evaluation.informativeness import (
    Informativeness,
    history_relates,
    measure_informativeness,
    summarise_informativeness,
)
from whyrec.evaluation.pairwise import evidence_lines
from whyrec.evaluation.text_metrics import TextMetrics, text_metrics
from whyrec.knowledge import Store
from whyrec.knowledge.aspects import AspectVocabulary, tokenize
from whyrec.prompts import load_prompt
from whyrec.retrieval import Embedder, KnowledgeIndex
from whyrec.schema import Claim, Evidence

SYSTEMS = ("whyrec", "whyrec-draft", "llm-unchecked", "extractive")
PLAIN_PROMPT = "explain-v3"  # the model writes every claim from all the evidence: why it fits, what it offers, a caveat
MIN_REFERENCE_WORDS = 5


@dataclass(frozen=True)
class EvalPair:
    """A sampled pair: its held-out review (the reference) and the feature that review is about (see FeatureProxy)."""

    user_id: str
    item_id: str
    reference: str
    feature: str


class FeatureProxy:
    """The ground-truth feature of a review, without PETER's Sentires aspect extraction (which needs a parser): the
    review's word from the catalogue's aspect vocabulary (see `whyrec.knowledge.aspects`) found in the fewest review
    sentences (the most specific thing it names; ties go alphabetically)."""

    def __init__(self, review_sentences: Sequence[str], opinion_words: Callable[[], dict[str, float]]):
        self.aspects = AspectVocabulary(review_sentences, opinion_words())
        if not self.aspects.frequency:
            raise WhyrecError("the catalogue's reviews name no feature word often enough to evaluate explanations")

    @property
    def vocabulary(self) -> list[str]:
        return self.aspects.words

    def feature_of(self, text: str) -> str | None:
        words = self.aspects.in_text(text)
        return min(words, key=lambda w: (self.aspects.frequency[w], w)) if words else None


def sample_pairs(store: Store, features: FeatureProxy, n: int, seed: int) -> list[EvalPair]:
    """`n` pairs drawn with `seed` from those whose held-out review has MIN_REFERENCE_WORDS words and a feature, and
    whose user has another item to build a profile from; fewer if the catalogue has fewer."""
    eligible: list[EvalPair] = []
    for user_id, item_id in store.reviewed_pairs(min_other_items=1):
        reference = store.review_text(user_id, item_id) or ""
        feature = features.feature_of(reference)
        if feature is not None and len(tokenize(reference)) >= MIN_REFERENCE_WORDS:
            eligible.append(EvalPair(user_id, item_id, reference, feature))
    if not eligible:
        raise WhyrecError(
            "no pair to evaluate: the catalogue needs users who reviewed an item (5+ words) and have other items"
        )
    return random.Random(seed).sample(eligible, min(n, len(eligible)))


def read_pairs(path: Path, store: Store) -> list[EvalPair]:
    """The pairs of an earlier run's pairs.jsonl (user, item, reference, feature), to compare settings on the very
    same pairs; a line that is not one, or names a pair the catalogue does not hold, is an error naming it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(f"cannot read ({getattr(exc, 'strerror', None) or exc})", path) from None
    pairs = []
    for line_no, line in enumerate(lines, start=1):
        try:
            row = json.loads(line)
            pair = EvalPair(str(row["user_id"]), str(row["item_id"]), str(row["reference"]), str(row["feature"]))
        except (ValueError, TypeError, KeyError) as exc:
            field = exc.args[0] if isinstance(exc, KeyError) else None
            raise CatalogueError("not a pair of whyrec eval explain's pairs.jsonl", path, line_no, field) from None
        if store.review_text(pair.user_id, pair.item_id) is None:
            raise CatalogueError(f"the catalogue holds no review of {pair.item_id} by {pair.user_id}", path, line_no)
        pairs.append(pair)
    if not pairs:
        raise CatalogueError("no pairs in the file", path)
    return pairs


class IndependentCheck:
    """A claim is supported when its embedding has cosine ≥ `threshold` with some unit of the pair's pool: every unit
    of the item (its specs, its description and all its other reviews; never the held-out review, which is the
    reference the reason is scored against), the user's history, and the signals whyrec counted for the pair. It
    ignores what the claim cites and shares none of the checker's rules; the threshold is the embedding baseline's,
    calibrated on the checker's dev data (thresholds-v3.toml, `baseline`)."""

    def __init__(self, index: KnowledgeIndex, embedder: Embedder, threshold: float):
        self.index = index
        self.embedder = embedder
        self.threshold = threshold

    def supported(self, claims: Sequence[str], user_id: str, item_id: str, counted: Sequence[str] = ()) -> list[bool]:
        """`counted`: the texts of the pair's signals (whyrec's counts are made per pair, not stored)."""
        if not claims:
            return []
        store = self.index.store
        rowids = store.item_unit_rowids(item_id, exclude_user=user_id)
        rowids += store.user_rowids(user_id, "history", exclude_item=item_id)
        pool = self.index.vectors.vectors(rowids)
        if counted:
            pool = np.vstack([pool, np.asarray(self.embedder.embed(list(counted)))])
        best = np.max(np.asarray(self.embedder.embed(list(claims))) @ pool.T, axis=1)
        return [bool(score >= self.threshold) for score in best]


def citation_precision(checker: RuleChecker, claims: Sequence[Claim], evidence: Sequence[Evidence]) -> tuple[int, int]:
    """(precise citations, citations), as ALCE (Gao et al., EMNLP 2023) defines it, with the checker as the judge.

    A citation of a claim the checker does not accept with all its citations is imprecise. In an accepted claim, a
    citation is precise when it supports the claim alone, or when the claim's other citations do not without it.
    """
    precise = total = 0
    for claim in claims:
        total += len(claim.cites)
        if not claim.cites or not _accepts(checker, claim, claim.cites, evidence):
            continue
        for cite in claim.cites:
            others = [c for c in claim.cites if c != cite]
            alone = _accepts(checker, claim, [cite], evidence)
            precise += alone or not others or not _accepts(checker, claim, others, evidence)
    return precise, total


def _accepts(checker: RuleChecker, claim: Claim, cites: Sequence[str], evidence: Sequence[Evidence]) -> bool:
    return checker.check([claim.model_copy(update={"cites": list(cites)})], evidence)[0].accepted


@dataclass(frozen=True)
class SystemOutput:
    """One system's reason for one pair, with what was measured on it."""

    system: str
    text: str
    claims: list[Claim]
    checker_supported: int
    independent_supported: int
    citations_precise: int
    citations: int
    abstained: bool
    milliseconds: float
    informativeness: Informativeness
    related: bool  # the pair's evidence holds the shopper's history or a signal tied to them
    completion_tokens: int = 0
    model_seconds: float = 0.0
    fallback: bool = False


@dataclass(frozen=True)
class PairResult:
    pair: EvalPair
    outputs: dict[str, SystemOutput]
    title: str = ""
    evidence: tuple[str, ...] = ()  # the evidence every system saw, as the pairwise reader sees it
    evidence_ids: tuple[str, ...] = ()  # the same units' ids, in the same order


@dataclass
class Scorer:
    """Scores a system's claims for one pair: the checker against the evidence it was given, the independent check
    against the pair's pool, citation precision."""

    checker: RuleChecker
    independent: IndependentCheck
    vocabulary: AspectVocabulary
    titles: Callable[[str], str]  # item id → the item's name, as the reason's reader knows it

    def score(
        self,
        system: str,
        pair: EvalPair,
        text: str,
        claims: list[Claim],
        evidence: Sequence[Evidence],
        milliseconds: float,
        *,
        completion_tokens: int = 0,
        model_seconds: float = 0.0,
        fallback: bool = False,
    ) -> SystemOutput:
        verdicts = self.checker.check(claims, evidence) if claims else []
        counted = [e.text for e in evidence if e.kind == "signal"]
        independent = self.independent.supported([c.text for c in claims], pair.user_id, pair.item_id, counted)
        precise, citations = citation_precision(self.checker, claims, evidence)
        informative = measure_informativeness(
            claims,
            verdicts,
            evidence,
            title=self.titles(pair.item_id),
            user_id=pair.user_id,
            vocabulary=self.vocabulary,
        )
        return SystemOutput(
            system=system,
            text=text,
            claims=claims,
            checker_supported=sum(v.accepted for v in verdicts),
            independent_supported=sum(independent),
            citations_precise=precise,
            citations=citations,
            abstained=not claims,
            milliseconds=milliseconds,
            completion_tokens=completion_tokens,
            model_seconds=model_seconds,
            fallback=fallback,
            informativeness=informative,
            related=history_relates(evidence, pair.user_id),
        )


def evaluate_pair(explainer: Explainer, extractive: Explainer, scorer: Scorer, pair: EvalPair) -> PairResult:
    """whyrec, its draft and the extractive composer on one pair (`plain_output` adds llm-unchecked). The LLM is
    called once for both `whyrec-draft` and `whyrec`: its first draft is scored as it came out, then checked."""
    first = explainer.draft_for(pair.user_id, pair.item_id)
    unchecked = _draft_output("whyrec-draft", scorer, pair, first)
    checked = explainer.finish(first)
    run = checked.manifest.model
    full = scorer.score(
        "whyrec",
        pair,
        checked.reason,
        checked.claims,
        checked.evidence,
        checked.manifest.timings_ms["total"],
        completion_tokens=run.completion_tokens if run else 0,
        model_seconds=run.seconds if run else 0.0,
        fallback=checked.fallback is not None,
    )
    started = time.perf_counter()
    quoted = extractive.explain(pair.user_id, pair.item_id)
    plain = scorer.score(
        "extractive",
        pair,
        quoted.reason,
        quoted.claims,
        quoted.evidence,
        (time.perf_counter() - started) * 1000,
    )
    outputs = {"whyrec": full, "whyrec-draft": unchecked, "extractive": plain}
    shown = checked.evidence  # the draft's evidence, then any review sentence whyrec's quote brought in
    return PairResult(pair, outputs, scorer.titles(pair.item_id), evidence_lines(shown), tuple(e.id for e in shown))


def plain_output(plain: Explainer, scorer: Scorer, result: PairResult) -> PairResult:
    """`result` with llm-unchecked's reason added: `plain`'s first draft as it came out (no fallback: a model error
    scores as an empty reason marked as a fallback). Its evidence is the pair's, retrieved the same way."""
    pair = result.pair
    try:
        first = plain.draft_for(pair.user_id, pair.item_id)
    except ModelError:
        evidence = plain.evidence(pair.user_id, pair.item_id)
        empty = scorer.score("llm-unchecked", pair, "", [], evidence, 0.0, fallback=True)
        return replace(result, outputs={**result.outputs, "llm-unchecked": empty})
    retrieved = tuple(e.id for e in first.evidence)
    if result.evidence_ids[: len(retrieved)] != retrieved:  # whyrec's may go on with the reviews it quoted
        raise WhyrecError(f"llm-unchecked was given other evidence than whyrec for {pair.user_id}:{pair.item_id}")
    plain_draft = _draft_output("llm-unchecked", scorer, pair, first)
    return replace(result, outputs={**result.outputs, "llm-unchecked": plain_draft})


def plain_composer(composer: Composer) -> LLMComposer:
    """llm-unchecked's composer: whyrec's model, PLAIN_PROMPT."""
    if not isinstance(composer, LLMComposer):
        raise WhyrecError("whyrec eval explain compares the model with and without whyrec: it needs the LLM composer")
    return LLMComposer(composer.llm, load_prompt(PLAIN_PROMPT), max_tokens=composer.max_tokens)


def _draft_output(system: str, scorer: Scorer, pair: EvalPair, first: FirstDraft) -> SystemOutput:
    """A first draft scored as it came out."""
    text, claims = place_claims(first.draft.claims)
    usage = first.draft.usage
    return scorer.score(
        system,
        pair,
        text,
        claims,
        first.evidence,
        first.clock.milliseconds()["total"],
        completion_tokens=usage.completion_tokens,
        model_seconds=usage.seconds,
        fallback=first.fallback_reason is not None,
    )


@dataclass(frozen=True)
class SystemMetrics:
    """A system's measures over all pairs. Rates are shares of claims (of citations for precision), in [0, 1]."""

    system: str
    pairs: int
    claims: int
    checker_supported: float
    independent_supported: float
    citation_precision: float
    abstention: float
    text: TextMetrics
    latency_p50_ms: float
    latency_p95_ms: float
    tokens_per_second: float | None
    fallbacks: int = 0
    latencies_ms: list[float] = field(default_factory=list, repr=False)
    informativeness: dict[str, float] = field(default_factory=dict)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0–100) by linear interpolation, numpy's default."""
    return float(np.percentile(np.asarray(values, dtype=float), q))


def summarise(results: Sequence[PairResult], vocabulary: Sequence[str]) -> list[SystemMetrics]:
    """Every system's measures over the same pairs, in SYSTEMS order."""
    if not results:
        raise WhyrecError("no pair was evaluated")
    references = [r.pair.reference for r in results]
    features = [r.pair.feature for r in results]
    metrics = []
    for system in SYSTEMS:
        outputs = [r.outputs[system] for r in results]
        claims = sum(len(o.claims) for o in outputs)
        model_seconds = sum(o.model_seconds for o in outputs)
        latencies = [o.milliseconds for o in outputs]
        metrics.append(
            SystemMetrics(
                system=system,
                pairs=len(outputs),
                claims=claims,
                checker_supported=_share(sum(o.checker_supported for o in outputs), claims),
                independent_supported=_share(sum(o.independent_supported for o in outputs), claims),
                citation_precision=_share(sum(o.citations_precise for o in outputs), sum(o.citations for o in outputs)),
                abstention=_share(sum(o.abstained for o in outputs), len(outputs)),
                text=text_metrics([o.text for o in outputs], references, features, vocabulary),
                latency_p50_ms=percentile(latencies, 50),
                latency_p95_ms=percentile(latencies, 95),
                tokens_per_second=(
                    sum(o.completion_tokens for o in outputs) / model_seconds if model_seconds > 0 else None
                ),
                fallbacks=sum(o.fallback for o in outputs),
                latencies_ms=latencies,
                informativeness=summarise_informativeness(
                    [o.informativeness for o in outputs], [o.related for o in outputs]
                ),
            )
        )
    return metrics


def statistics_note(results: Sequence[PairResult]) -> str:
    """How long the references are, for the report: BLEU and ROUGE depend on it."""
    lengths = [len(tokenize(r.pair.reference)) for r in results]
    return f"Held-out reviews: median {statistics.median(lengths):.0f} words (min {min(lengths)}, max {max(lengths)})"
