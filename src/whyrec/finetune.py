"""`whyrec export finetune`: accepted reasons as supervised fine-tuning data, one chat per line.

Each thumbs-up linked to a reason whyrec wrote with a model (not the extractive composer, not an abstention) becomes
`{"messages": [system, worked example…, user, assistant], "metadata": {…}}`: the prompt exactly as that prompt
version renders it for the pair (the evidence it saw, under the same handles, the lowest-ranked units left out as
they were to fit the context), and as the assistant turn the reason's accepted claims as the JSON the model is asked
for, citing the same handles. The metadata keeps the evidence ids, the handle map, the feedback id and the model, so
every training answer can be traced back to its evidence. A chat question that led to the reason is not stored with
it, so the rendered prompt has none.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whyrec.agent.stated import left_to_the_model, stated_signals
from whyrec.errors import WhyrecError
from whyrec.feedback import FeedbackStore
from whyrec.files import write_atomic
from whyrec.knowledge import Store
from whyrec.knowledge.profile import AspectProfiler
from whyrec.prompts import handles_for, load_prompt
from whyrec.schema import Explanation


@dataclass
class ExportSummary:
    written: int = 0
    skipped: Counter[str] = field(default_factory=Counter)


def example(explanation: Explanation, store: Store, profiles: AspectProfiler) -> dict[str, Any]:
    """The chat for one accepted reason; WhyrecError (with the reason why) if it cannot be one."""
    model = explanation.manifest.model
    if model is None:
        raise WhyrecError("not written by a model")
    if explanation.status == "abstained" or not explanation.claims:
        raise WhyrecError("an abstention")
    product = store.product(explanation.item_id)
    if product is None:
        raise WhyrecError("the item is no longer in the catalogue")
    prompt = load_prompt(model.prompt_version)
    evidence = sorted(explanation.evidence, key=lambda e: e.rank)
    claims = list(explanation.claims)
    if prompt.states_signals:  # whyrec stated its signals itself: the model saw the rest and wrote the other claims
        stated = {unit.id for unit in stated_signals(evidence)}
        evidence = left_to_the_model(evidence)
        claims = [claim for claim in claims if not set(claim.cites) & stated]
        if not claims:
            raise WhyrecError("every claim is one whyrec stated itself")
    evidence = evidence[: len(evidence) - explanation.manifest.evidence_trimmed]
    handles = handles_for(evidence)
    by_id = {unit_id: handle for handle, unit_id in handles.items()}
    if any(cite not in by_id for claim in claims for cite in claim.cites):
        raise WhyrecError("a claim cites evidence the prompt did not show")
    # The prompt as it was rendered: the manifest records its profile and question (reasons written before it did
    # get the user's profile as it reads now, and no question).
    profile = explanation.manifest.profile
    if profile is None:
        user = explanation.user_id
        profile = profiles.words(user, exclude_item=explanation.item_id) if user and store.has_user(user) else []
    question = explanation.manifest.question
    messages = [
        {"role": m["role"], "content": m["content"]}
        for m in prompt.messages(product.title, profile, question, evidence)
    ]
    answer = {"claims": [{"cites": [by_id[c] for c in claim.cites], "text": claim.text} for claim in claims]}
    messages.append({"role": "assistant", "content": json.dumps(answer, ensure_ascii=False)})
    return {
        "messages": messages,
        "metadata": {
            "user_id": explanation.user_id,
            "item_id": explanation.item_id,
            "evidence_ids": [e.id for e in evidence],
            "handles": handles,
            "prompt_version": model.prompt_version,
            "model": model.name,
            "model_sha256": model.sha256,
            "status": explanation.status,
        },
    }


def export_finetune(feedback: FeedbackStore, store: Store, out: Path) -> ExportSummary:
    """Write every accepted reason that can be an example to `out` (replaced in one rename)."""
    profiles = AspectProfiler.of(store)
    summary = ExportSummary()
    lines = []
    for feedback_id, explanation in feedback.accepted():
        try:
            chat = example(explanation, store, profiles)
        except WhyrecError as exc:
            summary.skipped[str(exc)] += 1
            continue
        chat["metadata"]["feedback_id"] = feedback_id
        lines.append(json.dumps(chat, ensure_ascii=False) + "\n")
    try:
        write_atomic(out, "".join(lines))
    except OSError as exc:
        raise WhyrecError(f"{out}: cannot write ({exc.strerror or exc})") from None
    summary.written = len(lines)
    return summary
