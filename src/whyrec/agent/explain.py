"""The explain loop: retrieve → prompt → generate → check → mend → keep what is supported.

A claim the checker rejects is mended by whyrec where a change of citation, telling a reviewer's "I" as "they", or
dropping a failing later part makes it supported (`whyrec.agent.mend`); the rest are dropped, or, with `reask`,
shown to the composer once with the reasons. A supported claim that says nothing about the item beyond praise, or
retells a reviewer's own story that names no aspect of it (`whyrec.agent.shape`), is left out when MIN_CLAIMS others
remain; one that copies a history line is left out (asked for again in the model's own words with `reask`). When
no kept claim says what the item offers (only whyrec's figures stand), whyrec quotes a reviewer's sentence that does
(`whyrec.agent.item_quote`), from the evidence or from the reviews an aspect figure of the reason counted (the quoted
sentence then joins the evidence), checked like the rest. No surviving claim means abstaining, which says what evidence
was found. A model error (missing model, bad output twice) hands the pair to the fallback composer, and the
Explanation records why.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from whyrec import __version__
from whyrec.agent.draft import Composer, Draft, DraftClaim, DraftRequest, Usage, place_claims
from whyrec.agent.item_quote import ASPECT_FIELD, QUOTE_DETAIL, needs_quote, pick_quote
from whyrec.agent.mend import Mender
from whyrec.agent.preferences import allows, profile_with
from whyrec.agent.shape import copies_history, gist, weakness
from whyrec.checker import RuleChecker
from whyrec.errors import ModelError, UnknownIdError
from whyrec.knowledge.aspects import AspectVocabulary
from whyrec.knowledge.profile import AspectProfiler
from whyrec.retrieval import KnowledgeIndex, PairRetriever
from whyrec.schema import Claim, ClaimVerdict, Evidence, Explanation, Manifest, Preferences


@dataclass(frozen=True)
class EvidenceFilters:
    """What a chat leaves out of a pair's evidence: units against the user's preferences and units `keep` rejects.
    `widen` times k units are retrieved so that k are left after filtering."""

    preferences: Preferences = field(default_factory=Preferences)
    keep: Callable[[Evidence], bool] | None = None
    widen: int = 3

    @property
    def active(self) -> bool:
        return self.preferences != Preferences() or self.keep is not None

    def allows(self, unit: Evidence) -> bool:
        return allows(self.preferences, unit) and (self.keep is None or self.keep(unit))


Progress = Callable[[str], None]  # told the name of each stage as it starts: retrieve, generate, check, repair
CheckedListener = Callable[[Claim, ClaimVerdict], None]  # told each claim the checker accepted, as soon as it has


def no_progress(stage: str) -> None:
    """The default progress listener: hears nothing."""
    return None


def abstention(evidence: Sequence[Evidence]) -> str:
    """What to say when no claim survives: the evidence that was found, and that it was not enough."""
    found = Counter(e.speaker for e in evidence)
    listed = ", ".join(f"{n} from the {who}" for who, n in sorted(found.items())) or "none"
    return f"Not enough supported evidence to explain this recommendation (evidence found: {listed})."


class _Clock:
    """Wall time per stage, in the order the stages ran."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.mark = self.started
        self.stages: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.stages[stage] = self.stages.get(stage, 0.0) + now - self.mark
        self.mark = now

    def milliseconds(self) -> dict[str, float]:
        stages = {**self.stages, "total": time.perf_counter() - self.started}
        return {stage: round(seconds * 1000, 2) for stage, seconds in stages.items()}


@dataclass(frozen=True)
class FirstDraft:
    """What `Explainer.draft_for` hands back and `Explainer.finish` checks: the pair, the request the composer saw,
    its unchecked draft, which composer wrote it (the fallback, if the model failed, and why), and the clock of the
    stages so far."""

    user_id: str | None
    item_id: str
    k: int | None
    request: DraftRequest
    draft: Draft
    composer: Composer
    fallback_reason: str | None
    clock: _Clock = field(repr=False)
    preferences: Preferences | None = None  # what the user told whyrec, applied to the evidence
    on_claim: CheckedListener | None = field(default=None, repr=False)  # told the claims `finish` adds

    @property
    def evidence(self) -> list[Evidence]:
        return self.request.evidence


