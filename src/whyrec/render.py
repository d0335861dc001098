"""Terminal rendering of an Explanation: the reason with numbered citation markers, the cited evidence beneath."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Group
from rich.markup import escape
from rich.text import Text

from whyrec.agent.item_quote import QUOTE_DETAIL
from whyrec.schema import Audit, ChatAnswer, Evidence, Explanation

if TYPE_CHECKING:
    from whyrec.knowledge.profile import UserProfile
    from whyrec.recommend import Recommendation
    from whyrec.recommend.ask import Answer

SPEAKER_LABEL = {
    "seller": "seller",
    "reviewer": "another reviewer",
    "user": "your history",
    "whyrec": "counted by whyrec",
}
STATUS_STYLE = {"ok": "green", "partial": "yellow", "abstained": "red"}
LABEL_STYLE = {
    "supported": "green",
    "unsupported": "yellow",
    "contradicted": "red",
    "uncited": "magenta",
    "invalid_citation": "magenta",
}


def citation_numbers(*explanations: Explanation) -> dict[str, int]:
    """Number each cited id in order of first citation: [1], [2], … (shared across several explanations)."""
    numbers: dict[str, int] = {}
    for explanation in explanations:
        for claim in explanation.claims:
            for unit_id in claim.cites:
                numbers.setdefault(unit_id, len(numbers) + 1)
    return numbers


def _reason(explanation: Explanation, numbers: dict[str, int]) -> Text:
    """The reason with a cyan [n] after each claim; an abstention in italics."""
    reason = Text()
    if not explanation.claims:
        reason.append(explanation.reason, style="italic")
    for n, claim in enumerate(explanation.claims):
        if n:
            reason.append(" ")
        reason.append(claim.text)
        reason.append("".join(f"[{numbers[c]}]" for c in claim.cites), style="cyan")
    return reason


def _sources(units: Iterable[Evidence], numbers: dict[str, int]) -> list[Text]:
    """One footnote per numbered unit: its text, whose words they are and its id."""
    by_id = {unit.id: unit for unit in units}
    lines = []
    for unit_id, number in numbers.items():
        unit = by_id[unit_id]
        line = Text(f"[{number}] ", style="cyan")
        line.append(unit.text)
        line.append(f"\n    {SPEAKER_LABEL[unit.speaker]} · {unit.id}", style="dim")
        lines.append(line)
    return lines


def _checked(explanation: Explanation) -> list[Text]:
    """How many drafted claims the checker accepted, each rejected one with its verdict, and the review whyrec quoted
    (`whyrec.agent.item_quote`), which is not a drafted claim."""
    quoted = [v for v in explanation.verdicts if v.detail.startswith(QUOTE_DETAIL)]
    drafted = [v for v in explanation.verdicts if v not in quoted]
    accepted = sum(1 for v in drafted if v.accepted)
    lines = [Text(f"checked: {accepted} of {len(drafted)} drafted claims supported", style="dim")]
    lines += [Text(f"  {QUOTE_DETAIL.replace(': ', ', as ', 1)}: {v.claim.text}", style="dim") for v in quoted]
    for verdict in drafted:
        if verdict.mended is not None:
            lines.append(Text(f"  mended by whyrec: {verdict.mended}", style="dim"))
        if not verdict.accepted:
            what = "rejected" if verdict.attempt == 1 else "rejected on re-ask"
            style = LABEL_STYLE[verdict.label]
            lines.append(Text(f"  {what} ({verdict.label}, {verdict.rule}): {verdict.claim.text}", style=style))
    if explanation.fallback:
        lines.append(Text(f"fallback: {explanation.fallback}", style="yellow"))
    return lines


def render_explanation(explanation: Explanation, title: str) -> Group:
    numbers = citation_numbers(explanation)
    status = explanation.status
    whom = f"user {escape(explanation.user_id)}" if explanation.user_id is not None else "a new shopper"
    header = Text.from_markup(
        f"[bold]Why {escape(title)} ({escape(explanation.item_id)}) for {whom}?[/bold]  "
        f"[{STATUS_STYLE[status]}]{status}[/{STATUS_STYLE[status]}]"
    )
    footer = [*_checked(explanation), Text(_provenance(explanation), style="dim")]
    return Group(header, _reason(explanation, numbers), Text(""), *_sources(explanation.evidence, numbers), *footer)


def render_chat_answer(answer: ChatAnswer, titles: Mapping[str, str]) -> Group:
    """A chat reply: the note, each explanation (titled when there are two), footnotes, the checker's rejections."""
    from rich.table import Table

    parts: list[Any] = []
    if answer.note:
        parts.append(Text(answer.note, style="bold"))
    numbers = citation_numbers(*answer.explanations)
    for explanation in answer.explanations:
        if len(answer.explanations) > 1:
            parts.append(Text(titles.get(explanation.item_id, explanation.item_id), style="bold underline"))
        parts.append(_reason(explanation, numbers))
    if answer.comparison:
        other = answer.explanations[-1].item_id if answer.explanations else ""
        table = Table("", titles.get(answer.item_id, "this item"), titles.get(other, "the other"), box=None)
        for pair in answer.comparison:
            table.add_row(pair.field, pair.this.text if pair.this else "-", pair.other.text if pair.other else "-")
        parts.append(table)
    if numbers:
        parts.append(Text(""))
        parts.extend(_sources([e for x in answer.explanations for e in x.evidence], numbers))
    for explanation in answer.explanations:
        parts.extend(_checked(explanation))
    if answer.sources:
        for n, unit in enumerate(answer.sources, start=1):
            line = Text(f"{n}. ", style="cyan")
            line.append(unit.text)
            line.append(f"\n   {SPEAKER_LABEL[unit.speaker]} · {unit.id} · {unit.source_ref}", style="dim")
            parts.append(line)
    return Group(*parts)


