"""The explain loop: retrieve the pair's evidence, compose a draft, check every claim, keep only what is supported."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence

from whyrec import __version__
from whyrec.agent.draft import Composer, place_claims
from whyrec.checker import CitationChecker
from whyrec.errors import UnknownIdError
from whyrec.retrieval import KnowledgeIndex, PairRetriever
from whyrec.schema import Evidence, Explanation, Manifest


def abstention(evidence: Sequence[Evidence]) -> str:
    """What to say when no claim survives: the evidence that was found, and that it was not enough."""
    found = Counter(e.speaker for e in evidence)
    listed = ", ".join(f"{n} from the {who}" for who, n in sorted(found.items())) or "none"
    return f"Not enough supported evidence to explain this recommendation (evidence found: {listed})."


class Explainer:
    """`explain(user, item)` → an Explanation whose reason holds only claims the checker accepted."""

    def __init__(self, index: KnowledgeIndex, retriever: PairRetriever, composer: Composer, checker: CitationChecker):
        self.index = index
        self.retriever = retriever
        self.composer = composer
        self.checker = checker

    def explain(self, user_id: str, item_id: str, question: str | None = None, k: int | None = None) -> Explanation:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        evidence = self.retriever.for_pair(user_id, item_id, question=question, k=k)
        product = self.index.store.product(item_id)
        if product is None:  # for_pair checked it; a store changed underneath us is still a clear error
            raise UnknownIdError(f"unknown item {item_id!r}")
        timings["retrieve"] = time.perf_counter() - started

        mark = time.perf_counter()
        draft = self.composer.compose(product, evidence)
        _, drafted = place_claims(draft.claims)
        timings["compose"] = time.perf_counter() - mark

        mark = time.perf_counter()
        verdicts = self.checker.check(drafted, evidence)
        timings["check"] = time.perf_counter() - mark

        kept = [draft.claims[n] for n, v in enumerate(verdicts) if v.accepted]
        reason, claims = place_claims(kept)
        # Accepted verdicts point at the claim as it stands in the final reason; rejected ones keep their draft span.
        final = iter(claims)
        verdicts = [v.model_copy(update={"claim": next(final)}) if v.accepted else v for v in verdicts]
        status = "ok" if kept and len(kept) == len(drafted) else "partial" if kept else "abstained"
        if not kept:
            reason = abstention(evidence)
        timings["total"] = time.perf_counter() - started
        return Explanation(
            user_id=user_id,
            item_id=item_id,
            reason=reason,
            claims=claims,
            verdicts=verdicts,
            evidence=list(evidence),
            status=status,
            manifest=self._manifest(evidence, timings, k),
        )

    def _manifest(self, evidence: Sequence[Evidence], timings: dict[str, float], k: int | None) -> Manifest:
        index = self.index.manifest
        return Manifest(
            whyrec_version=__version__,
            composer=self.composer.name,
            checker=self.checker.name,
            embedder=index.embedder,
            index_sha256=index.index_sha256,
            catalogue_sha256=index.catalogue_sha256,
            k=k or self.retriever.k,
            evidence_ids=[e.id for e in evidence],
            timings_ms={stage: round(seconds * 1000, 2) for stage, seconds in timings.items()},
        )
