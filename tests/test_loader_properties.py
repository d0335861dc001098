"""Property tests for the catalogue loaders past products.jsonl: review files, interaction files and CSV catalogues.

The invariant is the one tests/test_loaders.py checks for products.jsonl: whatever a line holds, loading raises
nothing but CatalogueError, and every line is accounted for: a record, a skip counted in the report whose problem
names `file:line`, or a noted case (a review of an unknown item, a duplicate). With strict=True the first bad line is
a CatalogueError naming its file and line.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from conftest import examples, write_jsonl
from whyrec.errors import CatalogueError
from whyrec.knowledge import Catalogue, load_catalogue
from whyrec.schema import Interaction

PRODUCTS = ("P1", "P2")
UNKNOWN_REVIEWS = "reviews for unknown items skipped"
UNKNOWN_INTERACTIONS = "interactions for unknown items skipped"
DUPLICATE_REVIEWS = "duplicate review ids ignored"
DUPLICATE_PRODUCTS = "duplicate product rows ignored"

# --- what a line may hold ------------------------------------------------------------------------------------------
_ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=20),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
_ITEMS = st.sampled_from([*PRODUCTS, "NOPE", " P1"])  # known, unknown, known after stripping
_USERS = st.sampled_from(["u1", "u2", "u1:P1"])
_REVIEW_IDS = st.sampled_from(["u1", "u1-2"])  # u1-2 is also the id a repeat of u1 gets: a duplicate review id
_RATINGS = st.one_of(st.sampled_from([1, 5, 4.5, 0, None]), st.floats(0, 5))
_TEXTS = st.one_of(st.text(max_size=20), st.sampled_from(["Five Stars", "<b>Good</b> value", ""]))
_TIMES = st.one_of(st.none(), st.integers(0, 10**13))
_MISTYPED = st.one_of(st.sampled_from(["five", ["a", "list"], {"a": 1}, -1, 6, "", " ", None, True, 1.5]), _ANY_VALUE)

_GARBAGE = st.binary(max_size=60)  # need not be UTF-8, JSON or one line
_NOT_OBJECTS = st.one_of(st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=3), st.none())
# Python refuses to parse an integer of more than 4300 digits (sys.get_int_max_str_digits) with a bare ValueError.
_HUGE_NUMBER = st.integers(4301, 4400).map(lambda digits: b'{"time": ' + b"9" * digits + b"}")


def _lines(
    required: dict[str, st.SearchStrategy[Any]], optional: dict[str, st.SearchStrategy[Any]]
) -> st.SearchStrategy[bytes]:
    """One line of a JSON Lines file: a well-formed record (of a known item or not), the same with one field
    mistyped or with non-UTF-8 bytes in a string, any values under the record's keys and an unknown one, JSON that
    is not an object, a huge number, or plain bytes."""
    records = st.fixed_dictionaries(required, optional=optional)
    fields = st.sampled_from([*required, *optional, "x"])
    anything = st.fixed_dictionaries({}, optional={**dict.fromkeys([*required, *optional, "x"], _ANY_VALUE)})
    return st.one_of(
        records.map(lambda row: json.dumps(row).encode()),
        st.tuples(records, fields, _MISTYPED).map(lambda t: json.dumps({**t[0], t[1]: t[2]}).encode()),
        st.tuples(records, fields).map(
            lambda t: json.dumps({**t[0], t[1]: "caf"}).encode().replace(b'"caf"', b'"caf\xe9"')
        ),
        anything.map(lambda row: json.dumps(row).encode()),
        _NOT_OBJECTS.map(lambda value: json.dumps(value).encode()),
        _HUGE_NUMBER,
        _GARBAGE,
    )


def _join(lines: list[bytes]) -> bytes:
    """The file's bytes: each line ended by a newline."""
    return b"".join(line + b"\n" for line in lines)


