"""Typed records shared by every layer. JSON in and out of whyrec has exactly these shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Product(Record):
    item_id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    brand: str | None = None
    category: str | None = None
    price: float | None = Field(default=None, ge=0)
    specs: dict[str, str] = Field(default_factory=dict)
    features: list[str] = Field(default_factory=list)
    description: str | None = None
    title_from: Literal["seller", "reviews", "id"] = Field(
        default="seller",
        description='Where the title comes from: the seller; the name its reviewers use ("reviews", an item whose '
        'seller gave no title); or nowhere ("id": a stand-in naming the item by its id, never shown as evidence).',
    )


class Review(Record):
    review_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    user_id: str = Field(min_length=1)
    rating: float | None = Field(default=None, ge=0, le=5)
    title: str | None = None
    text: str = ""
    time: int | None = Field(default=None, description="Unix seconds.")


class Interaction(Record):
    """A user's past contact with an item (a purchase or a review); the unit of a user's history."""

    user_id: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    rating: float | None = Field(default=None, ge=0, le=5)
    time: int | None = None
    kind: Literal["review", "purchase"] = "purchase"


UnitKind = Literal["spec", "description", "review", "history", "signal"]
Speaker = Literal["seller", "reviewer", "user", "whyrec"]


class ReviewContext(Record):
    """Where a review sentence stands in its review: the sentences around it (None at either end)."""

    before: str | None = None
    after: str | None = None


class EvidenceUnit(Record):
    """The smallest citable piece of evidence, with a stable, readable id (e.g. `B00ABC:rev:A1X:s2`)."""

    id: str
    item_id: str
    user_id: str | None = None
    kind: UnitKind
    field: str | None = None
    text: str
    rating: float | None = Field(default=None, description="The star rating of the review or interaction, if any.")
    source_ref: str = Field(description="Where the text came from: file:line of the catalogue record.")
    context: ReviewContext | None = Field(default=None, description="For a review sentence: its neighbours.")
    basis: tuple[str, ...] = Field(
        default=(),
        description="For a signal (whyrec's own figure): the ids of the units or records it was counted from.",
    )


class Evidence(EvidenceUnit):
    """An evidence unit as retrieved for one user–item pair."""

    score: float
    rank: int

    @model_validator(mode="before")
    @classmethod
    def _derived_fields_read_back(cls, data: Any) -> Any:
        """JSON written by whyrec (which includes the computed `speaker`) reads back as the same record."""
        if isinstance(data, dict) and "speaker" in data:
            return {key: value for key, value in data.items() if key != "speaker"}
        return data

    @computed_field  # type: ignore[prop-decorator]
    @property
    def speaker(self) -> Speaker:
        """Whose words these are: the seller's, another reviewer's, the user's own history, or whyrec's (a figure
        it counted from the catalogue's interactions and reviews: a signal)."""
        if self.kind == "history":
            return "user"
        if self.kind == "signal":
            return "whyrec"
        return "reviewer" if self.kind == "review" else "seller"


class Claim(Record):
    text: str
    cites: list[str]
    span: tuple[int, int] = Field(description="Character offsets of the claim in the reason.")


VerdictLabel = Literal["supported", "unsupported", "contradicted", "uncited", "invalid_citation"]


class EvidenceSpan(Record):
    unit_id: str
    start: int
    end: int


class ClaimVerdict(Record):
    claim: Claim
    label: VerdictLabel
    stage: str = Field(
        default="", description="The checker stage that decided: content, citation, subject, exact, polarity, support."
    )
    rule: str = Field(description="Name of the rule that decided the label.")
    detail: str = ""
    evidence_spans: list[EvidenceSpan] = Field(default_factory=list)
    score: float = Field(
        default=0.0, description="Share of the claim's checkable content that its cited evidence backs (0–1)."
    )
    attempt: int = Field(default=1, description="1 for the first draft, 2 for the re-ask after rejections.")
    atoms: int = Field(default=1, description="How many atomic statements the claim was split into.")
    atom: str | None = Field(default=None, description="The atomic statement that failed, when the claim has several.")
    atom_span: tuple[int, int] | None = Field(
        default=None, description="Where the failing atom's own words stand in the claim's text."
    )
    mended: str | None = Field(
        default=None,
        description="How whyrec changed the claim the model wrote so that it is supported, and what it was "
        "(`whyrec.agent.mend`: one cited review alone, cited again, a failing part cut off); None: as "
        "written.",
    )

    @property
    def accepted(self) -> bool:
        return self.label == "supported"


class ModelRun(Record):
    """The LLM behind a reason: which file, which prompt, which settings, and what the calls cost."""

    name: str
    sha256: str
    prompt_version: str
    settings: dict[str, float | int | str]
    calls: int
    unparsed: int = Field(default=0, description="Calls whose output did not parse (each was asked again).")
    prompt_tokens: int
    completion_tokens: int
    seconds: float = Field(description="Wall time inside the model calls.")


class Preferences(Record):
    """What a chat user told whyrec about themselves: aspects to stress, aspects to leave out, evidence to skip."""

    focus: list[str] = Field(default_factory=list, description="Aspects the user asked to hear about.")
    avoid: list[str] = Field(default_factory=list, description='Aspects the user does not care about ("price").')
    excluded: list[str] = Field(default_factory=list, description="Evidence ids the user marked as not relevant.")


class Manifest(Record):
    """How an explanation was made, enough to repeat it: versions, digests, settings, timings per stage."""

    whyrec_version: str
    composer: str
    checker: str
    embedder: str
    index_sha256: str
    catalogue_sha256: str
    k: int
    evidence_ids: list[str]
    timings_ms: dict[str, float]
    model: ModelRun | None = None
    evidence_trimmed: int = Field(default=0, description="Evidence units left out to fit the model's context.")
    profile: list[str] | None = Field(
        default=None, description="The aspect words the prompt named as the shopper's interests (None: not recorded)."
    )
    question: str | None = Field(default=None, description="The shopper's question the prompt carried, if any.")
    preferences: Preferences | None = Field(
        default=None, description="What the user told whyrec (feedback, chat) that shaped the evidence, if anything."
    )


class Explanation(Record):
    user_id: str | None = Field(description="None: no user (cold start), a reason from the item's evidence alone.")
    item_id: str
    reason: str
    claims: list[Claim]
    verdicts: list[ClaimVerdict]
    evidence: list[Evidence]
    status: Literal["ok", "partial", "abstained"]
    fallback: str | None = Field(default=None, description="Why the extractive fallback wrote this reason, if it did.")
    manifest: Manifest


class Audit(Record):
    """The checker's verdicts on a reason written by any system, for one user–item pair."""

    id: str | None = Field(default=None, description="The request's own id, if it gave one.")
    user_id: str
    item_id: str
    reason: str
    verdicts: list[ClaimVerdict]
    evidence: list[Evidence]
    checker: str

    @computed_field  # type: ignore[prop-decorator]
    @property
    def supported(self) -> int:
        return sum(1 for v in self.verdicts if v.accepted)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def grounded(self) -> bool:
        """Every claim supported (a reason with no claims is not grounded)."""
        return bool(self.verdicts) and self.supported == len(self.verdicts)


ChatIntent = Literal["why", "aspect", "more", "dislikes", "compare", "sources", "feedback"]


class SpecPair(Record):
    """One spec field of two items side by side, each value the seller's own evidence unit (or None)."""

    field: str
    this: Evidence | None
    other: Evidence | None


class ChatAnswer(Record):
    """One turn of a chat: what was asked, how it was read, and the checked explanations that answer it."""

    session_id: str
    turn: int
    user_id: str
    item_id: str = Field(description="The session's item after this turn.")
    message: str
    intent: ChatIntent
    text: str = Field(description="The reply as plain text; claims carry their citations in `explanations`.")
    note: str | None = Field(default=None, description="What whyrec says itself: feedback taken, nothing found.")
    explanations: list[Explanation] = Field(default_factory=list)
    comparison: list[SpecPair] = Field(default_factory=list)
    sources: list[Evidence] = Field(
        default_factory=list, description="For `sources`: the evidence behind the last answer."
    )
    preferences: Preferences
