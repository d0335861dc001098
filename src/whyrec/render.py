"""Terminal rendering of an Explanation: the reason with numbered citation markers, the cited evidence beneath."""

from __future__ import annotations

from rich.console import Group
from rich.markup import escape
from rich.text import Text

from whyrec.schema import Explanation

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
            footer.append(Text(f"  dropped ({verdict.label}, {verdict.rule}): {verdict.claim.text}", style="yellow"))
    timing = explanation.manifest.timings_ms.get("total", 0.0)
    footer.append(
        Text(
            f"composer {explanation.manifest.composer} · {len(explanation.evidence)} evidence units · {timing:.0f} ms",
            style="dim",
        )
    )
    return Group(header, reason, Text(""), *sources, *footer)
