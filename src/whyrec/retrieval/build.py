"""Write a whyrec index (see retrieval/index.py for what it holds and how it opens).

The store is written as units come and the vectors in batches of EMBED_BATCH, so a build holds the parsed catalogue
but neither every unit nor every vector. Work goes to a hidden sibling directory named by the catalogue's digest and
the embedder: a build killed while embedding resumes from its last written batch when run again, and a finished
one is swapped in with renames, so a failed build leaves the previous index as it was. `add_to_index` builds the
index of the catalogue plus a directory of more products and reviews, embedding only units it did not hold.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel, ValidationError

from whyrec import __version__
from whyrec.errors import IndexMismatchError, WhyrecError
from whyrec.filelock import exclusive_lock
from whyrec.knowledge import Store, load_catalogue
from whyrec.knowledge.aspects import VOCABULARY_FILE, AspectVocabulary
from whyrec.knowledge.catalogue import catalogue_sha256, file_sha256
from whyrec.knowledge.split import iter_units
from whyrec.retrieval import ann
from whyrec.retrieval.embedder import Embedder, Vectors
from whyrec.retrieval.index import (
    FORMAT_VERSION,
    MANIFEST_FILE,
    STORE_FILE,
    IndexManifest,
    InputDigest,
    LoadSummary,
    open_index,
    read_manifest,
)
from whyrec.retrieval.vectors import VECTORS_FILE, UnitVectors, VectorWriter


def _check_replaceable(out: Path) -> None:
    """Only an index (or an empty directory) may be replaced: never a directory of the user's own files."""
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST_FILE).exists())):
        raise WhyrecError(f"{out}: exists and is not a whyrec index; refusing to overwrite it")


