"""The catalogue formats whyrec reads, each a row model (field names as in the file) and a conversion to records.

Validating the row in the file's own field names is what lets an error say `field 'overall'` rather than the name
the field has inside whyrec.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from whyrec.knowledge.text import clean_text, parse_price
from whyrec.schema import Interaction, Product, Review

RecordKind = Literal["product", "review", "interaction"]
Converted = Product | Review | Interaction

_STAR_SUMMARY = re.compile(r"^(one|two|three|four|five) stars?$", re.IGNORECASE)


class RowError(ValueError):
    """A row that does not fit its format; `field` names the field as it is spelled in the file."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class _Row(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- Amazon Review Data 2018 (Ni, Li & McAuley) ---------------------------------------------------------------
class Amazon2018Review(_Row):
    reviewerID: str
    asin: str
    overall: float | None = None
    reviewText: str = ""
    summary: str | None = None
    unixReviewTime: int | None = None


class Amazon2018Meta(_Row):
    asin: str
    title: str = ""
    brand: str = ""
    price: str = ""
    feature: list[str] = []
    description: list[str] | str = []
    category: list[str] = []
    details: dict[str, Any] = {}


# --- Amazon Reviews 2023 (Hou et al.) ----------------------------------------------------------------------------
class Amazon2023Review(_Row):
    user_id: str
    parent_asin: str | None = None
    asin: str | None = None
    rating: float | None = None
    title: str = ""
    text: str = ""
    timestamp: int | None = None


class Amazon2023Meta(_Row):
    parent_asin: str
    title: str = ""
    store: str | None = None
    main_category: str | None = None
    categories: list[str] = []
    price: float | str | None = None
    features: list[str] = []
    description: list[str] = []
    details: dict[str, Any] = {}


def _spec_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(clean_text(str(v)) for v in value)
    return clean_text(str(value))


def _specs_from_details(details: dict[str, Any], skip: set[str]) -> dict[str, str]:
    specs: dict[str, str] = {}
    for raw_key, raw_value in details.items():
        key = clean_text(raw_key).rstrip(":").strip()
        value = _spec_value(raw_value)
        if key and value and key.lower() not in skip:
            specs.setdefault(key, value)
    return specs


def _product(
    item_id: str,
    title: str,
    brand: str | None,
    categories: list[str],
    price_raw: str | float | None,
    features: list[str],
    description: list[str] | str,
    specs: dict[str, str],
) -> Product:
    item_id = item_id.strip()
    brand = clean_text(brand or "") or None
    # Some metadata rows hold a scrap of HTML where the title should be; a plain stand-in beats markup, and the
    # catalogue names the item from its reviews once they are read (`title_from="id"` marks it for that).
    title = clean_text(title)
    title_from: Literal["seller", "id"] = "seller" if title else "id"
    title = title or (f"{brand} item {item_id}" if brand else f"Item {item_id}")
    category = " > ".join(dict.fromkeys(c for c in (clean_text(c) for c in categories) if c)) or None
    price = parse_price(price_raw)
    price_text = clean_text(price_raw) if isinstance(price_raw, str) else ""
    if price is None and price_text and len(price_text) < 40 and "$" in price_text:  # a range such as "$10.00 - $25.00"
        specs = {"Price": price_text, **specs}
    paragraphs = [description] if isinstance(description, str) else description
    return Product(
        item_id=item_id,
        title=title,
        brand=brand,
        category=category,
        price=price,
        specs=specs,
        features=list(dict.fromkeys(f for f in (clean_text(x) for x in features) if f)),
        description=" ".join(p for p in (clean_text(x) for x in paragraphs) if p) or None,
        title_from=title_from,
    )


def _review_title(summary: str | None) -> str | None:
    text = clean_text(summary or "")
    return None if not text or _STAR_SUMMARY.match(text) else text


def from_amazon2018_meta(row: Amazon2018Meta) -> Product:
    return _product(
        row.asin,
        row.title,
        row.brand,
        row.category,
        row.price,
        row.feature,
        row.description,
        _specs_from_details(row.details, skip={"asin"}),
    )


def from_amazon2018_review(row: Amazon2018Review) -> Review:
    return Review(
        review_id=row.reviewerID,
        item_id=row.asin.strip(),
        user_id=row.reviewerID.strip(),
        rating=row.overall,
        title=_review_title(row.summary),
        text=clean_text(row.reviewText),
        time=row.unixReviewTime,
    )


