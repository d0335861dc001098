"""The LLM composer: a prompt with the pair's evidence in, schema-bound JSON out, citations mapped to stable ids.

The JSON schema makes every citation one of this pair's evidence handles (an `enum`), so the model cannot cite
what was not retrieved; it caps the number of claims and the length of each. Evidence that does not fit the context
is trimmed from the lowest rank up. Output that does not parse is asked for once more, then a ModelError lets the
explain loop fall back to the extractive composer.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from whyrec.agent.draft import ClaimListener, Draft, DraftClaim, DraftRequest, Usage
from whyrec.agent.stated import left_to_the_model, stated_claims
from whyrec.errors import ModelError, WhyrecError
from whyrec.llm.base import LLM, ChatMessage
from whyrec.prompts import ExplainPrompt, handles_for, variant_for
from whyrec.schema import ClaimVerdict, Evidence, ModelRun

MAX_CLAIMS = 3
MAX_CLAIM_CHARS = 200  # a guard: the prompt asks for short claims; maxLength cuts mid-word when it binds
MAX_CITES = 2


class AnswerClaim(BaseModel):
    """One claim of the model's answer: the handles of the evidence it cites and its text."""

    cites: list[str] = Field(min_length=1, max_length=MAX_CITES)
    text: str = Field(min_length=1, max_length=MAX_CLAIM_CHARS)


class Answer(BaseModel):
    """The model's answer. The JSON schema the decoder is bound to is made from this model (`claims_schema`), and
    the answer is parsed with it: one definition for both."""

    claims: list[AnswerClaim] = Field(min_length=0)


def claims_schema(handles: Sequence[str], max_claims: int = MAX_CLAIMS) -> dict[str, Any]:
    """`Answer`'s JSON schema for one pair: its handles as the citations' enum, at most `max_claims` claims. Inlined
    and plain, so that llama.cpp's grammar converter takes it (it silently drops a schema it cannot convert)."""
    schema = Answer.model_json_schema()
    claim = schema["$defs"][AnswerClaim.__name__]
    claim["properties"]["cites"]["items"]["enum"] = list(handles)
    schema["properties"]["claims"].update(items=claim, maxItems=max_claims)
    return dict(_plain({k: v for k, v in schema.items() if k != "$defs"}))


_KEY_ORDER = ("type", "minItems", "maxItems", "minLength", "maxLength", "enum", "items", "properties", "required")


def _plain(node: Any) -> Any:
    """`node` without pydantic's `title` and `description` keys (properties of those names are kept), its keys in
    one order: the schema text is the same whatever order pydantic writes them in."""
    if isinstance(node, dict):
        kept = {
            k: {name: _plain(v) for name, v in value.items()} if k == "properties" else _plain(value)
            for k, value in node.items()
            if k not in ("title", "description")
        }
        return {k: kept[k] for k in sorted(kept, key=lambda k: _KEY_ORDER.index(k) if k in _KEY_ORDER else 99)}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def parse_answer(text: str, handles: dict[str, str]) -> list[DraftClaim]:
    """The model's JSON → draft claims citing stable ids. Raises ValueError naming what is wrong."""
    try:
        answer = Answer.model_validate(json.loads(text))
    except (json.JSONDecodeError, ValidationError) as exc:
        raise ValueError(f"not the JSON the schema asks for: {str(exc).splitlines()[0]}") from exc
    except RecursionError:  # "[[[[…" deeper than the JSON decoder goes
        raise ValueError("not the JSON the schema asks for: nested too deeply") from None
    claims = []
    for claim in answer.claims:
        unknown = [c for c in claim.cites if c not in handles]
        if unknown:
            raise ValueError(f"cites {unknown[0]!r}, which is not one of the evidence handles")
        cites = list(dict.fromkeys(handles[c] for c in claim.cites))
        claims.append(DraftClaim(text=" ".join(claim.text.split()), cites=cites))
    return claims