class Explainer:
    """`explain(user, item)` → an Explanation whose reason holds only claims the checker accepted."""

    def __init__(
        self,
        index: KnowledgeIndex,
        retriever: PairRetriever,
        composer: Composer,
        checker: RuleChecker,
        fallback: Composer | None = None,
        profiles: AspectProfiler | None = None,
        stored: Callable[[str], Preferences] | None = None,
        reask: bool = False,
    ):
        """`reask`: show the composer the claims whyrec could not mend, once, and keep what it then writes that is
        supported (see `whyrec.agent.mend` for what that bought on dev pairs). `profiles` names what a user writes
        about in the prompt (built from the index when not given). `stored`
        looks up what a user told whyrec in earlier feedback ("I don't care about price"); it applies whenever a
        call gives no filters of its own (a chat passes its session's, which start from the same)."""
        self.index = index
        self.retriever = retriever
        self.composer = composer
        self.checker = checker
        self.fallback = fallback
        self.profiles = profiles or AspectProfiler.of(index.store, index.vocabulary)
        self.stored = stored
        self.reask = reask

    def with_composer(self, composer: Composer) -> Explainer:
        """The same pipeline (index, retrieval, checker, profiles, stored preferences), another composer, no
        fallback."""
        return Explainer(
            self.index,
            self.retriever,
            composer,
            self.checker,
            profiles=self.profiles,
            stored=self.stored,
            reask=self.reask,
        )

    def explain(
        self,
        user_id: str | None,
        item_id: str,
        question: str | None = None,
        k: int | None = None,
        *,
        filters: EvidenceFilters | None = None,
        progress: Progress = no_progress,
        on_claim: CheckedListener | None = None,
    ) -> Explanation:
        """A checked reason for (user, item). `on_claim` hears each claim that will stand in the reason as soon as
        the checker has accepted it, while the model is still writing the rest (`_Teller`). `filters` (from a chat)
        leave evidence out before the composer sees it, and the profile then leads with the aspects the user asked
        about. `progress` hears each stage start (for a client waiting on a slow model). No user (cold start): a
        reason from the item's evidence alone, in which the checker accepts no claim about "you", since no evidence
        is the shopper's own."""
        first = self.draft_for(user_id, item_id, question, k, filters=filters, progress=progress, on_claim=on_claim)
        return self.finish(first, progress)

    def finish(self, first: FirstDraft, progress: Progress = no_progress) -> Explanation:
        """The check half of `explain`: keep the draft's supported claims (mended where whyrec can), with `reask`
        show the composer the rejected ones once and keep what is then supported, abstain if nothing is. The status
        is "ok" only when every claim drafted ended supported (a true claim left out for its shape included)."""
        clock, request, draft, composer = first.clock, first.request, first.draft, first.composer
        evidence = request.evidence
        progress("check")

        drafted, verdicts = self._mend(draft.claims, self._check(draft.claims, evidence, attempt=1), evidence)
        verdicts, copies = _mark_copies(drafted, verdicts, evidence, composer.rewrites)
        clock.lap("check")
        kept: list[DraftClaim] = []
        _keep_supported(kept, drafted, verdicts, skip=copies)
        # what the model is asked to write again: the claims the checker rejected, and true ones that copy
        rejected = [v for v in verdicts if not v.accepted] + [_copy_rejection(verdicts[n], why) for n, why in copies]
        usage, unsupported = draft.usage, sum(not v.accepted for v in verdicts)
        if rejected and self.reask:
            progress("repair")
            try:
                repair = composer.repair(request, draft, rejected)
            except ModelError:  # the first draft's supported claims still stand; the rejected ones are dropped
                repair = Draft(claims=[])
            clock.lap("repair")
            progress("check")
            usage = usage + repair.usage
            again, second = self._mend(repair.claims, self._check(repair.claims, evidence, attempt=2), evidence)
            second, copied_again = _mark_copies(again, second, evidence, composer.rewrites)
            clock.lap("check")
            repaired = _keep_supported(kept, again, second, skip=copied_again)
            verdicts += second
            if repaired >= len(rejected) and all(v.accepted for v in second):  # each rejected claim rewritten true
                unsupported = 0

        if composer.rewrites and (added := self._quote_what_it_offers(kept, first)):
            claim, verdict, evidence = added
            kept.append(claim)
            verdicts.append(verdict)
            if first.on_claim is not None:
                _, [placed] = place_claims([claim])
                first.on_claim(placed, verdict.model_copy(update={"claim": placed}))
        kept, left_out = _without_weak(kept, evidence, request.product.title, self.profiles.vocabulary,
                                       composer.rewrites)  # fmt: skip
        reason, claims = place_claims(kept)
        verdicts = _point_at_final(verdicts, claims, left_out)
        status = "abstained" if not kept else "partial" if unsupported else "ok"
        if not kept:
            reason = abstention(evidence)
        return Explanation(
            user_id=first.user_id,
            item_id=first.item_id,
            reason=reason,
            claims=claims,
            verdicts=verdicts,
            evidence=list(evidence),
            status=status,
            fallback=first.fallback_reason,
            manifest=self._manifest(composer, usage, first),
        )

    def draft_for(
        self,
        user_id: str | None,
        item_id: str,
        question: str | None = None,
        k: int | None = None,
        *,
        filters: EvidenceFilters | None = None,
        progress: Progress = no_progress,
        on_claim: CheckedListener | None = None,
    ) -> FirstDraft:
        """The retrieve + compose half of `explain`: the pair's evidence and the composer's first draft, unchecked
        (the fallback composer writes it on a model error). `whyrec eval explain` scores it as the LLM without the
        checker, then hands it to `finish`."""
        clock = _Clock()
        progress("retrieve")
        if filters is None and self.stored is not None and user_id is not None:
            filters = EvidenceFilters(self.stored(user_id))
        evidence = self.evidence(user_id, item_id, question, k, filters)
        product = self.index.store.product(item_id)
        if product is None:  # for_pair checked it; a store changed underneath us is still a clear error
            raise UnknownIdError(f"unknown item {item_id!r}")
        profile = self.profiles.words(user_id, exclude_item=item_id) if user_id is not None else []
        # Only the aspects this pair's evidence also names: an aspect the evidence never mentions can only tempt the
        # model into a claim the checker must reject.
        named = {w for unit in evidence for w in self.profiles.vocabulary.in_text(unit.text)}
        profile = [w for w in profile if w in named]
        if filters is not None:
            profile = profile_with(profile, filters.preferences)
        request = DraftRequest(product=product, evidence=evidence, profile=profile, question=question, user_id=user_id)
        clock.lap("retrieve")
        progress("generate")

        composer, fallback_reason = self.composer, None
        teller = _Teller(self, request, composer.rewrites, on_claim) if on_claim is not None else None
        if not evidence:  # nothing to rest a claim on: abstain without asking anyone to invent one
            draft = Draft(claims=[])
        else:
            try:
                draft = composer.compose(request, on_claim=teller)
            except ModelError as exc:
                if self.fallback is None:
                    raise
                composer, fallback_reason = self.fallback, str(exc)
                if on_claim is not None:
                    teller = _Teller(self, request, composer.rewrites, on_claim, told=teller.told if teller else ())
                draft = composer.compose(request, on_claim=teller)
        clock.lap("generate")
        told = filters.preferences if filters is not None and filters.preferences != Preferences() else None
        return FirstDraft(user_id, item_id, k, request, draft, composer, fallback_reason, clock, told, on_claim)

    def evidence(
        self,
        user_id: str | None,
        item_id: str,
        question: str | None = None,
        k: int | None = None,
        filters: EvidenceFilters | None = None,
    ) -> list[Evidence]:
        """The pair's ranked evidence, filtered (see EvidenceFilters)."""
        k = k or self.retriever.k
        if filters is None or not filters.active:  # nothing to leave out: the plain ranking, pinned facts and all
            return self.retriever.for_pair(user_id, item_id, question=question, k=k)
        wanted = min(100, filters.widen * k + len(filters.preferences.excluded))
        kept = [e for e in self.retriever.for_pair(user_id, item_id, question=question, k=wanted) if filters.allows(e)]
        # the pinned facts (what the item is, what it costs) that pass the filters are kept, as without filters
        return self.retriever.refit(kept, k)

    def _quote_what_it_offers(
        self, kept: Sequence[DraftClaim], first: FirstDraft
    ) -> tuple[DraftClaim, ClaimVerdict, list[Evidence]] | None:
        """A reviewer's sentence quoted when the kept claims say nothing about the item itself (`item_quote`), with
        the checker's verdict on it and the pair's evidence, which gains the quoted sentence when it was one of the
        reviews behind a figure of the reason rather than retrieved; None when none is needed, none qualifies, or
        the checker refuses it."""
        evidence, title, vocabulary = first.evidence, first.request.product.title, self.profiles.vocabulary
        if not needs_quote(kept, evidence, title, vocabulary):  # the common case: no store lookup
            return None
        pool = [*evidence, *self._behind_figures(kept, first)]
        claim = pick_quote(kept, pool, title, vocabulary)
        if claim is None:
            return None
        shown = {e.id for e in evidence}
        evidence = [*evidence, *(e for e in pool if e.id in claim.cites and e.id not in shown)]
        [verdict] = self._check([claim], evidence, attempt=1)
        if not verdict.accepted:
            return None
        return claim, verdict.model_copy(update={"detail": f"{QUOTE_DETAIL}; {verdict.detail}"}), evidence

    def _behind_figures(self, kept: Sequence[DraftClaim], first: FirstDraft) -> list[Evidence]:
        """The item's review sentences an aspect figure of the reason was counted from ("3 of the 3 reviews of this
        item that mention the purse…"), not already in the evidence and allowed by the user's preferences, ranked
        after it in the order counted."""
        units = {e.id: e for e in first.evidence}
        basis = [
            b
            for claim in kept
            for c in claim.cites
            if c in units and (units[c].field or "").startswith(ASPECT_FIELD)
            for b in units[c].basis
            if b.startswith(f"{first.item_id}:rev:") and b not in units
        ]
        found = self.index.store.units_by_id(basis)
        after = max((e.rank for e in first.evidence), default=0)
        behind = [found[b] for b in dict.fromkeys(basis) if b in found]
        if first.preferences is not None:
            behind = [u for u in behind if allows(first.preferences, u)]
        return [Evidence(**u.model_dump(), score=0.0, rank=after + n) for n, u in enumerate(behind, start=1)]

    def _mend(
        self, claims: Sequence[DraftClaim], verdicts: Sequence[ClaimVerdict], evidence: Sequence[Evidence]
    ) -> tuple[list[DraftClaim], list[ClaimVerdict]]:
        """The claims with the rejected ones whyrec can mend itself (`whyrec.agent.mend`: one cited review alone,
        another citation, a failing later part cut off) mended."""
        return Mender(lambda claim: self._check([claim], evidence, attempt=1)[0]).mend(claims, verdicts, evidence)

    def _check(self, claims: Sequence[DraftClaim], evidence: Sequence[Evidence], attempt: int) -> list[ClaimVerdict]:
        _, placed = place_claims(claims)
        verdicts = self.checker.check(placed, evidence)
        return [v.model_copy(update={"attempt": attempt}) for v in verdicts]

    def _manifest(self, composer: Composer, usage: Usage, first: FirstDraft) -> Manifest:
        index, request = self.index.manifest, first.request
        return Manifest(
            whyrec_version=__version__,
            composer=composer.name,
            checker=self.checker.name,
            embedder=index.embedder,
            index_sha256=index.index_sha256,
            catalogue_sha256=index.catalogue_sha256,
            k=first.k or self.retriever.k,
            evidence_ids=[e.id for e in request.evidence],
            timings_ms=first.clock.milliseconds(),
            model=composer.describe(usage),
            evidence_trimmed=usage.trimmed,
            profile=list(request.profile),
            question=request.question,
            preferences=first.preferences,
        )

    def as_runnable(self) -> Any:
        """This pipeline as a LangChain Runnable: {"user_id", "item_id", "question"?, "k"?} → Explanation."""
        from whyrec.agent.runnable import explain_runnable

        return explain_runnable(self)