@contextmanager
def _directory() -> Iterator[Path]:
    """A fresh catalogue directory per example (pytest's tmp_path is shared by every example of a test)."""
    with tempfile.TemporaryDirectory() as tmp:
        yield Path(tmp)


def _problem_lines(catalogue: Catalogue, path: Path) -> list[int]:
    """The line numbers the report's problems name; each problem must start with `path:line: `."""
    lines = []
    for problem in catalogue.report.problems:
        assert problem.startswith(f"{path}:"), problem
        line, sep, _ = problem.removeprefix(f"{path}:").partition(": ")
        assert sep and line.isdigit(), problem
        lines.append(int(line))
    assert len(set(lines)) == len(lines), catalogue.report.problems  # one problem per line
    return lines


def _ref_lines(catalogue: Catalogue, kind: str, path: Path) -> list[int]:
    """The line numbers that records of `kind` (product, review, interaction) came from in `path`."""
    refs = [ref for key, ref in catalogue.refs.items() if key.startswith(f"{kind}:")]
    return [int(ref.rpartition(":")[2]) for ref in refs if ref.rpartition(":")[0] == path.name]


def _load_strict_error(root: Path) -> CatalogueError:
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(root, strict=True)
    return raised.value


# --- (1) review files ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReviewFormat:
    """A reviews file format, with a products file that holds P1 and P2 and a first review line that is good."""

    name: str
    products_file: str
    products: list[dict[str, object]]
    reviews_file: str
    good_review: dict[str, object]
    required: dict[str, st.SearchStrategy[Any]]
    optional: dict[str, st.SearchStrategy[Any]]


REVIEW_FORMATS = [
    ReviewFormat(
        "whyrec",
        "products.jsonl",
        [{"item_id": item, "title": f"Card {item}"} for item in PRODUCTS],
        "reviews.jsonl",
        {"review_id": "r0", "item_id": "P1", "user_id": "u0", "rating": 5, "text": "Fine."},
        {"review_id": _REVIEW_IDS, "item_id": _ITEMS, "user_id": _USERS},
        {
            "rating": _RATINGS,
            "title": _TEXTS,
            "text": _TEXTS,
            "time": _TIMES,
        },
    ),
    ReviewFormat(
        "amazon-2018",
        "meta_Gift_Cards.jsonl",
        [{"asin": item, "title": f"Card {item}"} for item in PRODUCTS],
        "Gift_Cards_5.json",
        {"reviewerID": "U0", "asin": "P1", "overall": 5.0, "reviewText": "Lovely."},
        {"reviewerID": st.one_of(_REVIEW_IDS, _USERS), "asin": _ITEMS},
        {
            "overall": _RATINGS,
            "reviewText": _TEXTS,
            "summary": _TEXTS,
            "unixReviewTime": _TIMES,
        },
    ),
    ReviewFormat(
        "amazon-2023",
        "meta_Gift_Cards.jsonl",
        [{"parent_asin": item, "title": f"Card {item}"} for item in PRODUCTS],
        "Gift_Cards.jsonl.gz",
        {"user_id": "U0", "parent_asin": "P1", "rating": 5.0, "text": "Lovely."},
        {"user_id": st.one_of(_REVIEW_IDS, _USERS), "parent_asin": _ITEMS, "rating": _RATINGS},
        {
            "asin": _ITEMS,
            "title": _TEXTS,
            "text": _TEXTS,
            "timestamp": _TIMES,
        },
    ),
]


