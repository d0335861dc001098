"""Terminal rendering of an Explanation: the reason with numbered citation markers, the cited evidence beneath."""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.text import Text

from whyrec.schema import Audit, Explanation

SPEAKER_LABEL = {"seller": "seller", "reviewer": "another reviewer", "user": "your history"}
STATUS_STYLE = {"ok": "green", "partial": "yellow", "abstained": "red"}


def citation_numbers(explanation: Explanation) -> dict[str, int]:
    """Number each cited id in order of first citation: [1], [2], …"""
    numbers: dict[str, int] = {}
    for claim in explanation.claims:
        for unit_id in claim.cites:
            numbers.setdefault(unit_id, len(numbers) + 1)
    return numbers


def render_explanation(explanation: Explanation, title: str) -> Group:
    numbers = citation_numbers(explanation)
    status = explanation.status
    header = Text.from_markup(
        f"[bold]Why {escape(title)} ({escape(explanation.item_id)}) for user {escape(explanation.user_id)}?[/bold]  "
        f"[{STATUS_STYLE[status]}]{status}[/{STATUS_STYLE[status]}]"
    )
    reason = Text()
    if explanation.claims:
        for n, claim in enumerate(explanation.claims):
            if n:
                reason.append(" ")
            reason.append(claim.text)
            reason.append("".join(f"[{numbers[c]}]" for c in claim.cites), style="cyan")
    else:
        reason.append(explanation.reason, style="italic")

    sources = []
    for unit_id, number in numbers.items():
        unit = next(e for e in explanation.evidence if e.id == unit_id)
        line = Text(f"[{number}] ", style="cyan")
        line.append(unit.text)
        line.append(f"\n    {SPEAKER_LABEL[unit.speaker]} · {unit.id}", style="dim")
        sources.append(line)

    accepted = sum(1 for v in explanation.verdicts if v.accepted)
    footer = [Text(f"checked: {accepted} of {len(explanation.verdicts)} drafted claims supported", style="dim")]
    for verdict in explanation.verdicts:
        if not verdict.accepted:
            what = "rejected" if verdict.attempt == 1 else "rejected on re-ask"
            footer.append(Text(f"  {what} ({verdict.label}, {verdict.rule}): {verdict.claim.text}", style="yellow"))
    if explanation.fallback:
        footer.append(Text(f"fallback: {explanation.fallback}", style="yellow"))
    footer.append(Text(_provenance(explanation), style="dim"))
    return Group(header, reason, Text(""), *sources, *footer)


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


LABEL_STYLE = {
    "supported": "green",
    "unsupported": "yellow",
    "contradicted": "red",
    "uncited": "magenta",
    "invalid_citation": "magenta",
}


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
    table.add_column("rule", no_wrap=True)
    table.add_column("score", no_wrap=True)
    table.add_column("why / evidence", ratio=4)
    for n, verdict in enumerate(audit.verdicts, start=1):
        style = LABEL_STYLE[verdict.label]
        where = ", ".join(f"{s.unit_id}[{s.start}:{s.end}]" for s in verdict.evidence_spans[:2])
        table.add_row(
            str(n),
            Text(verdict.claim.text),
            Text(verdict.label, style=style),
            verdict.rule,
            f"{verdict.score:.2f}",
            Text(verdict.detail + (f"\n{where}" if where else ""), style="dim"),
        )
    summary = Text(
        f"{audit.supported} of {len(audit.verdicts)} claims supported · checker {audit.checker}",
        style="green" if audit.grounded else "yellow",
    )
    return Group(Text.from_markup(head), table, summary)
