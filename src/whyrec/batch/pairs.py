"""The pairs file: CSV with a header naming `user_id` and `item_id` (other columns ignored), checked row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from whyrec.errors import CatalogueError, UnknownIdError, WhyrecError

OnBadRow = Literal["skip", "fail"]
PairCheck = Callable[[str, str], None]  # raises a WhyrecError for a user or item the catalogue does not hold
COLUMNS = ("user_id", "item_id")


@dataclass(frozen=True)
class Pair:
    user_id: str
    item_id: str
    line: int

    @property
    def key(self) -> tuple[str, str]:
        return self.user_id, self.item_id


@dataclass
class PairsFile:
    """The good pairs, each once, in file order; the bad rows (file:line: problem) and the repeats left out."""

    pairs: list[Pair] = field(default_factory=list)
    bad: list[CatalogueError] = field(default_factory=list)
    duplicates: int = 0


def check_readable(path: Path) -> None:
    """A one-line error now, before any work, for a pairs file that is missing or cannot be read."""
    try:
        path.open("rb").close()
    except OSError as exc:
        raise WhyrecError(f"{path}: cannot read: {exc.strerror}") from None


def read_pairs(
    path: Path,
    check: PairCheck,
    on_bad_row: OnBadRow = "skip",
    report: Callable[[CatalogueError], None] = lambda bad: None,
) -> PairsFile:
    """Every row of `path` checked by `check`; a bad row is reported and left out, or raised with `fail`."""
    result, seen = PairsFile(), set[tuple[str, str]]()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WhyrecError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"not UTF-8 text (byte {exc.start})", path, data[: exc.start].count(b"\n") + 1) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames or []
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise CatalogueError(f"the header must name {' and '.join(COLUMNS)} (missing {missing[0]})", path, 1)
        for row in reader:
            try:
                pair = _pair(row, reader.line_num, path, check)
            except CatalogueError as bad:
                if on_bad_row == "fail":
                    raise
                result.bad.append(bad)
                report(bad)
                continue
            if pair.key in seen:
                result.duplicates += 1
            else:
                seen.add(pair.key)
                result.pairs.append(pair)
    except csv.Error as exc:  # a cell over the csv module's 128 KiB limit, a NUL byte: the rest cannot be trusted
        raise CatalogueError(f"not CSV: {exc}", path, reader.line_num + 1) from None  # the line is not counted yet
    return result


def _pair(row: dict[str | None, str | None], line: int, path: Path, check: PairCheck) -> Pair:
    ids = {}
    for column in COLUMNS:
        value = row.get(column)
        if value is None:
            raise CatalogueError("missing", path, line, column)
        if not value.strip():
            raise CatalogueError("empty", path, line, column)
        ids[column] = value.strip()
    try:
        check(ids["user_id"], ids["item_id"])
    except UnknownIdError as exc:
        raise CatalogueError(str(exc), path, line) from None
    return Pair(ids["user_id"], ids["item_id"], line)
