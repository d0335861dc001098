"""Thin claims: a claim that, true or not, says nothing about this item beyond praise and what kind of thing it is.

"A reviewer says this gift card is a great gift idea" is backed by its review and tells a shopper nothing: once the
item's title (but for its aspect words), the catalogue's kind words ("card" of gift cards, `AspectVocabulary.kinds`),
stopwords, opinion words (VADER's lexicon) and FRAME_WORDS are taken out, no word is left. The explainer leaves such
claims out of a reason that has enough other claims, and `whyrec eval explain` counts them as generic (the same test,
so that figure is not an independent one; the blind reader's scores are). Texts are tokenised as the aspect
vocabulary tokenises them.
"""

from __future__ import annotations

from collections.abc import Collection

from whyrec.knowledge.aspects import tokenize
from whyrec.knowledge.text import STOPWORDS

# Words that frame a claim about the item without saying anything about it: what kind of thing it is, who says so or
# could get it, that it is a good choice. Opinion words ("great", "perfect", "love") are VADER's and need not be
# listed, but "great" is kept here so the list reads as the frame it is.
FRAME_WORDS = frozenset(
    """item items product products gift gifts card cards present presents idea ideas choice option great
    anyone anybody everyone everybody someone somebody whoever person people recipient recipients occasion occasions
    one buy purchase make makes made thing things really overall definitely sure
    reviewer reviewers review reviews shopper shoppers say says said""".split()
)


def is_thin(
    text: str, title: str, opinion: Collection[str], kinds: Collection[str] = (), aspects: Collection[str] = ()
) -> bool:
    """Nothing is left of `text` once the title's words, `kinds`, stopwords, `opinion` words and FRAME_WORDS are
    out. A title word that is one of the catalogue's `aspects` stays: "the box is pretty" says something about the
    box of "Gift Card in a Mini Shipping Box", which the title only names."""
    frame = (set(tokenize(title)) - set(aspects)) | set(kinds)
    # single letters are the leftovers of contractions and possessives ("it's", "Garden's")
    left = [
        w
        for w in tokenize(text)
        if w not in FRAME_WORDS
        and w not in STOPWORDS
        and w not in frame
        and w not in opinion
        and not (len(w) == 1 and w.isalpha())
    ]
    return not left