@pytest.mark.parametrize("fmt", REVIEW_FORMATS, ids=lambda fmt: fmt.name)
@pytest.mark.fuzz
@given(data=st.data())
@settings(max_examples=examples(100), deadline=None)
def test_any_review_lines_become_reviews_counted_skips_or_notes_never_a_crash(
    fmt: ReviewFormat, data: st.DataObject
) -> None:
    """Next to a good products file, every non-blank line of a reviews file (whyrec, Amazon 2018, Amazon 2023 .gz)
    is a review of a known item, a skip naming its line, or a noted unknown-item or duplicate review; strict mode
    raises the first of them."""
    rows = data.draw(st.lists(_lines(fmt.required, fmt.optional), max_size=8), label="rows")
    lines = [json.dumps(fmt.good_review).encode(), *(row.replace(b"\n", b" ") for row in rows)]
    with _directory() as root:
        write_jsonl(root / fmt.products_file, fmt.products)
        path = root / fmt.reviews_file
        path.write_bytes(gzip.compress(_join(lines)) if path.name.endswith(".gz") else _join(lines))
        catalogue = load_catalogue(root)
        report = catalogue.report
        written = {n for n, line in enumerate(lines, start=1) if line.strip()}  # blank lines are no records
        assert report.lines_read == len(fmt.products) + len(written)
        assert set(catalogue.products) == set(PRODUCTS)

        problems, reviewed = _problem_lines(catalogue, path), _ref_lines(catalogue, "review", path)
        assert len(reviewed) == len(catalogue.reviews) and 1 in reviewed  # the good first line
        assert not set(problems) & set(reviewed) and set(problems) | set(reviewed) <= written
        unknown, duplicates = report.notes.get(UNKNOWN_REVIEWS, 0), report.notes.get(DUPLICATE_REVIEWS, 0)
        assert len(catalogue.reviews) + report.skipped + unknown + duplicates == len(written)  # every line accounted
        for review in catalogue.reviews.values():
            assert review.item_id in PRODUCTS and (review.user_id, review.item_id) in catalogue.interactions
        without = sum(1 for item in PRODUCTS if all(r.item_id != item for r in catalogue.reviews.values()))
        assert report.notes.get("products without reviews (explained from specs only)", 0) == without

        if report.skipped or unknown:
            error = _load_strict_error(root)
            assert error.path == path and error.line in written
            if report.skipped:  # lines are read before reviews are matched to products
                assert str(error) == report.problems[0]
            else:
                assert error.field == "item_id" and "review for unknown item" in str(error)
        else:
            assert load_catalogue(root, strict=True).reviews == catalogue.reviews


# --- (2) interaction files -----------------------------------------------------------------------------------------
_INTERACTION_LINES = _lines(
    {"user_id": _USERS, "item_id": _ITEMS},
    {"rating": _RATINGS, "time": _TIMES, "kind": st.sampled_from(["purchase", "review", "bought"])},
)


