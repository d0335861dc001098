"""`whyrec index --add DIR`: more reviews (and products) join an index; only the units it did not hold are embedded,
and the result equals a build of everything at once."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DEMO
from whyrec.cli import app
from whyrec.errors import IndexMismatchError, WhyrecError
from whyrec.knowledge import Store
from whyrec.retrieval import HashingEmbedder, PairRetriever, add_to_index, build_index, open_index
from whyrec.retrieval.embedder import Vectors
from whyrec.retrieval.index import STORE_FILE
from whyrec.retrieval.vectors import VECTORS_FILE

REVIEWS = "Gift_Cards_5.jsonl"


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


class Counting(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts = 0

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts += len(texts)
        return super().embed(texts)


@pytest.fixture
def halves(tmp_path: Path) -> tuple[Path, Path]:
    """The demo catalogue without its last 300 reviews, and a directory holding just those."""
    base, more = tmp_path / "base", tmp_path / "more"
    shutil.copytree(DEMO, base)
    more.mkdir()
    lines = (DEMO / REVIEWS).read_text(encoding="utf-8").splitlines(keepends=True)
    (base / REVIEWS).write_text("".join(lines[:-300]), encoding="utf-8")
    (more / REVIEWS).write_text("".join(lines[-300:]), encoding="utf-8")
    return base, more


def test_added_reviews_equal_a_build_of_everything_and_only_new_units_are_embedded(
    tmp_path: Path, halves: tuple[Path, Path]
) -> None:
    base, more = halves
    whole = build_index(DEMO, tmp_path / "whole", HashingEmbedder())
    build_index(base, tmp_path / "grown", HashingEmbedder())
    counting = Counting()
    grown = add_to_index(tmp_path / "grown", more, counting)
    assert grown.count == whole.count and grown.added == [str(more.resolve())]
    assert grown.embedded == counting.texts and 0 < counting.texts < whole.count // 3  # the new reviews, histories
    assert (tmp_path / "grown" / VECTORS_FILE).read_bytes() == (tmp_path / "whole" / VECTORS_FILE).read_bytes()
    a, b = Store(tmp_path / "whole" / STORE_FILE), Store(tmp_path / "grown" / STORE_FILE)
    assert a.unit_texts_between(1, 10**9) == b.unit_texts_between(1, 10**9)
    # an added review cites its own file by its full path; the index opens (nothing looks stale) and serves pairs
    index = open_index(tmp_path / "grown", HashingEmbedder())
    user, item = index.store.reviewed_pairs()[0]
    assert PairRetriever(index, HashingEmbedder()).for_pair(user, item)
    refs = {
        u.source_ref.rsplit(":", 1)[0] for u in index.store.units_by_rowid(range(1, index.vectors.count + 1)).values()
    }
    assert str((more / REVIEWS).resolve()) in refs and REVIEWS in refs


def test_adding_twice_or_to_a_changed_catalogue_is_refused(tmp_path: Path, halves: tuple[Path, Path]) -> None:
    base, more = halves
    build_index(base, tmp_path / "index", HashingEmbedder())
    add_to_index(tmp_path / "index", more, HashingEmbedder())
    with pytest.raises(WhyrecError, match="already in the index"):
        add_to_index(tmp_path / "index", more, HashingEmbedder())
    with (more / REVIEWS).open("a") as handle:  # an added directory is part of the catalogue: its changes count
        handle.write("\n")
    with pytest.raises(IndexMismatchError, match="older than its catalogue"):
        open_index(tmp_path / "index", HashingEmbedder())


def test_the_cli_adds_and_says_what_it_embedded(tmp_path: Path, halves: tuple[Path, Path]) -> None:
    base, more = halves
    index = str(tmp_path / "index")
    assert cli("index", str(base), "--out", index, "--embedder", "hashing")[0] == 0
    code, out, err = cli("index", "--add", str(more), "--out", index, "--embedder", "hashing")
    assert code == 0, err
    assert "Added " in out and "units embedded" in out
    code, _, err = cli("index", str(base), "--add", str(more), "--out", index, "--embedder", "hashing")
    assert code == 2 and err.startswith("error: give a CATALOGUE") and len(err.strip().splitlines()) == 1