class _Teller:
    """Checks each claim the composer tells as it is written and passes on the ones that will stand in the reason:
    accepted (cited again when only the citation was wrong), neither a copied history line nor weak (a thin claim
    or a retold anecdote is left out only when two others stand, which is known at the end: it is not told early).
    The final reason is checked again as a whole, so a told claim stands in it, unless the model's answer failed to
    parse and was asked for again (its claims are then the second answer's); claims written on the re-ask are not
    told early."""

    def __init__(
        self,
        explainer: Explainer,
        request: DraftRequest,
        rewrites: bool,
        listener: CheckedListener,
        told: Collection[str] = (),
    ):
        self.explainer = explainer
        self.request = request
        self.rewrites = rewrites
        self.listener = listener
        self.told: set[str] = set(told)

    def __call__(self, claim: DraftClaim) -> None:
        evidence = self.request.evidence
        verdicts = self.explainer._check([claim], evidence, attempt=1)
        [claim], verdicts = self.explainer._mend([claim], verdicts, evidence)
        verdicts, copies = _mark_copies([claim], verdicts, evidence, self.rewrites)
        if not verdicts[0].accepted or copies or gist(claim.text) in self.told:
            return
        title, units = self.request.product.title, {e.id: e for e in evidence}
        if _weakness(claim, title, units, self.explainer.profiles.vocabulary, self.rewrites) is not None:
            return
        self.told.add(gist(claim.text))
        _, [placed] = place_claims([claim])
        self.listener(placed, verdicts[0].model_copy(update={"claim": placed}))


