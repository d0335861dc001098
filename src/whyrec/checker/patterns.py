"""Who a claim is about and the phrases that say so, shared by every stage of the checker (a rule never imports
another rule's patterns): the user ("you"), one reviewer, reviewers, a generic "you", what a history unit implies,
prices, and the cues that a review sentence is about another product."""

from __future__ import annotations

import re

from whyrec.checker.analysis import stem

# The writer speaking: a reason is whyrec's, told to the shopper, so "I" or "my" outside quotes is a reviewer's words
# passed off as its own ("A reviewer says it is great for anyone, even my granddaughter"). "I" only as a capital;
# "us" is left out ("the US").
FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'd|I'll)\b|\b(?i:my|me|mine|myself|we|we're|we've|our|ours|ourselves)\b")
# Markup in a claim ("<script>…</script>", "&lt;b&gt;"): a reason is plain text for a shopper, and a tag is what a
# hostile review asks the model to write, never something the evidence states.
MARKUP = re.compile(r"</?\s*[A-Za-z][\w-]*(?:\s[^<>]*)?/?>|&(?:lt|gt|#x?[0-9a-f]+);", re.I)
ABOUT_USER = re.compile(r"\b(you|your|yours|you've|you're|you'd|yourself)\b", re.I)
_ONE = r"reviewer|customer|buyer|user|shopper|purchaser|reader|subscriber|owner"
ABOUT_ONE_REVIEWER = re.compile(rf"\b(a|one|another|the)\s+(?:\w+\s+)?({_ONE})\b", re.I)
# Plural reviewers: the nouns themselves, or "many/several/most/some ..." and "people/everyone/others" as the subject
# of a saying verb ("people say", "most love it"); not "several awards" or "the richest people".
_SAYING = r"say|said|says|find|found|like|liked|love|loved|report|reported|complain|complained|mention|mentioned|agree"
# Told as the seller's words: "the seller says", "a seller describes", "the listing states", "the manufacturer calls".
ABOUT_SELLER = re.compile(
    r"\b(?:the|a|its)\s+(?:seller|listing|manufacturer|maker|description)\s+"
    r"(?:says?|said|states?|stated|describes?|described|calls?|called|claims?|claimed|lists?|listed|notes?|noted)\b",
    re.I,
)
ABOUT_REVIEWERS = re.compile(
    rf"\b(reviewers|customers|buyers|users|shoppers|purchasers|readers|subscribers|owners"
    rf"|(?:people|everyone|others|many|several|most|some)\s+(?:\w+\s+)?(?:{_SAYING}))\b",
    re.I,
)
# Words that frame a claim about the user's history rather than say what it holds.
USER_FRAME = frozenset(
    stem(w)
    for w in """
    bought buy buys purchased purchase reviewed review rated rate history past before previously earlier liked
    like enjoyed enjoy similar often usually regularly frequently again also tend
    """.split()
)
# "You" as anyone: what the item lets a buyer do ("you can redeem it online", "lets you dine in", "what you receive").
GENERIC_YOU = re.compile(
    r"\b(?:you(?:\s+(?:also|just|only|even|still|then))?\s+(?:can|could|will|'ll|would|may|might|must|need|get|"
    r"receive|don't have to|do not have to|won't)|(?:let|lets|make|makes|help|helps|allow|allows|for|give|gives)"
    r"\s+you)\b",
    re.I,
)
# ... but not a claim about what the user did ("you bought", "you have rated", "… before").
USERS_PAST = re.compile(
    r"\byou(?:'ve|'d)?\s+(?:have|had|already|once|previously|\w+ed|bought|gave|got|paid|said|wrote|chose|took)\b"
    r"|\b(?:before|previously|already|in the past|last time)\b",
    re.I,
)
AGREE = 2 / 3  # share of a claim's content words another reviewer's sentence must say to count as saying it
# What a unit of the user's history ("Reviewed X, rated 4/5") says without the words: the user had the item before.
HISTORY_IMPLIES = frozenset(
    stem(w)
    for w in """
    bought buy purchased purchase ordered order got get tried try reviewed review rated rate history past before
    previously earlier already
    """.split()
)
# Words that turn the feeling after them into its opposite, as a negation does ("hardly appreciated").
WEAKENERS = frozenset("hardly barely scarcely rarely seldom".split())

# The item the reason is about, pointed at: "this card", "these" (not "cards like this one", "similar to this"). "It"
# is left out: in "you gave the Red Robin card 5 stars and praised its burgers" it is the card of the history.
THIS_ITEM = re.compile(r"\b(?<!like )(?<!as )(?<!to )(?:this|these)\b", re.I)
OFTEN = re.compile(r"\b(often|usually|regularly|frequently|always|tend to|many times|a lot of)\b", re.I)

# A claim that only says what kind of thing the item is: "It is a magazine.", "This makes a great gift." Its one
# content word names the item's kind, which every unit about the item presumes: it explains nothing.
KIND_ONLY = re.compile(
    r"^\s*(?:it|this|that|these|they|the\s+\w+|this\s+\w+)\s+(?:is|was|are|'s|makes|made|would\s+make|will\s+make)"
    r"\s+(?:a|an|the|one)\s+[\w\s'-]{1,60}?[.!]?\s*$",
    re.I,
)

# Words that say what the item costs ("it costs $1", "priced at $20").
COST_WORDS = frozenset("cost costs price priced prices sells sold".split())

# A review sentence that compares, or speaks of something the reviewer had before: with a product name that is not
# this item's, or after a sentence that names one, it is about that other product ("the M-Audio one is better").
COMPARISON = re.compile(
    r"\b(?:better|worse|than|prefer|prefers|preferred|instead|rather|compared|unlike|vs|versus|switched|switch|"
    r"replaced|replace|competitor|competition|difference|superior|inferior)\b",
    re.I,
)
OTHER_OWNED = re.compile(
    r"\b(?:my (?:old|previous|former|other)|the (?:other|previous|old) one|another brand|a different brand|"
    r"other brands?|other magazines|the competition)\b",
    re.I,
)
# Capitalised words that are not products: the marketplace, holidays, months, days, titles of address.
NOT_PRODUCTS = frozenset(
    stem(w)
    for w in """
    amazon christmas easter thanksgiving birthday january february march april may june july august september october
    november december monday tuesday wednesday thursday friday saturday sunday mr mrs ms dr usa us god xmas
    bday b'day valentine valentine's mother's father's
    """.split()
)

# A judgement of a rating in words ("a poor rating", "rated it highly"): held against the stars the unit gives.
RATING_JUDGEMENT = re.compile(
    r"\b(?:(?P<low>low|poor|bad|negative|harsh|terrible|lukewarm)|(?P<high>high|good|great|top|positive|glowing|"
    r"perfect|excellent))\s+(?:ratings?|reviews?|scores?|marks|stars?)\b"
    r"|\brated\s+(?:it|them|this|that)?\s*(?:(?P<low2>poorly|low|badly)|(?P<high2>highly|high|well))\b",
    re.I,
)