def _as_record(line: bytes, model: type[BaseModel]) -> BaseModel | None:
    """The record a whyrec JSON line holds, or None: the schema itself is the oracle for the native formats."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (ValueError, RecursionError):  # not UTF-8, not JSON, a number too long to parse
        return None
    if not isinstance(value, dict):
        return None
    try:
        return model.model_validate(value)
    except ValidationError:
        return None


@pytest.mark.fuzz
@given(rows=st.lists(_INTERACTION_LINES, max_size=10))
@settings(max_examples=examples(200), deadline=None)
def test_any_interaction_lines_become_history_counted_skips_or_notes_never_a_crash(rows: list[bytes]) -> None:
    """Every non-blank line of interactions.jsonl is skipped at its own line if it is no Interaction record, noted if
    its item is unknown, and otherwise in the user's history: the first line of a user-item pair wins unless a review
    of that pair exists. Strict mode raises the first bad line, or else the first unknown item."""
    lines = [row.replace(b"\n", b" ") for row in rows]
    with _directory() as root:
        write_jsonl(root / "products.jsonl", [{"item_id": item, "title": f"Card {item}"} for item in PRODUCTS])
        review = {"review_id": "r1", "item_id": "P1", "user_id": "u1", "rating": 4, "time": 100}
        write_jsonl(root / "reviews.jsonl", [review])
        path = root / "interactions.jsonl"
        path.write_bytes(_join(lines))
        catalogue = load_catalogue(root)
        report = catalogue.report

        expected = {n: _as_record(line, Interaction) for n, line in enumerate(lines, start=1) if line.strip()}
        bad = sorted(n for n, record in expected.items() if record is None)
        valid = [(n, record) for n, record in expected.items() if isinstance(record, Interaction)]
        unknown = [n for n, record in valid if record.item_id not in PRODUCTS]
        assert report.lines_read == len(PRODUCTS) + 1 + len(expected)
        assert _problem_lines(catalogue, path) == bad and report.skipped == len(bad)
        assert report.notes.get(UNKNOWN_INTERACTIONS, 0) == len(unknown)

        reviewed = Interaction(user_id="u1", item_id="P1", rating=4, time=100, kind="review")
        history: dict[tuple[str, str], tuple[str, Interaction]] = {("u1", "P1"): ("reviews.jsonl:1", reviewed)}
        for n, record in valid:
            if record.item_id in PRODUCTS:
                history.setdefault((record.user_id, record.item_id), (f"{path.name}:{n}", record))
        assert catalogue.interactions == {pair: record for pair, (_, record) in history.items()}
        for (user, item), (ref, _) in history.items():
            assert catalogue.refs[f"interaction:{user}:{item}"] == ref

        if bad or unknown:
            error = _load_strict_error(root)
            assert error.path == path
            if bad:  # every file is read before interactions are matched to products
                assert error.line == bad[0] and str(error) == report.problems[0]
            else:
                assert (error.line, error.field) == (unknown[0], "item_id")
        else:
            assert load_catalogue(root, strict=True).interactions == catalogue.interactions


# --- (3) CSV catalogues --------------------------------------------------------------------------------------------
_CSV_COLUMNS = ["brand", "category", "price", "description", "features", "spec.Colour", "spec. Size ", "spec."]
LATIN_1 = "caf\udce9"  # written with surrogateescape: the byte 0xE9, Latin-1 where UTF-8 belongs
_CELLS = st.one_of(
    st.text(max_size=15),  # quotes, commas, newlines, carriage returns, NUL
    st.sampled_from(["GOOD", "X1", "$15.00", "25", "-3", "ten", "$10 - $20", "a|b||", '"', '""', "\n", "\r\n", " "]),
    st.just(LATIN_1),
)


@st.composite
def _csv_tables(draw: st.DrawFn) -> tuple[list[str], list[list[str]]]:
    """A header (item_id, title and some optional columns) and rows of any cells, some short, some too long."""
    header = ["item_id", "title", *draw(st.lists(st.sampled_from(_CSV_COLUMNS), unique=True, max_size=4))]
    rows = draw(st.lists(st.lists(_CELLS, max_size=len(header) + 1), max_size=8))
    return header, rows


def _undecodable(cell: str) -> bool:
    """Whether a cell read with surrogateescape held a byte that is not UTF-8."""
    return any("\udc80" <= char <= "\udcff" for char in cell)


def _csv_records(text: str) -> dict[int, list[str]]:
    """The CSV records after the header, by the line each ends on (as csv.DictReader numbers them)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    next(reader)
    records = {}
    for row in reader:
        if row:
            records[reader.line_num] = row
    return records


