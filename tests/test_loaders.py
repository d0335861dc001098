"""Catalogue loaders: every supported format, real files, and the bad-input list of issue 1/7."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DEMO, examples, shared_file, write_jsonl
from whyrec.errors import CatalogueError
from whyrec.knowledge import load_catalogue

REVIEW_2018 = {
    "reviewerID": "U1",
    "asin": "P1",
    "overall": 5.0,
    "reviewText": "Lovely card for my sister.",
    "summary": "Five Stars",
    "unixReviewTime": 1500000000,
}
META_2018 = {
    "asin": "P1",
    "title": "Coffee Gift Card",
    "brand": "Bean Co",
    "price": "$25.00",
    "feature": ["Never expires"],
    "description": ["<b>Good</b> for coffee."],
    "category": ["Gift Cards"],
}


def test_demo_catalogue_loads_every_product_and_review() -> None:
    catalogue = load_catalogue(DEMO)
    assert len(catalogue.products) == 50
    assert len(catalogue.reviews) == 1935
    assert catalogue.report.skipped == 0
    starbucks = catalogue.products["B00AR51Y5I"]
    assert starbucks.title == "Starbucks Gift Card"
    assert starbucks.price == 25.0 and starbucks.brand == "Starbucks"


def test_real_amazon_2018_magazines_get_a_name_from_their_reviews_instead_of_html_scraps() -> None:
    shared_file("amazon/meta_Magazine_Subscriptions.jsonl")
    catalogue = load_catalogue(shared_file("amazon"))
    magazine = catalogue.products["B00005N7P0"]
    assert "<" not in magazine.title and "B00005N7P0" not in magazine.title
    # the proper name its reviewers write, then what they call it ("… magazine")
    assert magazine.title.lower().endswith("magazine") and magazine.title_from == "reviews"
    assert "Magazine Subscriptions" in (magazine.category or "")
    # 6 reviewed magazines have no metadata: their reviews are skipped and counted, not fatal
    assert catalogue.report.notes["reviews for unknown items skipped"] > 0
    assert catalogue.report.notes["duplicate product rows ignored"] > 0


def test_amazon_2023_rows_map_to_the_same_records(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path / "meta_Gift_Cards.jsonl",
        [
            {
                "main_category": "Gift Cards",
                "title": "Pizza eGift",
                "average_rating": 4.5,
                "rating_number": 10,
                "features": ["Redeem online"],
                "description": ["Tasty."],
                "price": 20.0,
                "images": [],
                "videos": [],
                "store": "PizzaCo",
                "categories": ["Gift Cards", "Restaurants"],
                "details": {"Weight": "1 oz"},
                "parent_asin": "B0P",
                "bought_together": None,
            }
        ],
    )
    with gzip.open(tmp_path / "Gift_Cards.jsonl.gz", "wt", encoding="utf-8") as handle:
        handle.write(
            json.dumps(
                {
                    "rating": 4.0,
                    "title": "Nice",
                    "text": "Great pizza gift.<br />Fast too.",
                    "images": [],
                    "asin": "B0X",
                    "parent_asin": "B0P",
                    "user_id": "AG1",
                    "timestamp": 1588687728923,
                    "helpful_vote": 0,
                    "verified_purchase": True,
                }
            )
            + "\n"
        )
    catalogue = load_catalogue(tmp_path)
    product = catalogue.products["B0P"]
    assert (product.brand, product.price, product.specs["Weight"]) == ("PizzaCo", 20.0, "1 oz")
    assert product.category == "Gift Cards > Restaurants"
    review = catalogue.reviews[("B0P", "AG1")]
    assert review.text == "Great pizza gift. Fast too." and review.time == 1588687728


def test_csv_catalogue_reads_spec_columns_and_feature_bullets(tmp_path: Path) -> None:
    (tmp_path / "products.csv").write_text(
        "item_id,title,brand,price,features,spec.Colour\nX1,Tea Card,Leafy,$15.00,Loose leaf|Any store,Green\n"
    )
    (tmp_path / "reviews.csv").write_text("review_id,item_id,user_id,rating,text\nr1,X1,u1,5,Nice tea.\n")
    catalogue = load_catalogue(tmp_path)
    assert catalogue.products["X1"].specs == {"Colour": "Green"}
    assert catalogue.products["X1"].features == ["Loose leaf", "Any store"]
    assert catalogue.reviews[("X1", "r1")].rating == 5.0


def test_whyrec_jsonl_catalogue_with_purchases_builds_user_history(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "products.jsonl", [{"item_id": "A", "title": "Alpha"}, {"item_id": "B", "title": "Beta"}])
    write_jsonl(tmp_path / "reviews.jsonl", [{"review_id": "r1", "item_id": "A", "user_id": "u", "text": "Fine."}])
    write_jsonl(tmp_path / "interactions.jsonl", [{"user_id": "u", "item_id": "B", "kind": "purchase"}])
    catalogue = load_catalogue(tmp_path)
    assert set(catalogue.interactions) == {("u", "A"), ("u", "B")}
    assert catalogue.interactions[("u", "A")].kind == "review"


def test_missing_catalogue_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no-such-dir: no such file or directory"):
        load_catalogue(tmp_path / "no-such-dir")


def test_malformed_line_is_skipped_and_counted_by_default_and_fatal_when_strict(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "meta.jsonl", [META_2018])
    path = tmp_path / "reviews.json"
    path.write_text(json.dumps(REVIEW_2018) + "\n{not json\n")
    catalogue = load_catalogue(tmp_path)
    assert catalogue.report.skipped == 1 and len(catalogue.reviews) == 1
    assert f"{path}:2: malformed JSON" in catalogue.report.problems[0]
    with pytest.raises(CatalogueError, match=r"reviews\.json:2: malformed JSON"):
        load_catalogue(tmp_path, strict=True)


def test_wrong_field_type_names_file_line_and_the_field_as_spelled_in_the_file(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "meta.jsonl", [META_2018])
    write_jsonl(tmp_path / "r.jsonl", [REVIEW_2018, {**REVIEW_2018, "reviewerID": "U2", "overall": "five"}])
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(tmp_path, strict=True)
    assert raised.value.line == 2 and raised.value.field == "overall"
    assert str(raised.value).startswith(f"{tmp_path / 'r.jsonl'}:2: field 'overall': ")


def test_non_utf8_bytes_are_reported_with_their_line(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "meta.jsonl", [META_2018])
    (tmp_path / "r.jsonl").write_bytes(json.dumps(REVIEW_2018).encode() + b'\n{"reviewerID": "\xff\xfe"}\n')
    assert load_catalogue(tmp_path).report.skipped == 1
    with pytest.raises(CatalogueError, match=r"r\.jsonl:2: not valid UTF-8"):
        load_catalogue(tmp_path, strict=True)


def test_review_for_unknown_product_is_skipped_or_fatal_when_strict(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "meta.jsonl", [META_2018])
    write_jsonl(tmp_path / "r.jsonl", [REVIEW_2018, {**REVIEW_2018, "asin": "NOPE"}])
    assert load_catalogue(tmp_path).report.notes == {"reviews for unknown items skipped": 1}
    with pytest.raises(CatalogueError, match=r"r\.jsonl:2: field 'item_id': review for unknown item 'NOPE'"):
        load_catalogue(tmp_path, strict=True)


def test_product_without_reviews_is_kept_and_noted(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "meta.jsonl", [META_2018, {**META_2018, "asin": "P2"}])
    write_jsonl(tmp_path / "r.jsonl", [REVIEW_2018])
    catalogue = load_catalogue(tmp_path)
    assert "P2" in catalogue.products
    assert catalogue.report.notes["products without reviews (explained from specs only)"] == 1


def test_reviews_without_product_metadata_are_a_catalogue_of_items_known_by_id(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "r.jsonl", [REVIEW_2018, {**REVIEW_2018, "reviewerID": "U2", "asin": "P2"}])
    catalogue = load_catalogue(tmp_path)
    assert sorted(catalogue.products) == ["P1", "P2"]
    assert catalogue.products["P1"].title == "Item P1" and catalogue.products["P1"].price is None
    assert len(catalogue.reviews) == 2 and ("U2", "P2") in catalogue.interactions
    assert catalogue.report.notes["items known from reviews only (no product metadata)"] == 2


def test_empty_catalogue_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "products.jsonl").write_text("")
    with pytest.raises(CatalogueError, match="empty catalogue"):
        load_catalogue(tmp_path)


def test_unrecognised_json_file_is_named(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "mystery.jsonl", [{"foo": 1}])
    with pytest.raises(CatalogueError, match=r"mystery\.jsonl: cannot tell what this file holds"):
        load_catalogue(tmp_path)


_FIELD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.lists(st.text(max_size=5), max_size=3),
)
_ROWS = st.one_of(
    st.binary(max_size=80),  # bytes that need not be UTF-8, JSON or one line
    st.dictionaries(
        st.sampled_from(["item_id", "title", "price", "brand", "specs", "features", "x"]), _FIELD_VALUES, max_size=5
    ).map(lambda row: json.dumps(row).encode()),
)


@pytest.mark.fuzz
@given(st.lists(_ROWS, max_size=8))
@settings(max_examples=examples(150), deadline=None)
def test_any_lines_load_or_are_skipped_with_a_reason_never_a_crash(rows: list[bytes]) -> None:
    import tempfile

    good = json.dumps({"item_id": "GOOD", "title": "A good product"}).encode()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "products.jsonl"
        path.write_bytes(b"\n".join([good, *(r.replace(b"\n", b" ") for r in rows)]) + b"\n")
        catalogue = load_catalogue(tmp)
        assert "GOOD" in catalogue.products
        lines = [r.replace(b"\n", b" ") for r in rows]
        written = 1 + sum(1 for line in lines if line.strip())  # blank lines are no records
        duplicates = catalogue.report.notes.get("duplicate product rows ignored", 0)
        assert len(catalogue.products) + catalogue.report.skipped + duplicates == written  # every line accounted for
        for problem in catalogue.report.problems:
            assert "products.jsonl:" in str(problem)
        if catalogue.report.skipped:
            with pytest.raises(CatalogueError, match=r"products\.jsonl:\d+: "):
                load_catalogue(tmp, strict=True)
