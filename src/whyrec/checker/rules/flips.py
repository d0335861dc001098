"""Negation and antonym flips: a claim that says what its evidence says, but negated ("does not expire" against
"expires") or with a word turned into its opposite ("arrived late" against "arrived quickly"), is contradicted."""

from __future__ import annotations

from whyrec.checker.analysis import Token, follows_cue, is_cue
from whyrec.checker.lexicon import antonyms
from whyrec.checker.rules.base import ClaimView, Context, Decision, span
from whyrec.checker.words import only_a_verb
from whyrec.schema import Evidence


def _near_cue(text: str, tokens: tuple[Token, ...], index: int) -> bool:
    """A negation cue just before the word, or right after it across a colon or dash ("Expiration: never")."""
    if follows_cue(tokens, index, window=2, text=text):
        return True
    if index + 1 < len(tokens) and is_cue(tokens[index + 1].word):
        return bool(set(text[tokens[index].end : tokens[index + 1].start]) & {":", "-", "–"})
    return False


def _in_negated_list(tokens: tuple[Token, ...], index: int) -> bool:
    """The word stands in a list after a negated word ("no fees or *expiration* dates"): "or", "and" or "nor" joins
    them, and no word that can only be a verb starts another statement between ("isn't thick plus it's only …")."""
    first = next((i for i in range(index - 1, max(-1, index - 7), -1) if tokens[i].negated), None)
    if first is None:
        return False
    between = tokens[first + 1 : index]
    return any(t.word in ("or", "and", "nor") for t in between) and not any(only_a_verb(t.word) for t in between)


def _quotes(claim: tuple[Token, ...], unit: tuple[Token, ...]) -> bool:
    """The claim's words are a run of the unit's, each negated or not alike ("the battery arrived" of "It never
    arrived and the battery arrived"): what a negation does elsewhere in the unit is no reason to read the claim
    against it. One word is not a quote."""
    words = [(t.word, t.negated) for t in claim]
    run = [(t.word, t.negated) for t in unit]
    return len(words) > 1 and any(run[i : i + len(words)] == words for i in range(len(run) - len(words) + 1))


def _aligned(view: ClaimView, ctx: Context, unit: Evidence, word: str) -> bool:
    """The unit is about what the claim says: it shares enough of the claim's other content words."""
    rest = view.frame.content - {word}  # the item's title words count here: "buy another Domino's gift card"
    shared = len(rest & ctx.analysed(unit).stems)
    return not rest or shared / len(rest) >= ctx.thresholds.flips.align or shared >= 3


class NegationFlip:
    name = "negation_flip"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        words = view.content(ctx)
        claim_neg = {t.stem for t in view.frame.tokens if t.negated} & words
        claim_pos = {t.stem for t in view.frame.tokens if not t.negated} & words - claim_neg
        claim_has_cue = view.frame.has_negation()
        pool = view.pool(ctx)
        cited = set(map(id, view.cited))
        # a unit the claim quotes says each of its words the claim's way: none is then said only the other way
        quoted = any(_quotes(view.frame.tokens, ctx.analysed(unit).tokens) for unit in pool)
        flippable = set() if quoted else claim_neg | (claim_pos if not claim_has_cue else set())
        for stem in sorted(flippable):
            said_plain: list[tuple[Evidence, Token]] = []
            said_negated: list[tuple[Evidence, Token]] = []
            said_listed: list[tuple[Evidence, Token]] = []
            for unit in pool:
                tokens = ctx.analysed(unit).tokens
                for index, token in enumerate(tokens):
                    if token.stem != stem:
                        continue
                    if token.negated or _near_cue(unit.text, tokens, index):
                        said_negated.append((unit, token))
                    elif follows_cue(tokens, index, window=6, text=unit.text):
                        if _in_negated_list(tokens, index):  # "do not have any associated fees or *expiration* dates"
                            said_listed.append((unit, token))
                    else:
                        said_plain.append((unit, token))
            if said_plain and said_negated:
                continue  # the evidence says it both ways
            # a plain claim is flipped by a word a negation governs, or one further on in the cue's clause
            found = said_plain if stem in claim_neg else said_negated + ([] if said_plain else said_listed)
            # a unit the claim cites is about what it says; any other must share enough of its content
            hits = [
                (u, t) for u, t in found if (id(u) in cited and not view.auto_cited) or _aligned(view, ctx, u, stem)
            ]
            if not hits:
                continue
            unit, token = hits[0]
            flipped = "the claim negates" if stem in claim_neg else "the evidence negates"
            return Decision("contradicted", f"{flipped} {token.word!r}", (span(unit, token.start, token.end),))
        if claim_neg and not any(self._denies(view, ctx, unit) for unit in pool):
            word = next(t.word for t in view.frame.tokens if t.stem in claim_neg)
            return Decision("unsupported", f"no evidence says anything like 'not {word}'")
        return None

    @staticmethod
    def _denies(view: ClaimView, ctx: Context, unit: Evidence) -> bool:
        """The unit states a negation and is about what the claim says (shares enough of its content)."""
        analysed = ctx.analysed(unit)
        if not (analysed.has_negation() or any(t.negated for t in analysed.tokens)):
            return False
        words = view.content(ctx)  # the item's name is not what a negation is about
        if any(unit is cited for cited in view.cited) and words & ctx.analysed(unit).negated_stems(window=6):
            return True  # the unit the claim cites negates its word: "No fees." for "it has no fees"
        return not words or len(words & analysed.stems) / len(words) >= ctx.thresholds.flips.deny


class AntonymFlip:
    name = "antonym_flip"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        table = antonyms()
        pool = view.pool(ctx)
        # a word some unit says is not flipped by another that says its opposite
        backed = ctx.all_stems if view.auto_cited else view.support_stems(ctx)
        for token in view.frame.tokens:
            opposites = table.get(token.stem)
            if not opposites or token.stem in backed:
                continue
            for unit in pool:
                for other in ctx.analysed(unit).tokens:
                    if other.stem in opposites and other.negated == token.negated:
                        if not _aligned(view, ctx, unit, token.stem):
                            break
                        return Decision(
                            "contradicted",
                            f"{token.word!r} is the opposite of {other.word!r} in the evidence",
                            (span(unit, other.start, other.end),),
                        )
        return None
