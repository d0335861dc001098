"""Load a catalogue directory (Amazon 2018/2023 JSON lines, CSV or whyrec JSONL) into typed records."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whyrec.errors import CatalogueError
from whyrec.knowledge.formats import BY_FILE_NAME, Format, RowError, convert_row, format_from_keys
from whyrec.knowledge.naming import ItemName, name_items
from whyrec.knowledge.reader import LoadReport, read_csv, read_jsonl, sniff_keys
from whyrec.schema import Interaction, Product, Review

JSON_SUFFIXES = (".json", ".jsonl", ".json.gz", ".jsonl.gz")


@dataclass(frozen=True)
class InputFile:
    path: Path
    format: str
    sha256: str
    name: str  # see input_name


def input_name(path: Path, root: Path) -> str:
    """How an input file is named in refs, digests and manifests: its file name when it lies in the catalogue's root,
    its absolute path when it comes from a directory added later (`whyrec index --add`)."""
    return path.name if path == root or path.parent == root else str(path.resolve())


@dataclass
class Catalogue:
    """Products, reviews and interactions, with where each came from (`file:line`), and for each item named from its
    reviews (`title_from="reviews"`) the name and how many of its reviews use it."""

    root: Path
    products: dict[str, Product] = field(default_factory=dict)
    reviews: dict[tuple[str, str], Review] = field(default_factory=dict)
    interactions: dict[tuple[str, str], Interaction] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)
    inputs: list[InputFile] = field(default_factory=list)
    report: LoadReport = field(default_factory=LoadReport)
    names: dict[str, ItemName] = field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return _combined_sha256((i.name, i.sha256) for i in self.inputs)


def _combined_sha256(files: Iterable[tuple[str, str]]) -> str:
    """One digest over every input file, in name order: equal catalogues give equal digests."""
    digest = hashlib.sha256()
    for name, sha in sorted(files):
        digest.update(f"{name}\0{sha}\n".encode())
    return digest.hexdigest()


def catalogue_sha256(root: Path, added: Sequence[Path] = ()) -> str:
    """The digest `load_catalogue(root, added=added).sha256` would give, without parsing anything."""
    return _combined_sha256((input_name(path, root), file_sha256(path)) for path, _ in _all_files(root, added))


def _all_files(root: Path, added: Sequence[Path]) -> list[tuple[Path, Format]]:
    return [found for directory in (root, *added) for found in detect_files(directory)]


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def detect_files(root: Path) -> list[tuple[Path, Format]]:
    """The catalogue files in `root` and the format of each; other files (README, scripts) are ignored."""
    if not root.exists():
        raise CatalogueError("no such file or directory", root)
    paths = [root] if root.is_file() else sorted(p for p in root.iterdir() if p.is_file())
    found: list[tuple[Path, Format]] = []
    for path in paths:
        fmt = BY_FILE_NAME.get(path.name)
        if fmt is None and path.name.endswith(JSON_SUFFIXES):
            keys = sniff_keys(path)
            fmt = format_from_keys(keys)
            if fmt is None and keys:
                raise CatalogueError(
                    "cannot tell what this file holds: expected Amazon 2018/2023 reviews or metadata, "
                    "or whyrec's products.jsonl / reviews.jsonl / interactions.jsonl",
                    path,
                )
        if fmt is not None:
            found.append((path, fmt))
    return found


def _rows(path: Path, report: LoadReport) -> Iterator[tuple[int, dict[str, Any]]]:
    return read_csv(path, report) if path.suffix == ".csv" else read_jsonl(path, report)


def load_catalogue(root: Path | str, strict: bool = False, added: Sequence[Path] = ()) -> Catalogue:
    """Read every catalogue file under `root`, then under each of `added` (directories of more products and
    reviews, `whyrec index --add`). Bad lines are skipped and counted, or raised when `strict`."""
    root = Path(root)
    files = _all_files(root, added)
    catalogue = Catalogue(root=root, report=LoadReport(strict=strict))
    report = catalogue.report
    pending_reviews: list[tuple[Review, Path, int]] = []
    interactions: list[tuple[Interaction, Path, int]] = []
    for path, fmt in files:
        name = input_name(path, root)
        catalogue.inputs.append(InputFile(path, fmt.name, file_sha256(path), name))
        for line_no, row in _rows(path, report):
            ref = f"{name}:{line_no}"
            try:
                record = convert_row(fmt, row)
            except RowError as exc:
                report.skip(CatalogueError(str(exc), path, line_no, exc.field))
                continue
            if isinstance(record, Product):
                if (first := catalogue.products.get(record.item_id)) is not None:
                    if strict and first != record:  # repeated rows are common in Amazon metadata
                        where = catalogue.refs[f"product:{record.item_id}"]
                        raise CatalogueError(
                            f"item {record.item_id!r} again, with other data than at {where}", path, line_no
                        )
                    report.note("duplicate product rows ignored")
                    continue
                catalogue.products[record.item_id] = record
                catalogue.refs[f"product:{record.item_id}"] = ref
            elif isinstance(record, Review):
                pending_reviews.append((record, path, line_no))
            else:
                interactions.append((record, path, line_no))
    if not catalogue.products and pending_reviews:
        _items_from_reviews(catalogue, pending_reviews)
    if not catalogue.products:
        raise CatalogueError("empty catalogue: no product records found", root)
    _attach_reviews(catalogue, pending_reviews)
    _name_untitled(catalogue)
    _attach_interactions(catalogue, interactions)
    reviewed = {r.item_id for r in catalogue.reviews.values()}
    if without := sum(1 for item_id in catalogue.products if item_id not in reviewed):
        report.note("products without reviews (explained from specs only)", without)
    return catalogue


def _items_from_reviews(catalogue: Catalogue, reviews: list[tuple[Review, Path, int]]) -> None:
    """A catalogue of reviews without product metadata: each reviewed item becomes a product known by its id alone
    (no title, brand or price a reason could cite as the seller's), so its reviews are its evidence."""
    for review, path, line_no in reviews:
        if review.item_id not in catalogue.products:
            catalogue.products[review.item_id] = Product(
                item_id=review.item_id, title=f"Item {review.item_id}", title_from="id"
            )
            catalogue.refs[f"product:{review.item_id}"] = f"{input_name(path, catalogue.root)}:{line_no}"
    catalogue.report.note("items known from reviews only (no product metadata)", len(catalogue.products))


def _name_untitled(catalogue: Catalogue) -> None:
    """Give each item without a title (`title_from="id"`) the name its reviewers call it by ("Sustain pedal"), so
    that no prompt, evidence unit or reason has only its id to name it by; an item whose reviews agree on no name
    keeps its stand-in."""
    texts: dict[str, list[str]] = {}
    for review in catalogue.reviews.values():
        texts.setdefault(review.item_id, []).append(f"{review.title}. {review.text}" if review.title else review.text)
    untitled = [item_id for item_id, product in catalogue.products.items() if product.title_from == "id"]
    if not untitled:
        return
    # proper names are told apart over every item's reviews: one that many items' reviews use is no item's own
    names = name_items(texts, untitled)
    for item_id in untitled:
        name = names.get(item_id)
        if name is None:
            catalogue.report.note("items with no name (known by their id alone)")
            continue
        product = catalogue.products[item_id]
        catalogue.products[item_id] = product.model_copy(update={"title": name.display, "title_from": "reviews"})
        catalogue.names[item_id] = name
        catalogue.report.note("items named from their reviews")


def _unknown_item(catalogue: Catalogue, item_id: str, path: Path, line_no: int, what: str) -> None:
    if catalogue.report.strict:
        raise CatalogueError(f"{what} for unknown item {item_id!r}", path, line_no, "item_id")
    catalogue.report.note(f"{what}s for unknown items skipped")


def _attach_reviews(catalogue: Catalogue, reviews: list[tuple[Review, Path, int]]) -> None:
    seen: dict[str, int] = {}
    for review, path, line_no in reviews:
        ref = f"{input_name(path, catalogue.root)}:{line_no}"
        if review.item_id not in catalogue.products:
            _unknown_item(catalogue, review.item_id, path, line_no, "review")
            continue
        # Amazon reviews have no id of their own: the reviewer id is unique per item, except for rare repeats,
        # which get -2, -3 … in file order so ids stay the same on every rebuild.
        key = f"{review.item_id}\0{review.review_id}"
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            review = review.model_copy(update={"review_id": f"{review.review_id}-{seen[key]}"})
            catalogue.report.note("repeat reviews of an item by one user kept with a suffix")
        if (review.item_id, review.review_id) in catalogue.reviews:
            catalogue.report.note("duplicate review ids ignored")
            continue
        catalogue.reviews[(review.item_id, review.review_id)] = review
        catalogue.refs[f"review:{review.item_id}:{review.review_id}"] = ref
        pair = (review.user_id, review.item_id)
        previous = catalogue.interactions.get(pair)
        if previous is None or (review.time or 0) >= (previous.time or 0):
            catalogue.interactions[pair] = Interaction(
                user_id=review.user_id, item_id=review.item_id, rating=review.rating, time=review.time, kind="review"
            )
            catalogue.refs[f"interaction:{review.user_id}:{review.item_id}"] = ref


def _attach_interactions(catalogue: Catalogue, interactions: list[tuple[Interaction, Path, int]]) -> None:
    for interaction, path, line_no in interactions:
        ref = f"{input_name(path, catalogue.root)}:{line_no}"
        if interaction.item_id not in catalogue.products:
            _unknown_item(catalogue, interaction.item_id, path, line_no, "interaction")
            continue
        pair = (interaction.user_id, interaction.item_id)
        if pair not in catalogue.interactions:  # a review says more than a bare purchase
            catalogue.interactions[pair] = interaction
            catalogue.refs[f"interaction:{interaction.user_id}:{interaction.item_id}"] = ref
