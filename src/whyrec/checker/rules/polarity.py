"""Sentiment polarity: what a claim says reviewers feel about an aspect must agree with how most reviews that mention
that aspect feel about it (VADER scores each sentence), and must not reverse the sentence it cites."""

from __future__ import annotations

from whyrec.checker.analysis import Analysed, Token, follows_cue, is_cue
from whyrec.checker.patterns import ABOUT_ONE_REVIEWER, ABOUT_USER, RATING_JUDGEMENT, WEAKENERS
from whyrec.checker.rules.base import ClaimView, Context, Decision, span, unquoted, whole
from whyrec.knowledge.sentiment import polarity, sentiment_words
from whyrec.schema import Evidence


class PolarityAgrees:
    name = "polarity_agrees"

    @staticmethod
    def _rating_judgement(view: ClaimView) -> Decision | None:
        """ "You gave it a poor rating" against the 5 stars of the cited unit (a review's, or the user's own)."""
        match = RATING_JUDGEMENT.search(unquoted(view.claim.text))
        rated = [e for e in view.cited if e.rating is not None and e.speaker in ("user", "reviewer")]
        if match is None or not rated:
            return None
        low = bool(match.group("low") or match.group("low2"))
        against = [e for e in rated if (e.rating >= 4 if low else e.rating <= 2)]  # type: ignore[operator]
        if len(against) < len(rated):
            return None
        stars = ", ".join(sorted({f"{e.rating:g}" for e in against}))
        detail = f"{match.group()!r} against the {stars} stars the cited evidence gives"
        return Decision("contradicted", detail, tuple(whole(e) for e in against))

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        limits = ctx.thresholds.polarity
        if (judged := self._rating_judgement(view)) is not None:
            return judged
        claim = polarity(unquoted(view.claim.text))
        if abs(claim) < limits.claim:
            return None
        sign = 1 if claim > 0 else -1
        # what the sentiment is about: the content words that carry no sentiment of their own
        sentiment = sentiment_words()
        aspect = view.content(ctx) & {t.stem for t in view.frame.tokens if t.word not in sentiment}
        rated = [e for e in view.cited if e.speaker == "user" and e.rating is not None]
        states_stars = any(n.unit == "star" for n in view.frame.numbers)  # "you gave it 1 star": numbers_match's
        if rated and not states_stars and ABOUT_USER.search(unquoted(view.claim.text)):
            # "you were disappointed by …" against the user's own 5-star rating of it
            against_rating = [e for e in rated if (e.rating - 3) * sign < 0]  # type: ignore[operator]
            if len(against_rating) == len(rated):
                return Decision(
                    "contradicted",
                    "the user's own rating says the opposite",
                    tuple(whole(e) for e in against_rating),
                )
        cited_reviews = [e for e in view.cited if e.speaker == "reviewer"]
        against = [e for e in cited_reviews if polarity(e.text) * sign <= -limits.mention]
        if against and not [e for e in cited_reviews if polarity(e.text) * sign >= limits.mention]:
            return Decision("contradicted", "the cited review says the opposite", tuple(whole(e) for e in against))
        # a sentence that shows no feeling of its own is read with its review: "The sound is what you'd expect."
        # from a 1-star review does not back "the sound is great"
        plain = [e for e in cited_reviews if abs(polarity(e.text)) < limits.mention]
        rated_against = [e for e in plain if e.rating is not None and (e.rating - 3) * sign < 0]
        if cited_reviews and len(rated_against) == len(cited_reviews):
            stars = ", ".join(sorted({f"{e.rating:g}" for e in rated_against}))
            detail = f"the review the cited sentence comes from says the opposite ({stars} stars)"
            return Decision("contradicted", detail, tuple(whole(e) for e in rated_against))
        if not aspect or not cited_reviews or ABOUT_ONE_REVIEWER.search(unquoted(view.claim.text)):
            return None  # what one reviewer felt is checked against that review alone
        # the reviews the claim cites are mentions of its aspect too, whatever words they use
        mentions = [e for e in ctx.reviews() if aspect & ctx.analysed(e).content or e in cited_reviews]
        agree = [e for e in mentions if polarity(e.text) * sign >= limits.mention]
        disagree = [e for e in mentions if polarity(e.text) * sign <= -limits.mention]
        if len(disagree) > len(agree):
            return Decision(
                "contradicted",
                f"most reviews that mention it say the opposite ({len(disagree)} of {len(agree) + len(disagree)})",
                tuple(whole(e) for e in disagree[:5]),
            )
        return None


FEELING = 1.0  # |VADER valence| from which a word states a feeling ("dislikes" -1.7, "classy" 1.9)
# Words VADER scores that name things or facts rather than feelings: a gift, a prize, free shipping, a fee.
NOT_FEELINGS = frozenset("gift gifts present presents prize free fee fees charge charged".split())


def feelings(analysed: Analysed) -> list[tuple[int, Token]]:
    """(sign, word) of each word that states a feeling, its sign turned by a negation or a weakener before it ("not
    happy", "hardly appreciated")."""
    lexicon = sentiment_words()
    found = []
    for index, token in enumerate(analysed.tokens):
        valence = lexicon.get(token.word, 0.0)
        if abs(valence) < FEELING or is_cue(token.word) or token.word in NOT_FEELINGS:
            continue
        if index and analysed.text[token.start].isupper():
            continue  # a name: "United States", "Best Buy"
        sign = 1 if valence > 0 else -1
        before = analysed.tokens[max(0, index - 3) : index]
        if (
            token.negated
            or follows_cue(analysed.tokens, index, 3, analysed.text)
            or any(t.word in WEAKENERS for t in before)
        ):
            sign = -sign
        found.append((sign, token))
    return found


class FeelingBacked:
    """A feeling the claim states in its own words must be one its evidence states: "dislikes" against "loves" is
    contradicted, "was thrilled" against a unit that states no feeling is unsupported. A word of the same sign
    ("enjoyed" for "loved") is a paraphrase and passes."""

    name = "feeling_backed"

    def __call__(self, view: ClaimView, ctx: Context) -> Decision | None:
        if not ctx.is_catalogue or not view.cited or view.quotes:
            return None
        backed = view.support_stems(ctx)
        content = view.content(ctx)  # the item's own name is no feeling ("gift" of a gift card)
        claimed = [
            (sign, t) for sign, t in feelings(view.frame) if t.stem in content and (t.stem not in backed or t.negated)
        ]
        if not claimed:
            return None
        # (sign, unit, the word that states it, or None where the review's stars do: "reviewers complain" of 1 star)
        stated: list[tuple[int, Evidence, Token | None]] = [
            (sign, e, word) for e in view.cited for sign, word in feelings(ctx.analysed(e))
        ]
        stated += [(1 if e.rating >= 4 else -1, e, None) for e in view.cited if e.rating is not None and e.rating != 3]
        for sign, token in claimed:
            if any(s == sign for s, _, _ in stated):
                continue
            against = [(e, word) for s, e, word in stated if s == -sign]
            if against:
                unit, word = against[0]
                said = repr(unit.text[word.start : word.end]) if word else f"the {unit.rating:g} stars of its review"
                where = span(unit, word.start, word.end) if word else whole(unit)
                return Decision("contradicted", f"{token.word!r} reverses {said} in the evidence", (where,))
            return Decision("unsupported", f"no cited evidence states a feeling like {token.word!r}")
        return None