class LLMComposer:
    """Composer backed by an LLM: `compose` drafts, `repair` rewrites the claims the checker rejected."""

    rewrites = True

    def __init__(
        self,
        llm: LLM,
        prompt: ExplainPrompt | Sequence[ExplainPrompt],
        max_tokens: int = 256,
        max_claims: int | None = None,
    ):
        """`prompt`: one prompt version, or several to A/B: each user gets one of them, always the same.
        `max_claims`: the schema's cap on claims; None: the number the user's prompt version asks for."""
        self.llm = llm
        self.prompts = {p.version: p for p in ([prompt] if isinstance(prompt, ExplainPrompt) else prompt)}
        if not self.prompts:
            raise WhyrecError("the LLM composer needs at least one prompt version")
        self.prompt = next(iter(self.prompts.values()))  # the first: used when there is no user to assign
        self.max_tokens = max_tokens
        self.max_claims = max_claims
        self.name = f"llm:{llm.name}"

    def describe(self, usage: Usage) -> ModelRun:
        """What produced a reason: the model file, prompt version and sampling settings, and what it cost."""
        return ModelRun(
            name=self.llm.name,
            sha256=self.llm.sha256,
            prompt_version=usage.prompt_version or self.prompt.version,
            settings=self.llm.settings(),
            calls=usage.calls,
            unparsed=usage.unparsed,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            seconds=round(usage.seconds, 3),
        )

    def prompt_for(self, user_id: str | None) -> ExplainPrompt:
        """The prompt version this user gets (see `variant_for`)."""
        return self.prompts[variant_for(user_id, list(self.prompts))]

    def fit(self, request: DraftRequest) -> tuple[list[ChatMessage], list[Evidence]]:
        """The messages for this request, with the lowest-ranked evidence left out until they fit the context. A name
        derived from reviews is on the prompt's Item line, not among the evidence: cited, it backs nothing but itself
        ("Reviewers call this item 'magazine'"), which the model then writes as a claim."""
        evidence = sorted(_shown(request.evidence), key=lambda e: e.rank)
        budget = self.llm.n_ctx - self.max_tokens
        prompt = self.prompt_for(request.user_id)
        product = request.product
        title = {  # an id in the prompt ends up in the reason: name the item as its evidence does
            "seller": product.title,
            "reviews": f"{product.title} (name taken from its reviews)",
            "id": "this item (no name known)",
        }[product.title_from]
        while True:
            messages = prompt.messages(title, request.profile, request.question, evidence)
            if self.llm.count_tokens(messages) <= budget:
                return messages, evidence
            if not evidence:
                raise ModelError(
                    f"the prompt does not fit a context of {self.llm.n_ctx} tokens even without evidence; "
                    "raise WHYREC_N_CTX"
                )
            evidence = evidence[:-1]

    def compose(self, request: DraftRequest, on_claim: ClaimListener | None = None) -> Draft:
        """The model's draft; with a prompt that `states_signals`, whyrec's own signal claims come first and the
        model writes the rest from the item's evidence (`whyrec.agent.stated`). `on_claim` hears the stated claims
        at once and each of the model's as soon as its JSON object closes."""
        prompt = self.prompt_for(request.user_id)
        stated: list[DraftClaim] = []
        if prompt.states_signals:
            stated = stated_claims(request.evidence)
            request = request.model_copy(update={"evidence": left_to_the_model(request.evidence)})
            if on_claim is not None:
                for claim in stated:
                    on_claim(claim)
        messages, evidence = self.fit(request)
        usage = Usage(trimmed=len(_shown(request.evidence)) - len(evidence), prompt_version=prompt.version)
        limit = self.max_claims or prompt.max_claims
        draft = self._generate(messages, handles_for(evidence), usage, max_claims=limit, on_claim=on_claim)
        return draft.model_copy(update={"claims": [*stated, *draft.claims]}) if stated else draft

    def repair(self, request: DraftRequest, draft: Draft, rejected: Sequence[ClaimVerdict]) -> Draft:
        """Ask once more, showing the model its answer and why each rejected claim failed."""
        if not draft.messages:
            return Draft(claims=[])
        shown = set(draft.handles.values())
        # only what the model wrote: a claim of whyrec's own (a stated signal) is not the model's to rewrite
        rejected = [v for v in rejected if not set(v.claim.cites) - shown]
        if not rejected:
            return Draft(claims=[])
        lines = [f'- "{v.claim.text}": {v.detail} ({v.label})' for v in rejected]
        prompt = self.prompt_for(request.user_id)  # the draft's own version: the re-ask continues its conversation
        messages = prompt.repair_messages(draft.messages[:-1], draft.messages[-1]["content"], lines)
        return self._generate(messages, draft.handles, Usage(prompt_version=prompt.version), max_claims=len(rejected))

    def _generate(
        self,
        messages: list[ChatMessage],
        handles: dict[str, str],
        usage: Usage,
        max_claims: int,
        on_claim: ClaimListener | None = None,
    ) -> Draft:
        schema = claims_schema(list(handles), max_claims)
        max_tokens, problem = self.max_tokens, ""
        for _attempt in range(2):
            asked = messages if not problem else [*messages, _retry_note(problem)]
            listen = _ClaimStream(handles, on_claim) if on_claim is not None and not problem else None
            generation = self.llm.chat(asked, schema, max_tokens, static=ExplainPrompt.STATIC_MESSAGES, on_text=listen)
            try:
                claims = parse_answer(generation.text, handles)
            except ValueError as exc:
                usage = usage.add(generation, parsed=False)
                problem = str(exc) if generation.finish_reason != "length" else "the answer was cut off: be shorter"
                max_tokens *= 2  # a cut-off answer needs room; a malformed one gets a different prompt
                continue
            usage = usage.add(generation)
            answered = [*messages, ChatMessage(role="assistant", content=generation.text)]
            return Draft(claims=claims, usage=usage, messages=answered, handles=handles)
        raise ModelError(f"{self.llm.name} gave no usable answer twice ({problem})")


class _ClaimStream:
    """Hears the answer grow (`LLM.chat`'s `on_text`) and tells each claim once its JSON object has closed."""

    def __init__(self, handles: dict[str, str], on_claim: ClaimListener):
        self.handles = handles
        self.on_claim = on_claim
        self.told = 0
        self.seen = 0

    def __call__(self, text: str) -> bool:
        closed = text.count("}")
        if closed == self.seen:
            return False  # no object closed since the last look: nothing new can parse
        self.seen = closed
        for ending in ("]}", ""):  # a claim's "}" just closed, or the whole answer did
            try:
                claims = parse_answer(text.rstrip().rstrip(",") + ending, self.handles)
            except ValueError:
                continue
            for claim in claims[self.told :]:
                self.on_claim(claim)
            self.told = max(self.told, len(claims))
            break
        return False


def _shown(evidence: Sequence[Evidence]) -> list[Evidence]:
    """The evidence the model sees: all but a name derived from reviews (see `LLMComposer.fit`)."""
    return [e for e in evidence if not (e.kind == "signal" and e.field == "title")]


def _retry_note(problem: str) -> ChatMessage:
    return ChatMessage(role="user", content=f"Your answer could not be used ({problem}). Answer with JSON only.")