def _swap_in(built: Path, out: Path) -> None:
    _check_replaceable(out)
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.rename(out, old / "index")
        os.rename(built, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(built, out)


EMBED_BATCH = 4096  # units embedded (and written) at a time: a build's memory does not grow with the catalogue
STORE_DONE = "store.done"  # in a work directory: store and vocabulary complete (a resume starts at the vectors)
BUILD_FILE = "build.json"


class Progress(Protocol):
    """Told how a build goes: `stage(name, total, done)` starts a stage of `total` steps (0: unknown) of which `done`
    were done before (a resumed build), `advance(n)` moves it on."""

    def stage(self, name: str, total: int, done: int = 0) -> None: ...

    def advance(self, n: int) -> None: ...


class _Quiet:
    def stage(self, name: str, total: int, done: int = 0) -> None:
        pass

    def advance(self, n: int) -> None:
        pass


class _StoredBuild(BaseModel):
    """What the store stage learnt, kept in the work directory so a resumed build can write the manifest."""

    catalogue_sha256: str
    embedder: str
    count: int
    inputs: list[InputDigest]
    load_report: LoadSummary


def _work_dir(catalogue: Path, added: Sequence[Path], out: Path, embedder: Embedder, strict: bool) -> tuple[Path, str]:
    """The build's work directory, named by what it builds: a killed build of the same catalogue with the same
    embedder, format and strictness finds its own work again."""
    digest = catalogue_sha256(catalogue, added)
    what = f"{digest}\0{embedder.name}\0{embedder.dim}\0{FORMAT_VERSION}\0{strict}"
    key = hashlib.sha256(what.encode()).hexdigest()[:16]
    return out.parent / f".{out.name}.build-{key}", digest


def build_index(
    catalogue: Path,
    out: Path,
    embedder: Embedder,
    strict: bool = False,
    progress: Progress | None = None,
    added: Sequence[Path] = (),
    reuse: Path | None = None,
    engine: EmbedEngine | None = None,
) -> IndexManifest:
    """Load `catalogue` (and the directories `added` to it), split it into evidence units, embed them and write the
    index directory `out`. `reuse`: an index built with the same embedder whose vectors are copied for every unit
    it holds with the same id and text, so that only new or changed units are embedded. `engine`: where the
    embedding runs (default: `embedder` in this process; a `RayEngine` spreads it over Ray actors)."""
    started = time.perf_counter()
    tell = progress or _Quiet()
    _check_replaceable(out)  # before the slow part, and again at the swap
    out = out.resolve()
    added = [a.resolve() for a in added]
    out.parent.mkdir(parents=True, exist_ok=True)
    work, digest = _work_dir(catalogue, added, out, embedder, strict)
    with exclusive_lock(out.parent / f".{out.name}.build.lock"):  # one build of `out` at a time
        for stale in out.parent.glob(f".{out.name}.build-*"):
            if stale != work:  # a killed build of another catalogue or embedder: it cannot be resumed
                shutil.rmtree(stale, ignore_errors=True)
        try:
            stored = _resumable_store(work, digest, embedder)
            if stored is None:
                stored = _write_store(catalogue, added, work, embedder, strict, tell)
            embedded = _write_vectors(work, stored.count, embedder, tell, reuse, engine or LocalEngine(embedder))
            vectors = UnitVectors.open(work / VECTORS_FILE)
            tell.stage("global search index", 0)
            if vectors.count > ann.EXACT_MAX:  # read here, not imported: tests lower it
                ann.build_ann(vectors, work, _tuning_queries(work, vectors.count, embedder))
            manifest = IndexManifest(
                format_version=FORMAT_VERSION,
                whyrec_version=__version__,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                embedder=embedder.name,
                dim=embedder.dim,
                count=stored.count,
                catalogue_root=str(catalogue.resolve()),
                added=[str(a) for a in added],
                catalogue_sha256=stored.catalogue_sha256,
                inputs=stored.inputs,
                index_sha256=file_sha256(work / VECTORS_FILE),
                load_report=stored.load_report,
                build_seconds=round(time.perf_counter() - started, 3),
                embedded=embedded,
            )
            del vectors
            for name in (STORE_DONE, BUILD_FILE):
                (work / name).unlink()
            (work / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
            # Serialise the swap with readers opening the index (they hold this lock shared while they open).
            with exclusive_lock(out.parent / f".{out.name}.lock"):
                _swap_in(work, out)
        except KeyboardInterrupt:
            raise  # the work stays for a resume (as after a kill)
        except BaseException:
            shutil.rmtree(work, ignore_errors=True)
            raise
    return manifest


def add_to_index(
    index: Path,
    more: Path,
    embedder: Embedder,
    strict: bool = False,
    progress: Progress | None = None,
    engine: EmbedEngine | None = None,
) -> IndexManifest:
    """Add the products, reviews and interactions of the directory `more` to the index at `index`: the index is
    built again from its catalogue, the directories added before and `more` (so that new reviews also reach the
    history, the item names and the aspect vocabulary), and every unit it already held keeps its vector. The
    catalogue must still be where the index was built from, unchanged (`open_index` checks it)."""
    manifest = read_manifest(index)
    open_index(index, embedder).close()  # same embedder and format, catalogue unchanged: or a one-line error
    root, more = Path(manifest.catalogue_root), more.resolve()
    if not root.exists():
        raise WhyrecError(f"{root}: the index's catalogue is not there any more; --add reads it again with {more}")
    if more == root.resolve() or str(more) in manifest.added:
        raise WhyrecError(f"{more}: already in the index at {index}")
    added = [*map(Path, manifest.added), more]
    return build_index(root, index, embedder, strict=strict, progress=progress, added=added, reuse=index, engine=engine)


def _resumable_store(work: Path, digest: str, embedder: Embedder) -> _StoredBuild | None:
    """The store stage of a killed build of the same catalogue, if it finished; else None (and the rest removed)."""
    try:
        if (work / STORE_DONE).exists():
            stored = _StoredBuild.model_validate_json((work / BUILD_FILE).read_text(encoding="utf-8"))
            if stored.catalogue_sha256 == digest and stored.embedder == embedder.name:
                Store(work / STORE_FILE).close()  # still readable
                return stored
    except (OSError, ValueError, ValidationError, WhyrecError):
        pass
    shutil.rmtree(work, ignore_errors=True)
    return None


def _write_store(
    catalogue: Path, added: Sequence[Path], work: Path, embedder: Embedder, strict: bool, tell: Progress
) -> _StoredBuild:
    work.mkdir()
    tell.stage("reading the catalogue", 0)
    loaded = load_catalogue(catalogue, strict=strict, added=added)
    tell.stage("writing the store", 0)
    count = Store.write(work / STORE_FILE, loaded, iter_units(loaded))
    report = loaded.report
    stored = _StoredBuild(
        catalogue_sha256=loaded.sha256,
        embedder=embedder.name,
        count=count,
        inputs=[_digest(i.path, i.name, i.format, i.sha256) for i in loaded.inputs],
        load_report=LoadSummary(
            products=len(loaded.products),
            reviews=len(loaded.reviews),
            interactions=len(loaded.interactions),
            lines_read=report.lines_read,
            skipped=report.skipped,
            problems=report.problems,
            notes=report.notes,
        ),
    )
    del loaded  # the vectors stage reads the texts back from the store
    written = Store(work / STORE_FILE)
    try:
        tell.stage("aspect vocabulary", 0)
        (work / VOCABULARY_FILE).write_text(AspectVocabulary.of_store(written).to_json(), encoding="utf-8")
    finally:
        written.close()
    (work / BUILD_FILE).write_text(stored.model_dump_json(indent=2), encoding="utf-8")
    (work / STORE_DONE).touch()
    return stored


class _Reuse:
    """The vectors of an earlier index, by unit id, for units whose text has not changed."""

    def __init__(self, index: Path):
        self.store = Store(index / STORE_FILE)
        self.vectors = UnitVectors.open(index / VECTORS_FILE)

    def rows(self, units: list[tuple[str, str]]) -> tuple[list[int], list[int]]:
        """For the batch `units` ((id, text), in order): the positions that have a vector to copy, and its rowid."""
        known = self.store.rowids_by_id(unit_id for unit_id, _ in units)
        at, rowids = [], []
        for position, (unit_id, text) in enumerate(units):
            found = known.get(unit_id)
            if found is not None and found[1] == text:
                at.append(position)
                rowids.append(found[0])
        return at, rowids

    def close(self) -> None:
        self.store.close()


def _tuning_queries(work: Path, count: int, embedder: Embedder, seed: int = 0) -> Vectors:
    """ann.TUNING_QUERIES needs made from the texts of units sampled from the store (ann.text_queries)."""
    rng = np.random.default_rng(seed)
    rowids = np.sort(rng.choice(count, size=min(count, ann.TUNING_QUERIES), replace=False)) + 1
    store = Store(work / STORE_FILE)
    try:
        texts = [unit.text for unit in store.units_by_rowid(rowids.tolist()).values()]
    finally:
        store.close()
    return ann.text_queries(texts, embedder.embed, seed)


class EmbedEngine(Protocol):
    """Embeds batches of texts: `embed_all` gets `window` batches at a time and returns one array per batch, in
    order (`LocalEngine` here; `RayEngine` in retrieval/ray_embed.py spreads them over Ray actors)."""

    name: str
    window: int

    def embed_all(self, batches: list[list[str]]) -> list[Vectors]: ...


class LocalEngine:
    """The embedder in this process, one batch at a time."""

    window = 1

    def __init__(self, embedder: Embedder):
        self.embedder = embedder
        self.name = embedder.name

    def embed_all(self, batches: list[list[str]]) -> list[Vectors]:
        return [self.embedder.embed(texts) for texts in batches]


def _write_vectors(
    work: Path, count: int, embedder: Embedder, tell: Progress, reuse: Path | None, engine: EmbedEngine
) -> int:
    """Embed the store's units in batches into the vectors file, from where a killed build stopped; copy the vectors
    `reuse` holds for the same units. Returns how many units were embedded."""
    writer = VectorWriter(work / VECTORS_FILE, count, embedder.dim)
    store = Store(work / STORE_FILE)
    earlier = _Reuse(reuse) if reuse is not None else None
    embedded = 0
    try:
        tell.stage(f"embedding with {embedder.name}", count, writer.written)
        firsts = list(range(writer.written + 1, count + 1, EMBED_BATCH))
        for window in range(0, len(firsts), engine.window):
            plans: list[tuple[Vectors, list[int], list[str]]] = []
            for first in firsts[window : window + engine.window]:
                last = min(first + EMBED_BATCH - 1, count)
                units = store.unit_texts_between(first, last)
                if len(units) != last - first + 1:
                    raise IndexMismatchError(f"{store.path}: units {first}..{last} are not all there; rebuild")
                rows = np.zeros((len(units), embedder.dim), dtype=np.float32)
                copied: set[int] = set()
                if earlier is not None:
                    at, rowids = earlier.rows(units)
                    rows[at] = earlier.vectors.vectors(rowids)
                    copied = set(at)
                fresh = [i for i in range(len(units)) if i not in copied]
                plans.append((rows, fresh, [units[i][1] for i in fresh]))
            results = engine.embed_all([texts for _, _, texts in plans])
            for (rows, fresh, _), vectors in zip(plans, results, strict=True):
                if fresh:
                    rows[fresh] = vectors
                writer.append(rows)
                embedded += len(fresh)
                tell.advance(len(rows))
    finally:
        store.close()
        writer.close()
        if earlier is not None:
            earlier.close()
    return embedded


def _digest(path: Path, name: str, fmt: str, sha256: str) -> InputDigest:
    stat = path.stat()
    return InputDigest(name=name, format=fmt, sha256=sha256, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
