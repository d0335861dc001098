"""Build the product-domain labelled claim set from the Amazon 2018 data in ../shared/data/amazon.

    .venv/bin/python eval/data/products/build.py [--shared ../shared/data]

Every claim is about a real product and cites real evidence units (ids exactly as whyrec's loader makes them).
True claims restate a spec, a seller's sentence, a review sentence or the user's own history, mostly in other words;
broken claims are made from true ones by one edit of a named kind. Labels follow from how a claim was made; see
README.md here. Deterministic: the same data gives byte-identical dev.jsonl and test.jsonl.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whyrec.evaluation.datasets import demo_items
from whyrec.knowledge.catalogue import load_catalogue
from whyrec.knowledge.context import with_context
from whyrec.knowledge.split import split_catalogue
from whyrec.schema import EvidenceUnit

HERE = Path(__file__).resolve().parent
CATEGORIES = {
    "gift cards": ("meta_Gift_Cards.jsonl", "Gift_Cards_5.jsonl"),
    "magazines": ("meta_Magazine_Subscriptions.jsonl", "Magazine_Subscriptions_5.jsonl"),
}
ITEMS_PER_CATEGORY = 24
MAX_REVIEW_UNITS = 30
DEV_SHARE = 0.4
DEMO_ITEMS = demo_items(HERE.parents[2] / "data" / "demo")

# Plausible features that no product in these categories' evidence states (checked per item before use).
INVENTED = {
    "gift cards": [
        "It can be reloaded through a mobile app.",
        "It comes with a free greeting card and matching envelope made of recycled paper.",
        "It earns double reward points at every purchase.",
        "It can also be used at participating gas stations.",
        "It is accepted in stores across Europe and Asia.",
        "The balance can be split between two recipients.",
        "It includes a free engraving service.",
        "Unused balances are refunded after a year.",
    ],
    "magazines": [
        "Each issue comes with a free pull-out poster.",
        "Subscribers get access to a weekly podcast.",
        "Every issue includes a crossword puzzle contest with cash prizes.",
        "The subscription includes a free tote bag.",
        "It is printed on recycled paper with soy-based ink.",
        "Each issue contains a pull-out map of national parks.",
        "Subscribers can attend a yearly readers' conference for free.",
        "It includes a bonus cookbook every spring.",
    ],
}
SUPERLATIVES = [
    "It is the best {what} on the market.",
    "It is the cheapest {what} you can find anywhere.",
    "Everyone who gets it loves it.",
    "It never fails to impress.",
    "It is guaranteed to arrive on time, every time.",
    "It is the most popular {what} of all time.",
]
WHAT = {"gift cards": "gift card", "magazines": "magazine"}
# Sentiment swaps for polarity flips (the builder's own list, not the checker's lexicon).
SWAPS = {
    "great": "terrible",
    "love": "hate",
    "loved": "hated",
    "loves": "hates",
    "easy": "difficult",
    "perfect": "awful",
    "happy": "unhappy",
    "nice": "poor",
    "excellent": "poor",
    "good": "bad",
    "fast": "slow",
    "quick": "slow",
    "quickly": "slowly",
    "beautiful": "ugly",
    "cute": "ugly",
    "enjoy": "dislike",
    "enjoys": "dislikes",
    "enjoyed": "disliked",
    "wonderful": "awful",
    "awesome": "awful",
    "favorite": "least favorite",
    "interesting": "boring",
    "informative": "useless",
    "helpful": "useless",
    "terrible": "great",
    "disappointed": "delighted",
    "bad": "good",
    "boring": "interesting",
}
_NEGATABLE = re.compile(r"\b(is|are|was|were|can|will|has been|have been)\b")
_HAS_NEGATION = re.compile(r"\b(not|no|never|n't|without)\b|n't\b", re.I)
_HISTORY = re.compile(r'^(Reviewed|Bought) "(?P<title>[^"]+)"(?:, rated (?P<rating>\d)/5)?')
_WORD = re.compile(r"[a-z]+")
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|my|me|we|our|us)\b", re.I)


@dataclass
class Item:
    category: str
    item_id: str
    units: list[EvidenceUnit]
    specs: dict[str, EvidenceUnit] = field(default_factory=dict)

    def spec(self, name: str) -> EvidenceUnit | None:
        return self.specs.get(name)


@dataclass
class Row:
    item_id: str
    user_id: str
    claim: str
    cites: list[str]
    label: str
    kind: str
    note: str


def _hash(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def _sentence(text: str) -> str:
    text = text.strip().rstrip(".!? ")
    return text + "."


def load_units(shared: Path, category: str) -> list[EvidenceUnit]:
    meta, reviews = CATEGORIES[category]
    with tempfile.TemporaryDirectory() as tmp:
        for name in (meta, reviews):
            os.symlink((shared / "amazon" / name).resolve(), Path(tmp) / name)
        return split_catalogue(load_catalogue(Path(tmp)))


def spec_value(unit: EvidenceUnit) -> str:
    return unit.text.split(":", 1)[1].strip() if ":" in unit.text else unit.text


def history_facts(unit: EvidenceUnit) -> tuple[str, int | None] | None:
    match = _HISTORY.match(unit.text)
    if not match:
        return None
    rating = match.group("rating")
    return match.group("title"), int(rating) if rating else None


class Builder:
    def __init__(self, category: str, units: list[EvidenceUnit]):
        self.category = category
        self.by_item: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.history: dict[str, list[EvidenceUnit]] = defaultdict(list)
        self.all_units = {unit.id: unit for unit in units}
        for unit in units:
            if unit.kind == "history":
                self.history[unit.user_id or ""].append(unit)
            else:
                self.by_item[unit.item_id].append(unit)
        self.titles = {
            i: u.text for i, us in self.by_item.items() for u in us if u.kind == "spec" and u.field == "title"
        }
        self.spec_values: dict[str, set[str]] = defaultdict(set)
        for us in self.by_item.values():
            for u in us:
                if u.kind == "spec" and u.field in ("brand", "format", "publisher"):
                    self.spec_values[u.field].add(spec_value(u))

    def items(self) -> list[Item]:
        chosen = []
        for item_id in sorted(self.by_item, key=lambda i: _hash(self.category + i)):
            units = self.by_item[item_id]
            reviewers = {u.user_id for u in units if u.kind == "review"}
            if len(reviewers) < 4 or " item " in self.titles.get(item_id, " item "):
                continue
            specs = {u.field or "": u for u in units if u.kind == "spec"}
            chosen.append(Item(self.category, item_id, units, specs))
            if len(chosen) == ITEMS_PER_CATEGORY:
                break
        return chosen

    def user_for(self, item: Item) -> str | None:
        """A reviewer of the item with at least two other items in their history."""
        reviewers = sorted({u.user_id or "" for u in item.units if u.kind == "review"})
        for user in sorted(reviewers, key=lambda u: _hash(item.item_id + u)):
            others = [h for h in self.history[user] if h.item_id != item.item_id]
            if len(others) >= 2:
                return user
        return None

    def evidence(self, item: Item, user: str, cites: list[str]) -> list[EvidenceUnit]:
        facts = [u for u in item.units if u.kind in ("spec", "description")]
        reviews = sorted((u for u in item.units if u.kind == "review" and u.user_id != user), key=lambda u: u.id)
        cited = [u for u in reviews if u.id in cites]
        rest = [u for u in reviews if u.id not in cites][: max(0, MAX_REVIEW_UNITS - len(cited))]
        history = sorted((h for h in self.history[user] if h.item_id != item.item_id), key=lambda u: u.id)
        return with_context(facts + sorted(cited + rest, key=lambda u: u.id) + history, self.all_units)

    # --- claims -----------------------------------------------------------------------------------------------
    def claims(self, item: Item, user: str) -> Iterator[Row]:
        rnd = random.Random(_hash(item.item_id + user))
        for make in (
            self.price,
            self.specs_true_and_swapped,
            self.seller_sentence,
            self.reviews,
            self.reviewers,
            self.user_history,
            self.invented,
            self.superlative,
        ):
            yield from make(item, user, rnd)

    def price(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        unit = item.spec("price")
        if unit is None:
            return
        price = float(spec_value(unit).lstrip("$").replace(",", ""))
        shown = f"${price:,.2f}".replace(".00", "")
        template = rnd.choice(["It costs {p}.", "The price is {p}.", "It sells for {p}.", "It is priced at {p}."])
        yield Row(item.item_id, user, template.format(p=shown), [unit.id], "supported", "true_spec", "the price spec")
        bound = 10 * math.ceil((price + 1) / 10)
        yield Row(
            item.item_id,
            user,
            f"It costs less than ${bound}.",
            [unit.id],
            "supported",
            "true_spec",
            f"{shown} < {bound}",
        )
        wrong = rnd.choice([price * 2, price + 10, max(1.0, price / 2), price + 25])
        wrong_shown = f"${wrong:,.2f}".replace(".00", "")
        yield Row(
            item.item_id,
            user,
            template.format(p=wrong_shown),
            [unit.id],
            "contradicted",
            "wrong_number",
            f"the price spec says {shown}",
        )
        low = 10 * math.floor((price - 1) / 10)
        if low >= 10:
            yield Row(
                item.item_id,
                user,
                f"It costs under ${low}.",
                [unit.id],
                "contradicted",
                "wrong_number",
                f"{shown} is not under ${low}",
            )

    def specs_true_and_swapped(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        templates = {
            "brand": ["It is made by {v}.", "The brand is {v}.", "It comes from {v}."],
            "publisher": ["It is published by {v}.", "{v} publishes it."],
            "format": ["It comes as a {v}.", "The format is {v}."],
        }
        for name, options in templates.items():
            unit = item.spec(name)
            if unit is None:
                continue
            value = spec_value(unit)
            template = rnd.choice(options)
            shown = value.lower() if name == "format" else value
            yield Row(item.item_id, user, template.format(v=shown), [unit.id], "supported", "true_spec", f"{name} spec")
            others = sorted(
                v for v in self.spec_values[name] if _WORD.findall(v.lower()) != _WORD.findall(value.lower())
            )
            title_words = set(_WORD.findall(self.titles.get(item.item_id, "").lower()))
            others = [v for v in others if not set(_WORD.findall(v.lower())) <= title_words]
            if others:
                swapped = rnd.choice(others)
                shown = swapped.lower() if name == "format" else swapped
                yield Row(
                    item.item_id,
                    user,
                    template.format(v=shown),
                    [unit.id],
                    "contradicted",
                    "attribute_swap",
                    f"{name} is {value}, not {swapped} (taken from another product)",
                )

    def seller_sentence(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        sentences = [
            u
            for u in item.units
            if u.kind == "description" or (u.kind == "spec" and u.field and u.field.startswith("feature"))
        ]
        sentences += [u for u in item.units if u.id.split(":")[1] == "feat"]
        sentences = [u for u in sentences if 30 <= len(u.text) <= 150 and not u.text.endswith("?")]
        if not sentences:
            return
        unit = rnd.choice(sorted(sentences, key=lambda u: u.id))
        text = _lower_first(_sentence(unit.text))
        frame = rnd.choice(["According to the seller, {t}", "The seller says {t}", "The listing says {t}"])
        yield Row(item.item_id, user, frame.format(t=text), [unit.id], "supported", "true_spec", "seller's sentence")
        negated = negate(text)
        if negated:
            yield Row(
                item.item_id,
                user,
                frame.format(t=negated),
                [unit.id],
                "contradicted",
                "negation",
                "the seller's sentence with its negation flipped",
            )

    def reviews(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        pool = sorted(
            (u for u in item.units if u.kind == "review" and u.user_id != user and 25 <= len(u.text) <= 140),
            key=lambda u: u.id,
        )
        rnd.shuffle(pool)
        used = 0
        for unit in pool:
            text = _lower_first(_sentence(unit.text))
            if '"' in text or _FIRST_PERSON.search(text):
                continue  # "A reviewer says I …" reads as a claim about someone else
            frame = rnd.choice(["A reviewer says {t}", "One reviewer wrote that {t}", "A buyer noted that {t}"])
            words = _WORD.findall(text)
            swap = next((w for w in words if w in SWAPS), None)
            negated = negate(text)
            if not swap and not negated:
                continue
            yield Row(item.item_id, user, frame.format(t=text), [unit.id], "supported", "true_review", "a review")
            if swap:
                flipped = re.sub(rf"\b{swap}\b", SWAPS[swap], text, count=1)
                yield Row(
                    item.item_id,
                    user,
                    frame.format(t=flipped),
                    [unit.id],
                    "contradicted",
                    "polarity_flip",
                    f"'{swap}' turned into '{SWAPS[swap]}'",
                )
            elif negated:
                yield Row(
                    item.item_id,
                    user,
                    frame.format(t=negated),
                    [unit.id],
                    "contradicted",
                    "negation",
                    "the review sentence with its negation flipped",
                )
            used += 1
            if used == 2:
                break
        negative = [u for u in pool if (u.rating or 5) <= 2]
        if negative:
            unit = negative[0]
            yield Row(
                item.item_id,
                user,
                "Reviewers rave about it.",
                [unit.id],
                "contradicted",
                "polarity_flip",
                f"cites a {unit.rating:g}-star review",
            )

    def reviewers(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        """ "Several reviewers mention X" when at least two reviewers do, and the same claim with one reviewer."""
        mentions: dict[str, dict[str, EvidenceUnit]] = defaultdict(dict)
        for unit in sorted(item.units, key=lambda u: u.id):
            if unit.kind == "review" and unit.user_id != user:
                for word in set(_WORD.findall(unit.text.lower())):
                    if word in (
                        "gift",
                        "christmas",
                        "birthday",
                        "recipes",
                        "articles",
                        "photos",
                        "pictures",
                        "stories",
                    ):
                        mentions[word].setdefault(unit.user_id or "", unit)
        for word in sorted(mentions):
            people = mentions[word]
            cites = [u.id for u in list(people.values())[:3]]
            if len(people) >= 2:
                yield Row(
                    item.item_id,
                    user,
                    f"Several reviewers mention {word}.",
                    cites,
                    "supported",
                    "true_review",
                    f"{len(people)} reviewers say '{word}'",
                )
                return
        for word in sorted(mentions):
            if len(mentions[word]) == 1:
                unit = next(iter(mentions[word].values()))
                yield Row(
                    item.item_id,
                    user,
                    f"Many reviewers mention {word}.",
                    [unit.id],
                    "unsupported",
                    "polarity_flip",
                    f"only one reviewer says '{word}'",
                )
                return

    def user_history(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        history = sorted((h for h in self.history[user] if h.item_id != item.item_id), key=lambda u: u.id)
        facts = [(h, f) for h in history if (f := history_facts(h)) is not None and " item B0" not in f[0]]
        if not facts:
            return
        unit, (title, rating) = rnd.choice(facts)
        yield Row(
            item.item_id,
            user,
            rnd.choice(["You have reviewed {t} before.", "You reviewed {t} in the past."]).format(t=title),
            [unit.id],
            "supported",
            "true_user",
            "the user's history",
        )
        if rating is not None:
            yield Row(
                item.item_id,
                user,
                f"You gave {title} {rating} stars.",
                [unit.id],
                "supported",
                "true_user",
                "rating in the user's history",
            )
            wrong = rnd.choice([r for r in range(1, 6) if r != rating])
            yield Row(
                item.item_id,
                user,
                f"You gave {title} {wrong} star{'s' if wrong > 1 else ''}.",
                [unit.id],
                "contradicted",
                "wrong_number",
                f"the user gave it {rating}",
            )
        own = {h.item_id for h in self.history[user]}
        strangers = sorted(
            i for i in self.titles if i not in own and i != item.item_id and " item " not in self.titles[i]
        )
        other = self.titles[rnd.choice(strangers)]
        yield Row(
            item.item_id,
            user,
            f"You have reviewed {other} before.",
            [unit.id],
            "unsupported",
            "false_user",
            "not in the user's history",
        )
        reviews = sorted((u for u in item.units if u.kind == "review" and u.user_id != user), key=lambda u: u.id)
        if reviews:
            review = rnd.choice(reviews)
            yield Row(
                item.item_id,
                user,
                f"You said {_lower_first(_sentence(review.text))}",
                [review.id],
                "unsupported",
                "false_user",
                "another reviewer's words told as the user's",
            )

    def invented(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        text = " ".join(u.text.lower() for u in item.units)
        options = [c for c in INVENTED[self.category] if not _key_words(c) & set(_WORD.findall(text))]
        facts = sorted((u for u in item.units if u.kind in ("spec", "description")), key=lambda u: u.id)
        for claim in rnd.sample(options, k=min(2, len(options))):
            unit = rnd.choice(facts)
            yield Row(item.item_id, user, claim, [unit.id], "unsupported", "invented_feature", "in no evidence")

    def superlative(self, item: Item, user: str, rnd: random.Random) -> Iterator[Row]:
        positive = sorted(
            (u for u in item.units if u.kind == "review" and (u.rating or 0) >= 4 and u.user_id != user),
            key=lambda u: u.id,
        )
        if not positive:
            return
        unit = rnd.choice(positive)
        claim = rnd.choice(SUPERLATIVES).format(what=WHAT[self.category])
        yield Row(item.item_id, user, claim, [unit.id], "unsupported", "unsupported_superlative", "a happy review only")


_KEY_STOP = set("it its the a an of and can be at in on with for is to every each are".split())


def _key_words(claim: str) -> set[str]:
    """The distinctive words of an invented claim: it is only used where none of them appears in the evidence."""
    return {w for w in _WORD.findall(claim.lower()) if w not in _KEY_STOP and len(w) > 3}


def negate(text: str) -> str | None:
    """The sentence with its first negation removed, or "not" added after its first auxiliary; None if neither."""
    if _HAS_NEGATION.search(text):
        removed = re.sub(r"\b(do|does|did) not (\w+)", r"\2", text, count=1)
        removed = re.sub(r"\bnot\s+", "", removed, count=1) if removed == text else removed
        removed = (
            re.sub(r"\b(\w+)n't\b", lambda m: {"wo": "will", "ca": "can"}.get(m.group(1), m.group(1)), removed, count=1)
            if removed == text
            else removed
        )
        return removed if removed != text else None
    if _NEGATABLE.search(text):
        return _NEGATABLE.sub(
            lambda m: m.group(1).replace(" been", "") + " not" + (" been" if " been" in m.group(1) else ""),
            text,
            count=1,
        )
    return None


def build(shared: Path, out: Path) -> dict[str, list[dict[str, object]]]:
    splits: dict[str, list[dict[str, object]]] = {"dev": [], "test": []}
    rows: list[tuple[Row, list[EvidenceUnit]]] = []
    for category in CATEGORIES:
        builder = Builder(category, load_units(shared, category))
        for item in builder.items():
            user = builder.user_for(item)
            if user is None:
                continue
            for row in builder.claims(item, user):
                evidence = builder.evidence(item, user, row.cites)
                ids = {u.id for u in evidence}
                missing = [c for c in row.cites if c not in ids]
                if missing:
                    raise SystemExit(f"{row.item_id}: cited unit {missing[0]} is not in the claim's evidence")
                rows.append((row, evidence))
    for number, (row, evidence) in enumerate(rows, start=1):
        # the demo catalogue's items are dev: the rules were read against them
        split = "dev" if row.item_id in DEMO_ITEMS or (_hash(row.item_id) % 100) < DEV_SHARE * 100 else "test"
        splits[split].append(
            {
                "id": f"pc-{number:04d}",
                "split": split,
                "item_id": row.item_id,
                "user_id": row.user_id,
                "claim": row.claim,
                "cites": row.cites,
                "label": row.label,
                "kind": row.kind,
                "note": row.note,
                "evidence": [u.model_dump() for u in evidence],
            }
        )
    out.mkdir(parents=True, exist_ok=True)
    for split, records in splits.items():
        tmp = out / f"{split}.jsonl.tmp"
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in records), encoding="utf-8")
        tmp.replace(out / f"{split}.jsonl")
    return splits


def counts(
    splits: dict[str, list[dict[str, object]]], key: Callable[[dict[str, object]], str]
) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for split, records in splits.items():
        for record in records:
            table[key(record)][split] += 1
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shared", type=Path, default=Path(os.environ.get("WHYREC_SHARED_DATA", "../shared/data")))
    args = parser.parse_args()
    splits = build(args.shared, HERE)
    table = counts(splits, lambda r: f"{r['label']:<13} {r['kind']}")
    print(f"{'label / kind':<40} {'dev':>5} {'test':>5}")
    for key in sorted(table):
        print(f"{key:<40} {table[key]['dev']:>5} {table[key]['test']:>5}")
    print(f"{'total':<40} {len(splits['dev']):>5} {len(splits['test']):>5}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
