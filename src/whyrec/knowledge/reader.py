"""Line-by-line reading of JSON Lines and CSV files, with bad lines reported by file and line number."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whyrec.errors import CatalogueError

MAX_PROBLEMS_KEPT = 20
# Real catalogue lines are kilobytes (the longest Amazon 2018 metadata line in ../shared/data: 14 KB); a longer line
# is skipped without being held in memory.
MAX_LINE_BYTES = 4 << 20


@dataclass
class LoadReport:
    """What loading skipped and why. Bad lines are skipped and counted unless `strict` is set."""

    strict: bool = False
    lines_read: int = 0
    skipped: int = 0
    problems: list[str] = field(default_factory=list)
    notes: dict[str, int] = field(default_factory=dict)

    def skip(self, error: CatalogueError) -> None:
        """Record a bad line, or raise it in strict mode."""
        if self.strict:
            raise error
        self.skipped += 1
        if len(self.problems) < MAX_PROBLEMS_KEPT:
            self.problems.append(str(error))

    def note(self, what: str, count: int = 1) -> None:
        self.notes[what] = self.notes.get(what, 0) + count

    def summary(self) -> str:
        parts = [f"{self.lines_read} lines read"]
        if self.skipped:
            parts.append(f"{self.skipped} skipped (first: {self.problems[0]})")
        parts += [f"{n} {what}" for what, n in sorted(self.notes.items())]
        return "; ".join(parts)


def _open_bytes(path: Path) -> io.BufferedIOBase:
    try:
        if path.name.endswith(".gz"):
            return gzip.open(path, "rb")
        return path.open("rb")
    except OSError as exc:
        raise CatalogueError(f"cannot read: {exc.strerror or exc}", path) from exc


def decode_line(raw: bytes, path: Path, line_no: int) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError(f"not valid UTF-8 (byte {exc.start})", path, line_no) from exc


def bounded_lines(handle: io.BufferedIOBase) -> Iterator[bytes | int]:
    """The file's lines; a line over MAX_LINE_BYTES is read through without being kept, and yielded as its size."""
    while raw := handle.readline(MAX_LINE_BYTES + 1):
        if len(raw) <= MAX_LINE_BYTES or raw.endswith(b"\n"):
            yield raw
            continue
        size = len(raw)
        while raw and not raw.endswith(b"\n"):
            raw = handle.readline(1 << 20)
            size += len(raw)
        yield size


def too_long(size: int, path: Path, line_no: int) -> CatalogueError:
    return CatalogueError(
        f"line of {size / 1e6:.1f} MB, longer than whyrec reads ({MAX_LINE_BYTES >> 20} MiB)", path, line_no
    )


def read_jsonl(path: Path, report: LoadReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, object) for each JSON object line; bad lines go to the report."""
    with _open_bytes(path) as handle:
        try:
            for line_no, raw in enumerate(bounded_lines(handle), start=1):
                if isinstance(raw, int):
                    report.lines_read += 1
                    report.skip(too_long(raw, path, line_no))
                    continue
                if not raw.strip():
                    continue
                report.lines_read += 1
                try:
                    value = json.loads(decode_line(raw, path, line_no))
                except CatalogueError as exc:
                    report.skip(exc)
                    continue
                except json.JSONDecodeError as exc:
                    report.skip(CatalogueError(f"malformed JSON ({exc.msg}, column {exc.colno})", path, line_no))
                    continue
                except ValueError:  # an integer of more digits than int() takes (sys.get_int_max_str_digits)
                    report.skip(CatalogueError("JSON number with too many digits", path, line_no))
                    continue
                except RecursionError:  # "[[[[…" deeper than the decoder goes
                    report.skip(CatalogueError("JSON nested too deeply", path, line_no))
                    continue
                if not isinstance(value, dict):
                    report.skip(CatalogueError(f"expected a JSON object, got {type(value).__name__}", path, line_no))
                    continue
                yield line_no, value
        except (OSError, EOFError) as exc:  # a truncated .gz file
            raise CatalogueError(f"cannot read: {exc}", path) from exc


def _is_utf8(text: str) -> bool:
    """False for text read with `surrogateescape` that held bytes which were not UTF-8."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def read_csv(path: Path, report: LoadReport) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (line number, row) for each CSV row (header on line 1); empty cells become None."""
    with _open_bytes(path) as handle:
        data = handle.read()
    # Bytes that are not UTF-8 become lone surrogates: they cost the row they are in, not the whole file.
    text = data.decode("utf-8-sig", errors="surrogateescape")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        if reader.fieldnames is None:
            return
    except csv.Error as exc:
        raise CatalogueError(f"unreadable CSV header ({exc})", path, 1) from exc
    if not all(_is_utf8(name) for name in reader.fieldnames):
        raise CatalogueError("not valid UTF-8 in the CSV header", path, reader.line_num)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the csv module's 128 KiB limit, a NUL byte
            report.lines_read += 1
            report.skip(CatalogueError(f"unreadable CSV row ({exc})", path, reader.line_num + 1))  # not counted yet
            continue
        report.lines_read += 1
        if None in row:  # more cells than header columns
            report.skip(CatalogueError("more cells than header columns", path, reader.line_num))
            continue
        if (bad := next((k for k, v in row.items() if v is not None and not _is_utf8(v)), None)) is not None:
            report.skip(CatalogueError(f"not valid UTF-8 (column {bad!r})", path, reader.line_num))
            continue
        yield reader.line_num, {k: (v if v != "" else None) for k, v in row.items()}


def sniff_keys(path: Path) -> set[str]:
    """Keys of the first JSON object line, used to tell one file format from another."""
    with _open_bytes(path) as handle:
        try:
            for raw in bounded_lines(handle):
                if isinstance(raw, int):
                    continue
                try:
                    value = json.loads(raw.decode("utf-8"))
                except (ValueError, RecursionError):  # not UTF-8, not JSON, a number too long for int()
                    continue
                if isinstance(value, dict):
                    return set(value)
        except (OSError, EOFError) as exc:
            raise CatalogueError(f"cannot read: {exc}", path) from exc
    return set()
