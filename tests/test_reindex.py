"""Re-indexing while others read: an open index keeps serving its build, and opening never mixes two builds."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import DEMO, DEMO_PAIRS
from whyrec.retrieval import HashingEmbedder, PairRetriever, build_index, open_index

USER, ITEM = DEMO_PAIRS[0]


def smaller_catalogue(root: Path) -> Path:
    """The demo catalogue without its last 500 reviews: a build with another unit count."""
    shutil.copytree(DEMO, root)
    reviews = root / "Gift_Cards_5.jsonl"
    reviews.write_text("".join(reviews.read_text().splitlines(keepends=True)[:-500]))
    return root


def test_an_open_index_keeps_serving_its_build_after_another_is_swapped_in(tmp_path: Path) -> None:
    embedder = HashingEmbedder()
    build_index(DEMO, tmp_path / "index", embedder)
    index = open_index(tmp_path / "index", embedder)
    before = [e.id for e in PairRetriever(index, embedder).for_pair(USER, ITEM)]
    count = index.manifest.count
    build_index(smaller_catalogue(tmp_path / "smaller"), tmp_path / "index", embedder)
    assert not list(tmp_path.glob(".index.old-*"))  # the old build's files are gone from the directory
    assert [e.id for e in PairRetriever(index, embedder).for_pair(USER, ITEM)] == before
    assert index.vectors.count == index.store.count_units() == count
    index.close()
    fresh = open_index(tmp_path / "index", embedder)
    assert fresh.manifest.count < count and fresh.vectors.count == fresh.store.count_units()
    fresh.close()


REBUILD = """
import sys
from pathlib import Path
from whyrec.retrieval import HashingEmbedder, build_index
catalogues, out, rounds = [Path(p) for p in sys.argv[1:3]], Path(sys.argv[3]), int(sys.argv[4])
for n in range(rounds):
    build_index(catalogues[n % 2], out, HashingEmbedder())
    print(n, flush=True)
"""


def test_readers_opening_while_it_is_rebuilt_always_get_one_whole_build(tmp_path: Path) -> None:
    """Without the shared lock in open_index this fails on every run: a reader that opens while the new build is
    swapped in reads one build's manifest and the other's vectors (or finds no index between the two renames)."""
    embedder = HashingEmbedder()
    smaller = smaller_catalogue(tmp_path / "smaller")
    counts = {build_index(c, tmp_path / f"only-{c.name}", embedder).count for c in (DEMO, smaller)}
    build_index(DEMO, tmp_path / "index", embedder)
    rebuild = subprocess.Popen(
        [sys.executable, "-c", REBUILD, str(smaller), str(DEMO), str(tmp_path / "index"), "6"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen, opened = set(), 0
    while rebuild.poll() is None:
        index = open_index(tmp_path / "index", embedder)  # never a missing index, a mix of builds or a bad file
        try:
            assert index.vectors.count == index.store.count_units() == index.manifest.count
            assert index.store.product(ITEM) is not None and index.vectors.search(index.vectors.vectors([1])[0], 3)
            seen.add(index.manifest.count)
            opened += 1
        finally:
            index.close()
    out, err = rebuild.communicate()
    assert rebuild.returncode == 0, err
    assert out.split() == [str(n) for n in range(6)]
    assert seen == counts and opened >= 20, (seen, opened)  # readers saw both builds, many times over
    assert json.loads((tmp_path / "index" / "manifest.json").read_text())["count"] in counts