def _provenance(explanation: Explanation) -> str:
    manifest = explanation.manifest
    parts = [f"composer {manifest.composer}"]
    if manifest.model is not None:
        run = manifest.model
        parts.append(f"prompt {run.prompt_version}")
        parts.append(f"{run.prompt_tokens}+{run.completion_tokens} tokens in {run.calls} call(s)")
    parts.append(f"{len(explanation.evidence)} evidence units")
    parts.append(f"{manifest.timings_ms.get('total', 0.0) / 1000:.1f} s")
    return " · ".join(parts)


def render_audit(audit: Audit) -> Group:
    """One row per claim: its verdict, the rule that decided, the score, and why."""
    from rich.table import Table

    head = f"[bold]Audit of a reason for user {escape(audit.user_id)}, item {escape(audit.item_id)}[/bold]"
    if audit.id:
        head += f"  ({escape(audit.id)})"
    table = Table(box=None, header_style="bold")
    table.add_column("#", no_wrap=True)
    table.add_column("claim", ratio=3)
    table.add_column("verdict", no_wrap=True)
    table.add_column("stage/rule", no_wrap=True)
    table.add_column("score", no_wrap=True)
    table.add_column("why / evidence", ratio=4)
    for n, verdict in enumerate(audit.verdicts, start=1):
        style = LABEL_STYLE[verdict.label]
        where = ", ".join(f"{s.unit_id}[{s.start}:{s.end}]" for s in verdict.evidence_spans[:2])
        table.add_row(
            str(n),
            Text(verdict.claim.text),
            Text(verdict.label, style=style),
            f"{verdict.stage}/{verdict.rule}" if verdict.stage else verdict.rule,
            f"{verdict.score:.2f}",
            Text(verdict.detail + (f"\n{where}" if where else ""), style="dim"),
        )
    summary = Text(
        f"{audit.supported} of {len(audit.verdicts)} claims supported · checker {audit.checker}",
        style="green" if audit.grounded else "yellow",
    )
    return Group(Text.from_markup(head), table, summary)


