"""Split catalogue records into evidence units with stable, readable ids.

Ids depend only on record ids and text, never on load order or on a library's tokenizer, so rebuilding an index
from the same catalogue gives the same ids:

- `B00ABC:spec:price`, `B00ABC:spec:title`, `B00ABC:feat:2`   a spec field or feature bullet (the seller's words)
- `B00ABC:sig:name`                                         the name reviewers call an item the seller gave no title
- `B00ABC:desc:s1`                                          a description sentence (the seller's words)
- `B00ABC:rev:A1X:s2`                                       sentence 2 of reviewer A1X's review of B00ABC
- `user:A1X:hist:B00XYZ`                                    user A1X's past purchase or review of B00XYZ
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from whyrec.knowledge.catalogue import Catalogue
from whyrec.knowledge.naming import ItemName
from whyrec.knowledge.text import format_price, slug
from whyrec.schema import EvidenceUnit, Interaction, Product, Review

MIN_SENTENCE_CHARS = 25
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_ABBREVIATION = re.compile(r"(?:\b(?:mr|mrs|ms|dr|st|vs|etc|e\.g|i\.e|approx|no|inc|ltd|jr|sr)|\b[a-z])\.$", re.I)


def split_sentences(text: str, min_chars: int = MIN_SENTENCE_CHARS) -> list[str]:
    """Sentences of `text`; a sentence shorter than `min_chars` is merged into its neighbour."""
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        candidate = text[start : match.start()].strip()
        if candidate and match.group().strip() == "" and _ABBREVIATION.search(candidate):
            continue  # "Dr. Smith", "e.g. this": not a boundary
        if candidate:
            pieces.append(text[start : match.end()].strip())
        start = match.end()
    if tail := text[start:].strip():
        pieces.append(tail)
    merged: list[str] = []
    for piece in pieces:
        if merged and len(merged[-1]) < min_chars:
            merged[-1] = f"{merged[-1]} {piece}"
        else:
            merged.append(piece)
    if len(merged) > 1 and len(merged[-1]) < min_chars:
        last = merged.pop()
        merged[-1] = f"{merged[-1]} {last}"
    return merged


def _title_unit(product: Product, ref: str, derived: ItemName | None) -> EvidenceUnit | None:
    """What names the item: the seller's title; for an item named from its reviews, whyrec's count of the reviews
    that call it so (the name is theirs, not the seller's); None for an item with no name (its id is no evidence)."""
    if product.title_from == "id":
        return None
    if product.title_from == "seller":
        return EvidenceUnit(
            id=f"{product.item_id}:spec:title",
            item_id=product.item_id,
            kind="spec",
            field="title",
            text=product.title,
            source_ref=ref,
        )
    said = (
        f'"{product.title.lower()}"'
        if derived is None
        else " and ".join(f'"{p.name}" ({p.reviews} of its {p.of} reviews)' for p in derived.parts)
    )
    return EvidenceUnit(
        id=f"{product.item_id}:sig:name",
        item_id=product.item_id,
        kind="signal",
        field="title",
        text=f"Reviewers call this item {said}.",
        source_ref="counted from the item's reviews",
    )


def product_units(product: Product, ref: str, derived: ItemName | None = None) -> Iterator[EvidenceUnit]:
    """The seller's side: title (or the name reviewers use, see `_title_unit`), brand, category, each spec field,
    each feature bullet, description sentences."""
    item = product.item_id

    def unit(id_suffix: str, kind: str, field: str | None, text: str) -> EvidenceUnit:
        return EvidenceUnit(id=f"{item}:{id_suffix}", item_id=item, kind=kind, field=field, text=text, source_ref=ref)

    if (title := _title_unit(product, ref, derived)) is not None:
        yield title
    if product.brand:
        yield unit("spec:brand", "spec", "brand", f"Brand: {product.brand}")
    if product.category:
        yield unit("spec:category", "spec", "category", f"Category: {product.category}")
    used = {"title", "brand", "category"}
    if product.price is not None:
        used.add("price")
        yield unit("spec:price", "spec", "price", f"Price: {format_price(product.price)}")
    for name, value in product.specs.items():
        field = slug(name)
        if field in used:
            continue
        used.add(field)
        yield unit(f"spec:{field}", "spec", field, f"{name}: {value}")
    for n, bullet in enumerate(product.features, start=1):
        yield unit(f"feat:{n}", "spec", "feature", bullet)
    for n, sentence in enumerate(split_sentences(product.description or ""), start=1):
        yield unit(f"desc:s{n}", "description", None, sentence)


def review_units(review: Review, ref: str) -> Iterator[EvidenceUnit]:
    """A reviewer's words about one item, one unit per sentence."""
    for n, sentence in enumerate(split_sentences(review.text), start=1):
        yield EvidenceUnit(
            id=f"{review.item_id}:rev:{review.review_id}:s{n}",
            item_id=review.item_id,
            user_id=review.user_id,
            kind="review",
            text=sentence,
            rating=review.rating,
            source_ref=ref,
        )


def history_unit(interaction: Interaction, product: Product, review: Review | None, ref: str) -> EvidenceUnit:
    """One past interaction of a user, told in the user's own terms (what they bought, how they rated it). An item
    with no name is not named by its id: the id would end up in a reason."""
    verb = "Reviewed" if interaction.kind == "review" else "Bought"
    text = f"{verb} an item with no name" if product.title_from == "id" else f'{verb} "{product.title}"'
    if interaction.rating is not None:
        text += f", rated {interaction.rating:g}/5"
    if review is not None and review.title:
        text += f': "{review.title}"'
    return EvidenceUnit(
        id=f"user:{interaction.user_id}:hist:{interaction.item_id}",
        item_id=interaction.item_id,
        user_id=interaction.user_id,
        kind="history",
        text=text,
        rating=interaction.rating,
        source_ref=ref,
    )


def split_catalogue(catalogue: Catalogue) -> list[EvidenceUnit]:
    """Every evidence unit of the catalogue, in a deterministic order (by item, then by user)."""
    return list(iter_units(catalogue))


def iter_units(catalogue: Catalogue) -> Iterator[EvidenceUnit]:
    """`split_catalogue` one unit at a time: a build writes them as they come, never holding them all."""
    reviews_by_item: dict[str, list[Review]] = {}
    review_by_pair: dict[tuple[str, str], Review] = {}
    for review in catalogue.reviews.values():
        reviews_by_item.setdefault(review.item_id, []).append(review)
        pair = (review.user_id, review.item_id)
        previous = review_by_pair.get(pair)
        # a user who reviewed an item twice: the latest review, the one whose rating the interaction carries
        if previous is None or (review.time or 0) >= (previous.time or 0):
            review_by_pair[pair] = review
    for item_id in sorted(catalogue.products):
        ref = catalogue.refs[f"product:{item_id}"]
        yield from product_units(catalogue.products[item_id], ref, catalogue.names.get(item_id))
        for review in sorted(reviews_by_item.get(item_id, []), key=lambda r: r.review_id):
            yield from review_units(review, catalogue.refs[f"review:{item_id}:{review.review_id}"])
    for user_id, item_id in sorted(catalogue.interactions):
        interaction = catalogue.interactions[(user_id, item_id)]
        own_review = review_by_pair.get((user_id, item_id))
        ref = catalogue.refs[f"interaction:{user_id}:{item_id}"]
        yield history_unit(interaction, catalogue.products[item_id], own_review, ref)
