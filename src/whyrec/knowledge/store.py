"""The embedded SQLite store: products, reviews, interactions and evidence units.

A unit's SQLite rowid is also its id in the FAISS index, so a search hit maps back to a unit with one lookup.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from whyrec.dbguard import damaged_is
from whyrec.errors import IndexMismatchError
from whyrec.knowledge.catalogue import Catalogue
from whyrec.schema import EvidenceUnit, Product

SCHEMA = """
CREATE TABLE products (
    item_id TEXT PRIMARY KEY, title TEXT NOT NULL, brand TEXT, category TEXT, price REAL,
    specs TEXT NOT NULL, features TEXT NOT NULL, description TEXT, source_ref TEXT NOT NULL,
    title_from TEXT NOT NULL DEFAULT 'seller'
);
CREATE TABLE reviews (
    item_id TEXT NOT NULL, review_id TEXT NOT NULL, user_id TEXT NOT NULL, rating REAL, title TEXT,
    text TEXT NOT NULL, time INTEGER, source_ref TEXT NOT NULL, PRIMARY KEY (item_id, review_id)
);
CREATE TABLE interactions (
    user_id TEXT NOT NULL, item_id TEXT NOT NULL, rating REAL, time INTEGER, kind TEXT NOT NULL,
    PRIMARY KEY (user_id, item_id)
);
CREATE TABLE units (
    rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, item_id TEXT NOT NULL, user_id TEXT, kind TEXT NOT NULL,
    field TEXT, text TEXT NOT NULL, rating REAL, source_ref TEXT NOT NULL
);
CREATE INDEX units_item ON units (item_id, kind);
CREATE INDEX units_user ON units (user_id, kind);
CREATE INDEX reviews_user ON reviews (user_id);
CREATE INDEX interactions_item ON interactions (item_id);
"""
_damaged = damaged_is(IndexMismatchError, "re-run `whyrec index`")
FULL_CHECK_BYTES = 64 * 2**20  # stores below this size are checked page by page when they open
_UNIT_COLUMNS = "rowid, id, item_id, user_id, kind, field, text, rating, source_ref"


def _unit(row: sqlite3.Row) -> EvidenceUnit:
    return EvidenceUnit(
        id=row["id"],
        item_id=row["item_id"],
        user_id=row["user_id"],
        kind=row["kind"],
        field=row["field"],
        text=row["text"],
        rating=row["rating"],
        source_ref=row["source_ref"],
    )


class Store:
    """Read access to a built store; `Store.write` creates one."""

    def __init__(self, path: Path):
        self.path = path
        try:
            self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("SELECT 1 FROM units LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise IndexMismatchError(f"{path}: not a readable whyrec store ({exc}); re-run `whyrec index`") from exc

    @_damaged
    def check(self, full_below: int = FULL_CHECK_BYTES) -> None:
        """A store damaged on disk fails when it opens, not on whichever page a later query happens to read: its size
        must be its page count times its page size, and a store under `full_below` bytes gets SQLite's quick check of
        every page (0.2 s per 40 MB; above that a query that reads a damaged page fails then, with the same error)."""
        page_size = int(self._db.execute("PRAGMA page_size").fetchone()[0])
        pages = int(self._db.execute("PRAGMA page_count").fetchone()[0])
        if self.path.stat().st_size != page_size * pages:
            raise sqlite3.DatabaseError("its size does not match its page count (cut short?)")
        if self.path.stat().st_size >= full_below:
            return
        problems = [str(row[0]) for row in self._db.execute("PRAGMA quick_check(1)")]
        if problems != ["ok"]:  # "*** in database main ***\nOn tree page 263 cell 13: …": its last line, for one line
            raise sqlite3.DatabaseError(problems[0].strip().splitlines()[-1])

    @staticmethod
    def write(path: Path, catalogue: Catalogue, units: Iterable[EvidenceUnit]) -> int:
        """Create a new store file at `path` holding the catalogue and its units (rowids 1..N in order, written as
        they come); returns N."""
        count = 0

        def numbered() -> Iterator[tuple[object, ...]]:
            nonlocal count
            for n, u in enumerate(units, start=1):
                count = n
                yield (n, u.id, u.item_id, u.user_id, u.kind, u.field, u.text, u.rating, u.source_ref)

        db = sqlite3.connect(path)
        try:
            db.executescript(SCHEMA)
            db.executemany(
                "INSERT INTO products VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        p.item_id,
                        p.title,
                        p.brand,
                        p.category,
                        p.price,
                        json.dumps(p.specs),
                        json.dumps(p.features),
                        p.description,
                        catalogue.refs[f"product:{p.item_id}"],
                        p.title_from,
                    )
                    for p in catalogue.products.values()
                ),
            )
            db.executemany(
                "INSERT INTO reviews VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        r.item_id,
                        r.review_id,
                        r.user_id,
                        r.rating,
                        r.title,
                        r.text,
                        r.time,
                        catalogue.refs[f"review:{r.item_id}:{r.review_id}"],
                    )
                    for r in catalogue.reviews.values()
                ),
            )
            db.executemany(
                "INSERT INTO interactions VALUES (?, ?, ?, ?, ?)",
                ((i.user_id, i.item_id, i.rating, i.time, i.kind) for i in catalogue.interactions.values()),
            )
            db.executemany("INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", numbered())
            db.commit()
        finally:
            db.close()
        return count

    def close(self) -> None:
        self._db.close()

    @_damaged
    def product(self, item_id: str) -> Product | None:
        row = self._db.execute("SELECT * FROM products WHERE item_id = ?", (item_id,)).fetchone()
        if row is None:
            return None
        columns = row.keys()
        return Product(
            item_id=row["item_id"],
            title=row["title"],
            brand=row["brand"],
            category=row["category"],
            price=row["price"],
            specs=json.loads(row["specs"]),
            features=json.loads(row["features"]),
            description=row["description"],
            # a store written before titles were named from reviews has no such column: every title was the seller's
            # (`in row` would search the row's values, not its column names)
            title_from=row["title_from"] if "title_from" in columns else "seller",
        )

    @_damaged
    def has_user(self, user_id: str) -> bool:
        query = "SELECT 1 FROM interactions WHERE user_id = ? UNION SELECT 1 FROM reviews WHERE user_id = ? LIMIT 1"
        return self._db.execute(query, (user_id, user_id)).fetchone() is not None

    @_damaged
    def item_ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT item_id FROM products ORDER BY item_id")]

    @_damaged
    def titles(self) -> dict[str, str]:
        """Every item id with its title."""
        return dict(self._db.execute("SELECT item_id, title FROM products ORDER BY item_id").fetchall())

    @_damaged
    def user_items(self, user_id: str) -> list[str]:
        """The items in a user's history, latest first."""
        rows = self._db.execute(
            "SELECT item_id FROM interactions WHERE user_id = ? ORDER BY time DESC, item_id", (user_id,)
        )
        return [row[0] for row in rows]

    @_damaged
    def title_rowids(self) -> dict[str, int]:
        """Each item's title unit (its row in the vector index)."""
        rows = self._db.execute("SELECT item_id, rowid FROM units WHERE kind = 'spec' AND field = 'title'")
        return dict(rows.fetchall())

    @_damaged
    def users_by_activity(self, limit: int) -> list[tuple[str, int]]:
        """Users with the most items in their history first, with that count."""
        rows = self._db.execute(
            "SELECT user_id, COUNT(*) AS n FROM interactions GROUP BY user_id ORDER BY n DESC, user_id LIMIT ?",
            (limit,),
        )
        return [(row[0], int(row[1])) for row in rows]

    @_damaged
    def count_users(self) -> int:
        return int(self._db.execute("SELECT COUNT(DISTINCT user_id) FROM interactions").fetchone()[0])

    @_damaged
    def user_ids(self) -> list[str]:
        return [row[0] for row in self._db.execute("SELECT DISTINCT user_id FROM interactions ORDER BY user_id")]

    @_damaged
    def count_units(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM units").fetchone()[0])

    @_damaged
    def units_by_rowid(self, rowids: Iterable[int]) -> dict[int, EvidenceUnit]:
        ids = list(rowids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT {_UNIT_COLUMNS} FROM units WHERE rowid IN ({marks})", ids)
        return {row["rowid"]: _unit(row) for row in rows}

    @_damaged
    def unit_keys(self, rowids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
        """(unit id, item id, kind) of each rowid: what a search over thousands of units needs, without the texts."""
        ids = list(rowids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._db.execute(f"SELECT rowid, id, item_id, kind FROM units WHERE rowid IN ({marks})", ids)
        return {row[0]: (row[1], row[2], row[3]) for row in rows}

    @_damaged
    def units_by_id(self, ids: Iterable[str]) -> dict[str, EvidenceUnit]:
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(f"SELECT {_UNIT_COLUMNS} FROM units WHERE id IN ({marks})", wanted)
        return {row["id"]: _unit(row) for row in rows}

    @_damaged
    def item_unit_rowids(self, item_id: str, exclude_user: str | None = None) -> list[int]:
        """The item's own units (specs, description, reviews), leaving out one user's review of it."""
        rows = self._db.execute(
            "SELECT rowid FROM units WHERE item_id = ? AND kind != 'history' AND (user_id IS NULL OR user_id != ?)",
            (item_id, exclude_user or ""),
        )
        return [row[0] for row in rows]

    @_damaged
    def spec_rowids(self, item_id: str, fields: Sequence[str]) -> list[int]:
        """The item's spec units of these fields; for `title`, also the name its reviewers use when the seller gave
        none (a `signal` unit with field `title`), which names the item as a title does."""
        marks = ",".join("?" * len(fields))
        rows = self._db.execute(
            f"SELECT rowid FROM units WHERE item_id = ? AND field IN ({marks})"
            " AND (kind = 'spec' OR (kind = 'signal' AND field = 'title')) ORDER BY rowid",
            (item_id, *fields),
        )
        return [row[0] for row in rows]

    @_damaged
    def spec_units(self, item_id: str) -> list[EvidenceUnit]:
        """An item's spec units in catalogue order."""
        rows = self._db.execute(
            f"SELECT {_UNIT_COLUMNS} FROM units WHERE item_id = ? AND kind = 'spec' ORDER BY rowid", (item_id,)
        )
        return [_unit(row) for row in rows]

    @_damaged
    def unit_texts_between(self, first: int, last: int) -> list[tuple[str, str]]:
        """(id, text) of the units with rowids `first`..`last`, in rowid order (a build embeds them in batches)."""
        rows = self._db.execute("SELECT id, text FROM units WHERE rowid BETWEEN ? AND ? ORDER BY rowid", (first, last))
        return [(row[0], row[1]) for row in rows]

    @_damaged
    def rowids_by_id(self, ids: Iterable[str]) -> dict[str, tuple[int, str]]:
        """(rowid, text) of each unit id the store holds."""
        wanted = list(ids)
        if not wanted:
            return {}
        marks = ",".join("?" * len(wanted))
        rows = self._db.execute(f"SELECT id, rowid, text FROM units WHERE id IN ({marks})", wanted)
        return {row[0]: (row[1], row[2]) for row in rows}

    @_damaged
    def unit_texts(self, kind: str) -> list[str]:
        """The text of every unit of one kind."""
        return [row[0] for row in self._db.execute("SELECT text FROM units WHERE kind = ?", (kind,))]

    @_damaged
    def unit_texts_by_item(self, kind: str) -> tuple[list[str], list[str]]:
        """The text of every unit of one kind, and beside it (same order) its item's id."""
        rows = self._db.execute("SELECT text, item_id FROM units WHERE kind = ?", (kind,)).fetchall()
        return [row[0] for row in rows], [row[1] for row in rows]

    @_damaged
    def user_rowids(self, user_id: str, kind: str, exclude_item: str | None = None) -> list[int]:
        """A user's own units of one kind (`history` or `review`), leaving out one item."""
        rows = self._db.execute(
            "SELECT rowid FROM units WHERE user_id = ? AND kind = ? AND item_id != ?",
            (user_id, kind, exclude_item or ""),
        )
        return [row[0] for row in rows]

    @_damaged
    def review_text(self, user_id: str, item_id: str) -> str | None:
        """The text of the user's latest review of the item, or None if they wrote none."""
        row = self._db.execute(
            "SELECT text FROM reviews WHERE user_id = ? AND item_id = ? ORDER BY time DESC, review_id DESC LIMIT 1",
            (user_id, item_id),
        ).fetchone()
        return None if row is None else str(row[0])

    @_damaged
    def reviewed_pairs(self, min_other_items: int = 1) -> list[tuple[str, str]]:
        """(user, item) pairs where the user reviewed the item and has at least `min_other_items` other items in
        their history, sorted."""
        rows = self._db.execute(
            "SELECT DISTINCT r.user_id, r.item_id FROM reviews r WHERE ("
            " SELECT COUNT(*) FROM interactions i WHERE i.user_id = r.user_id AND i.item_id != r.item_id) >= ?"
            " ORDER BY r.user_id, r.item_id",
            (min_other_items,),
        )
        return [(row[0], row[1]) for row in rows]

    @_damaged
    def interactions(self) -> list[tuple[str, str, float | None, int | None]]:
        """Every (user, item, rating, time) of the catalogue, sorted by user, then time, then item."""
        rows = self._db.execute(
            "SELECT user_id, item_id, rating, time FROM interactions ORDER BY user_id, time, item_id"
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    @_damaged
    def item_ratings(self, item_id: str, exclude_user: str | None = None) -> list[float]:
        """The star ratings of the item's reviews, leaving out one user's (the shopper's own, in leave-one-out)."""
        rows = self._db.execute(
            "SELECT rating FROM reviews WHERE item_id = ? AND rating IS NOT NULL AND user_id != ? ORDER BY review_id",
            (item_id, exclude_user or ""),
        )
        return [float(row[0]) for row in rows]

    @_damaged
    def co_interactions(
        self, item_id: str, others: Sequence[str], exclude_user: str
    ) -> dict[str, tuple[int, int, bool]]:
        """For each of `others`: (how many users besides `exclude_user` have it in their history, how many of those
        also have `item_id`, whether every one of those interactions is a review)."""
        if not others:
            return {}
        marks = ",".join("?" * len(others))
        rows = self._db.execute(
            "SELECT h.item_id, COUNT(*), SUM(EXISTS(SELECT 1 FROM interactions t WHERE t.user_id = h.user_id"
            f" AND t.item_id = ?)), MIN(h.kind = 'review') FROM interactions h WHERE h.item_id IN ({marks})"
            " AND h.user_id != ? GROUP BY h.item_id",
            (item_id, *others, exclude_user),
        )
        return {row[0]: (int(row[1]), int(row[2] or 0), bool(row[3])) for row in rows}

    @_damaged
    def user_ratings(self, user_id: str) -> dict[str, float | None]:
        """Every item in the user's history with the user's rating of it (None: not rated), in one query."""
        rows = self._db.execute("SELECT item_id, rating FROM interactions WHERE user_id = ?", (user_id,))
        return {row[0]: None if row[1] is None else float(row[1]) for row in rows}

    @_damaged
    def item_units(self, item_id: str) -> list[tuple[int, str | None]]:
        """(rowid, user_id) of the item's own units (specs, description, reviews; not history)."""
        rows = self._db.execute("SELECT rowid, user_id FROM units WHERE item_id = ? AND kind != 'history'", (item_id,))
        return [(row[0], row[1]) for row in rows]

    @_damaged
    def brands(self) -> list[str]:
        """Every brand of the catalogue, as spelled there."""
        rows = self._db.execute("SELECT DISTINCT brand FROM products WHERE brand IS NOT NULL ORDER BY brand")
        return [row[0] for row in rows]
