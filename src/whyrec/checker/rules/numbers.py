"""Numbers and units: every price, percentage, rating and count a claim states must equal (or, for "under $30",
satisfy) a value in what it cites. A different value of the same kind contradicts it; no value of that kind leaves it
unsupported."""

from __future__ import annotations

from whyrec.checker.analysis import FRAME_WORDS, Number, stem
from whyrec.checker.rules.base import ClaimView, Context, Decision, span, whole
from whyrec.schema import Evidence, EvidenceSpan

_FRAME_STEMS = frozenset(stem(w) for w in FRAME_WORDS)


def _stated(unit: Evidence, ctx: Context) -> list[tuple[Number, EvidenceSpan, str]]:
    """The values a unit states, each with where it stands and how it reads."""
    values = [(n, span(unit, n.start, n.end), unit.text[n.start : n.end]) for n in ctx.analysed(unit).numbers]
    if unit.rating is not None:  # a review's or a purchase's stars are stated by the unit, if not in its text
        values.append((Number(unit.rating, "star", "", "eq", 0, 0), whole(unit), f"{unit.rating:g} stars"))
    return values


def _claimed(view: ClaimView, ctx: Context) -> list[Number]:
    """The numbers a claim states, less counts of reviewers and the item's own title numbers ("$25 Gift Card"). A
    claim that cites whyrec's counts (a signal) keeps its counts of reviews and shoppers: they are what it says."""
    counted = any(e.kind == "signal" for e in view.cited)
    return [
        n
        for n in view.frame.numbers
        if not (n.unit == "count" and ((n.noun in _FRAME_STEMS and not counted) or n.value in ctx.title_numbers))
        and not (n.unit != "count" and n.bound == "eq" and n.value in ctx.title_numbers)
    ]


def backed_numbers(view: ClaimView, ctx: Context) -> frozenset[str]:
    """The claim's numbers (as content stems) that a value in the cited evidence makes true."""
    units = ctx.units if view.auto_cited else view.cited
    stated = [n for e in units for n, _, _ in _stated(e, ctx)]
    return frozenset(
        f"{n.value:g}" for n in view.frame.numbers if any(n.comparable(s) and n.satisfied_by(s) for s in stated)
    ) | frozenset(f"{v:g}" for v in ctx.title_numbers)


class NumbersMatch:
    name = "numbers_match"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        claimed = _claimed(view, ctx)
        if not claimed:
            return None
        stated = [v for e in view.cited for v in _stated(e, ctx)]
        # an uncited claim's number may be stated anywhere in the evidence, not only in its best match
        anywhere = [v for e in ctx.units for v in _stated(e, ctx)] if view.auto_cited else stated
        for number in claimed:
            said = view.frame.text[number.start : number.end]
            comparable = [(n, s, label) for n, s, label in stated if number.comparable(n)]
            if any(number.comparable(n) and number.satisfied_by(n) for n, _, _ in anywhere):
                continue
            # the same count said of a differently worded noun ("6,500 Taco Bell locations" / "6,500 locations")
            if number.unit == "count" and any(n.unit == "count" and number.satisfied_by(n) for n, _, _ in anywhere):
                continue
            if number.unit == "ordinal" and not comparable:
                continue  # "the first 20 customers": an ordinal only contradicts another of the same thing
            if comparable:
                values = ", ".join(sorted({label for _, _, label in comparable}))
                return Decision(
                    "contradicted",
                    f"{said!r} does not match the cited value ({values})",
                    tuple(s for _, s, _ in comparable),
                )
            return Decision("unsupported", f"no cited evidence states {said!r}")
        return None