MIN_CLAIMS = 2  # weak claims (thin, retold anecdotes) are left out only when at least this many others remain
THIN_DETAIL = "left out of the reason: it says nothing about the item beyond praise"
ANECDOTE_DETAIL = "left out of the reason: it retells a reviewer's own story, which names no aspect of the item"


def _mark_copies(
    claims: Sequence[DraftClaim], verdicts: list[ClaimVerdict], evidence: Sequence[Evidence], rewrites: bool
) -> tuple[list[ClaimVerdict], list[tuple[int, str]]]:
    """The verdicts, those of true claims that copy a history line saying so, and the index of each such claim with
    why (`whyrec.agent.shape`): they are left out of the reason. (A reviewer's first-person story told as the reason's
    own is the checker's `first_person` rule; one told as the reviewer's may repeat its words.) A composer that does
    not `rewrites` (the extractive one quotes by design) has its claims as they are."""
    units = {e.id: e for e in evidence}
    marked = list(verdicts)
    copies: list[tuple[int, str]] = []
    if not rewrites:
        return marked, copies
    for n, (claim, verdict) in enumerate(zip(claims, verdicts, strict=True)):
        if not verdict.accepted:
            continue
        if not copies_history(claim.text, claim.cites, units):
            continue
        why = "it repeats a line of the shopper's history instead of saying why this item fits"
        copies.append((n, why))
        marked[n] = verdict.model_copy(update={"detail": f"left out of the reason: {why}; {verdict.detail}"})
    return marked, copies