def render_recommendations(
    user_id: str | None, picks: Sequence[Recommendation], titles: Mapping[str, str], history: int
) -> Group:
    """The ranked list: each item with its blended score, the two parts of it, and the history items it is like."""
    from rich.table import Table

    whom = f"user {escape(user_id)}" if user_id is not None else "a new shopper"
    if history:
        header = f"[bold]Recommended for {whom}[/bold] (from {history} items in their history)"
    else:
        header = f"[bold]Recommended for {whom}[/bold] (no history: the most popular items)"
    grid = Table("#", "item", "score", "collab.", "content", "like these in the history", box=None)
    for n, pick in enumerate(picks, start=1):
        like = "; ".join(titles.get(item, item) for item in pick.because) or "–"
        title = f"{titles.get(pick.item_id, pick.item_id)} ({pick.item_id})"
        grid.add_row(str(n), title, f"{pick.score:.3f}", f"{pick.collaborative:.3f}", f"{pick.content:.3f}", like)
    if not picks:
        return Group(Text.from_markup(header), Text("The user already has every item of the catalogue."))
    return Group(Text.from_markup(header), grid)


def render_answer(answer: Answer) -> Group:
    """`whyrec ask`: how the request was read, then the picks (or, with none, the closest items and what they miss)."""
    from rich.table import Table

    request = answer.request
    reader = "the model" if request.reader == "llm" else "rules"
    lines: list[Any] = [
        Text.from_markup(
            f"[bold]Looking for[/bold] {escape(request.need)} · {escape(request.describe())} (read by {reader})"
        )
    ]
    if request.note:
        lines.append(Text(f"note: {request.note}", style="dim"))
    shown = answer.picks or answer.closest
    if not answer.picks:
        lines.append(
            Text(
                f"No item meets every constraint ({answer.candidates} candidates checked). Closest:",
                style="yellow",
            )
        )
    grid = Table(
        "#", "item", "price", "match", "score", "best matching evidence" if answer.picks else "misses", box=None
    )
    for n, pick in enumerate(shown, start=1):
        detail = ", ".join(pick.matched_units[:1]) if answer.picks else "; ".join(pick.broken)
        price = "–" if pick.price is None else f"${pick.price:,.2f}"
        grid.add_row(str(n), f"{pick.title} ({pick.item_id})", price, f"{pick.match:.3f}", f"{pick.score:.3f}", detail)
    if shown:
        lines.append(grid)
    return Group(*lines)


def render_profile(found: UserProfile, told: str | None) -> Group:
    """`whyrec profile`: what the user writes about, how they feel about it, the sentences that say so; `told`: the
    preferences they stated in feedback, described."""
    from rich.table import Table

    lines: list[Any] = [
        f"[bold]User {escape(found.user_id)}[/bold]: {found.items} items in the history, "
        f"{found.review_sentences} review sentences"
    ]
    if told is not None:
        lines.append(f"Told us: {escape(told)}")
    if not found.aspects:
        lines.append("No aspect found in their reviews: explanations for this user rest on the items' own evidence.")
        return Group(*lines)
    grid = Table("aspect", "mentions", "feeling", "weight", "evidence", box=None, header_style="bold")
    for aspect in found.aspects:
        feeling = "positive" if aspect.sentiment >= 0.05 else "negative" if aspect.sentiment <= -0.05 else "neutral"
        more = f" (+{len(aspect.unit_ids) - 2})" if len(aspect.unit_ids) > 2 else ""
        grid.add_row(
            aspect.aspect,
            str(aspect.mentions),
            f"{feeling} ({aspect.sentiment:+.2f})",
            f"{aspect.weight:.1f}",
            ", ".join(aspect.unit_ids[:2]) + more,
        )
    lines.append(grid)
    return Group(*lines)