def from_amazon2023_meta(row: Amazon2023Meta) -> Product:
    details = dict(row.details)
    brand = row.store or (str(details.get("Brand")) if details.get("Brand") else None)
    return _product(
        row.parent_asin,
        row.title,
        brand,
        [row.main_category or "", *row.categories],
        row.price,
        row.features,
        row.description,
        _specs_from_details(details, skip={"brand"}),
    )


def from_amazon2023_review(row: Amazon2023Review) -> Review:
    item_id = row.parent_asin or row.asin
    if not item_id:
        raise RowError("needs parent_asin or asin", field="parent_asin")
    return Review(
        review_id=row.user_id,
        item_id=item_id.strip(),
        user_id=row.user_id.strip(),
        rating=row.rating,
        title=_review_title(row.title),
        text=clean_text(row.text),
        # 2023 timestamps are milliseconds
        time=row.timestamp // 1000 if row.timestamp and row.timestamp > 10**11 else row.timestamp,
    )


def from_csv_product(row: dict[str, Any]) -> Product:
    """`item_id,title,brand,category,price,description,features` plus `spec.<name>` columns; features split on `|`."""
    specs = {k.removeprefix("spec.").strip(): v for k, v in row.items() if k.startswith("spec.") and v}
    known = {"item_id", "title", "brand", "category", "price", "description", "features"}
    unknown = sorted(k for k in row if k not in known and not k.startswith("spec."))
    if unknown:
        raise RowError(f"unknown column (spec columns are named spec.<name>): {unknown[0]}", field=unknown[0])
    features = [f.strip() for f in (row.get("features") or "").split("|") if f.strip()]
    price = row.get("price")
    if price is not None and parse_price(price) is None:
        raise RowError(f"not a price: {price!r}", field="price")
    return Product.model_validate(
        {**{k: row.get(k) for k in known if k != "features"}, "price": parse_price(price), "specs": specs}
        | {"features": features}
    )


@dataclass(frozen=True)
class Format:
    """A file format: how to recognise it, what it holds, and how to turn a row into a record."""

    name: str
    kind: RecordKind
    convert: Callable[[dict[str, Any]], Converted]


def _via(model: type[_Row], convert: Callable[[Any], Converted]) -> Callable[[dict[str, Any]], Converted]:
    def run(row: dict[str, Any]) -> Converted:
        return convert(model.model_validate(row))

    return run


def _native(record: type[Product] | type[Review] | type[Interaction]) -> Callable[[dict[str, Any]], Converted]:
    def run(row: dict[str, Any]) -> Converted:
        return record.model_validate(row)

    return run


AMAZON_2018_META = Format("amazon-2018-meta", "product", _via(Amazon2018Meta, from_amazon2018_meta))
AMAZON_2018_REVIEWS = Format("amazon-2018-reviews", "review", _via(Amazon2018Review, from_amazon2018_review))
AMAZON_2023_META = Format("amazon-2023-meta", "product", _via(Amazon2023Meta, from_amazon2023_meta))
AMAZON_2023_REVIEWS = Format("amazon-2023-reviews", "review", _via(Amazon2023Review, from_amazon2023_review))
WHYREC_PRODUCTS = Format("whyrec-products", "product", _native(Product))
WHYREC_REVIEWS = Format("whyrec-reviews", "review", _native(Review))
WHYREC_INTERACTIONS = Format("whyrec-interactions", "interaction", _native(Interaction))
CSV_PRODUCTS = Format("csv-products", "product", from_csv_product)
CSV_REVIEWS = Format("csv-reviews", "review", _native(Review))
CSV_INTERACTIONS = Format("csv-interactions", "interaction", _native(Interaction))

BY_FILE_NAME = {
    "products.jsonl": WHYREC_PRODUCTS,
    "reviews.jsonl": WHYREC_REVIEWS,
    "interactions.jsonl": WHYREC_INTERACTIONS,
    "products.csv": CSV_PRODUCTS,
    "reviews.csv": CSV_REVIEWS,
    "interactions.csv": CSV_INTERACTIONS,
}


def format_from_keys(keys: set[str]) -> Format | None:
    """Tell an Amazon file apart by the keys of its first row."""
    if "reviewerID" in keys:
        return AMAZON_2018_REVIEWS
    if "user_id" in keys and "rating" in keys and ({"parent_asin", "asin"} & keys):
        return AMAZON_2023_REVIEWS
    if "parent_asin" in keys:
        return AMAZON_2023_META
    if "asin" in keys:
        return AMAZON_2018_META
    return None


def convert_row(fmt: Format, row: dict[str, Any]) -> Converted:
    """Convert one row, raising RowError that names the offending field as the file spells it."""
    try:
        return fmt.convert(row)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        raise RowError(error["msg"], field=field) from None