def _copy_rejection(verdict: ClaimVerdict, why: str) -> ClaimVerdict:
    """What the re-ask tells the model about a true claim that copies (not a verdict of the checker's: never stored)."""
    return verdict.model_copy(
        update={"label": "unsupported", "rule": "copies", "detail": f"true, but {why}: say it in your own words"}
    )


def _keep_supported(
    kept: list[DraftClaim],
    claims: Sequence[DraftClaim],
    verdicts: Sequence[ClaimVerdict],
    skip: Sequence[tuple[int, str]] = (),
) -> int:
    """Add the supported claims that say something new to `kept`, but for the `skip`ped ones (index, why); return how
    many were added."""
    seen = {gist(claim.text) for claim in kept}
    left_out = {n for n, _ in skip}
    before = len(kept)
    for n, (claim, verdict) in enumerate(zip(claims, verdicts, strict=True)):
        said = gist(claim.text)
        if verdict.accepted and n not in left_out and said not in seen:
            kept.append(claim)
            seen.add(said)
    return len(kept) - before


def _weakness(
    claim: DraftClaim, title: str, units: Mapping[str, Evidence], vocabulary: AspectVocabulary, rewrites: bool
) -> str | None:
    """Why a supported claim is weak (THIN_DETAIL, ANECDOTE_DETAIL), or None (`whyrec.agent.shape.weakness`). The
    extractive composer, which quotes by design, is held only to saying something about the item."""
    why = weakness(claim.text, claim.cites, title, units, vocabulary, stories=rewrites)
    return None if why is None else THIN_DETAIL if why == "thin" else ANECDOTE_DETAIL


def _without_weak(
    kept: list[DraftClaim], evidence: Sequence[Evidence], title: str, vocabulary: AspectVocabulary, rewrites: bool
) -> tuple[list[DraftClaim], dict[str, str]]:
    """The kept claims without the weak ones when MIN_CLAIMS others remain, and the texts (lower case) left out, each
    with why."""
    units = {e.id: e for e in evidence}
    weak = {
        claim.text.lower(): why
        for claim in kept
        if (why := _weakness(claim, title, units, vocabulary, rewrites)) is not None
    }
    if len(kept) - len(weak) < MIN_CLAIMS:
        return kept, {}
    return [c for c in kept if c.text.lower() not in weak], weak


def _point_at_final(
    verdicts: list[ClaimVerdict], claims: Sequence[Claim], left_out: dict[str, str]
) -> list[ClaimVerdict]:
    """Accepted verdicts point at their claim as it stands in the final reason; rejected ones keep their draft span,
    and so do the weak ones left out, whose detail says why."""
    final = {claim.text.lower(): claim for claim in claims}
    out = []
    for v in verdicts:
        said = v.claim.text.lower()
        if v.accepted and said in final:
            v = v.model_copy(update={"claim": final[said]})
        elif v.accepted and said in left_out:
            v = v.model_copy(update={"detail": f"{left_out[said]}; {v.detail}"})
        out.append(v)
    return out