@pytest.mark.fuzz
@given(table=_csv_tables())
@settings(max_examples=examples(200), deadline=None)
def test_any_csv_product_rows_become_products_or_counted_skips_never_a_crash(
    table: tuple[list[str], list[list[str]]],
) -> None:
    """products.csv written by the csv module with arbitrary cells (quotes, embedded newlines, a byte that is not
    UTF-8, missing or extra cells): every record is a product whose ref is the line it ends on, a skip naming that
    line, or an ignored duplicate; strict mode raises on the first skipped line or on a duplicate with other data
    before it."""
    header, rows = table
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows([header, ["GOOD", "A good product"], *rows])
    with _directory() as root:
        path = root / "products.csv"
        path.write_bytes(buffer.getvalue().encode("utf-8", "surrogateescape"))
        catalogue = load_catalogue(root)
        report = catalogue.report
        records = _csv_records(buffer.getvalue())
        assert report.lines_read == len(records)
        assert catalogue.products["GOOD"].title == "A good product"

        problems, loaded = _problem_lines(catalogue, path), _ref_lines(catalogue, "product", path)
        assert not set(problems) & set(loaded) and set(problems) | set(loaded) <= set(records)
        assert {line for line, row in records.items() if any(map(_undecodable, row))} <= set(problems)
        duplicates = report.notes.get(DUPLICATE_PRODUCTS, 0)
        assert len(catalogue.products) + report.skipped + duplicates == len(records)  # every record accounted for
        for item_id, product in catalogue.products.items():
            line = int(catalogue.refs[f"product:{item_id}"].rpartition(":")[2])
            assert records[line][0] == item_id == product.item_id  # the ref names the record's own line

        if report.skipped or duplicates:
            try:
                strict = load_catalogue(root, strict=True)
            except CatalogueError as error:
                assert error.path == path and error.line in records
                if report.skipped and error.line == problems[0]:
                    assert str(error) == report.problems[0]
                else:  # a duplicate with other data comes first
                    assert "again, with other data" in str(error)
                    assert not report.skipped or (error.line is not None and error.line < problems[0])
            else:  # only identical duplicates
                assert not report.skipped and strict.products == catalogue.products
        else:
            assert load_catalogue(root, strict=True).products == catalogue.products


_CSV_REVIEW_LINES = st.one_of(
    st.lists(_CELLS, max_size=6).map(lambda cells: ",".join(cells).encode("utf-8", "surrogateescape")),  # raw
    st.tuples(_REVIEW_IDS, st.sampled_from([*PRODUCTS, "NOPE"]), _CELLS).map(
        lambda row: f"{row[0]},{row[1]},u1,5,{row[2]}".encode("utf-8", "surrogateescape")
    ),
    _GARBAGE,
)


@pytest.mark.fuzz
@given(rows=st.lists(_CSV_REVIEW_LINES, max_size=8))
@settings(max_examples=examples(200), deadline=None)
def test_any_csv_review_bytes_become_reviews_counted_skips_or_notes_never_a_crash(rows: list[bytes]) -> None:
    """reviews.csv of arbitrary bytes (non-UTF-8, stray quotes, too many cells) next to a good products.csv: every
    record the csv module reads is a review, a skip naming the line it ends on (always so for a record with bytes
    that are not UTF-8), or a noted unknown-item or duplicate review; strict mode raises the first skip."""
    data = b"review_id,item_id,user_id,rating,text\n" + b"\n".join(rows) + b"\n"
    with _directory() as root:
        (root / "products.csv").write_text("item_id,title\nP1,Coffee Card\nP2,Tea Card\n")
        path = root / "reviews.csv"
        path.write_bytes(data)
        catalogue = load_catalogue(root)
        report = catalogue.report
        records = _csv_records(data.decode("utf-8", "surrogateescape"))  # a bad byte is one U+DC80..U+DCFF
        assert report.lines_read == len(PRODUCTS) + len(records)

        problems, reviewed = _problem_lines(catalogue, path), _ref_lines(catalogue, "review", path)
        assert not set(problems) & set(reviewed) and set(problems) | set(reviewed) <= set(records)
        assert {line for line, row in records.items() if any(map(_undecodable, row))} <= set(problems)
        unknown, duplicates = report.notes.get(UNKNOWN_REVIEWS, 0), report.notes.get(DUPLICATE_REVIEWS, 0)
        assert len(catalogue.reviews) + report.skipped + unknown + duplicates == len(records)  # all accounted for
        assert all(review.item_id in PRODUCTS for review in catalogue.reviews.values())

        if report.skipped or unknown:
            error = _load_strict_error(root)
            assert error.path == path and error.line in records
            if report.skipped:
                assert str(error) == report.problems[0]
            else:
                assert error.field == "item_id"
        else:
            assert load_catalogue(root, strict=True).reviews == catalogue.reviews
