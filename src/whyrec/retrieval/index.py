"""Build and open a whyrec index, one directory: an SQLite store, the unit vectors (a memory-mapped `.npy`), above
EXACT_MAX units an IVF index for global search, the aspect vocabulary and a manifest.

A build writes into a hidden sibling directory and swaps it in with renames, so a failed build leaves the previous
index as it was; a build killed while embedding resumes where it stopped (see build_index).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ValidationError

from whyrec import __version__
from whyrec.errors import IndexMismatchError, IndexNotFoundError, WhyrecError
from whyrec.filelock import exclusive_lock, shared_lock
from whyrec.knowledge import Store, load_catalogue
from whyrec.knowledge.aspects import VOCABULARY_FILE, AspectVocabulary
from whyrec.knowledge.catalogue import catalogue_sha256, file_sha256
from whyrec.knowledge.split import iter_units
from whyrec.retrieval.ann import build_ann, open_global_search
from whyrec.retrieval.embedder import Embedder
from whyrec.retrieval.vectors import VECTORS_FILE, UnitVectors, VectorWriter

# 2: a history unit quotes the latest of a user's reviews of an item (with its rating)
# 3: vectors in a memory-mapped .npy (row r - 1 = unit r) and, above EXACT_MAX units, an IVF index for global search
FORMAT_VERSION = 3
STORE_FILE = "store.sqlite"
MANIFEST_FILE = "manifest.json"


class InputDigest(BaseModel):
    name: str
    format: str
    sha256: str
    # size and mtime_ns: a cheap test of whether the file changed since the build (older manifests have neither)
    size: int | None = None
    mtime_ns: int | None = None


class LoadSummary(BaseModel):
    """What the build loaded and what it skipped (the first problems, verbatim)."""

    products: int
    reviews: int
    interactions: int
    lines_read: int
    skipped: int
    problems: list[str]
    notes: dict[str, int]


class IndexManifest(BaseModel):
    format_version: int
    whyrec_version: str
    created_at: str
    embedder: str
    dim: int
    count: int
    catalogue_root: str
    catalogue_sha256: str
    inputs: list[InputDigest]
    index_sha256: str
    load_report: LoadSummary
    build_seconds: float


@dataclass
class KnowledgeIndex:
    """An opened index: the store, the vectors and the manifest that describes them."""

    path: Path
    store: Store
    vectors: UnitVectors
    manifest: IndexManifest
    stored_vocabulary: AspectVocabulary | None = None  # computed at the build; None: an older build, compute it

    @property
    def vocabulary(self) -> AspectVocabulary:
        """The aspect vocabulary of the store's reviews: as the build stored it, or computed once now."""
        if self.stored_vocabulary is None:
            self.stored_vocabulary = AspectVocabulary.of_store(self.store)
        return self.stored_vocabulary

    def close(self) -> None:
        self.store.close()


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
STORE_DONE = "store.done"  # in a work directory: the store and vocabulary are complete (a resume starts at the vectors)
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
    seconds: float


def _work_dir(catalogue: Path, out: Path, embedder: Embedder) -> tuple[Path, str]:
    """The build's work directory, named by what it builds: a killed build of the same catalogue with the same
    embedder and format finds its own work again."""
    digest = catalogue_sha256(catalogue)
    key = hashlib.sha256(f"{digest}\0{embedder.name}\0{embedder.dim}\0{FORMAT_VERSION}".encode()).hexdigest()[:16]
    return out.parent / f".{out.name}.build-{key}", digest


def build_index(
    catalogue: Path, out: Path, embedder: Embedder, strict: bool = False, progress: Progress | None = None
) -> IndexManifest:
    """Load `catalogue`, split it into evidence units, embed them and write the index directory `out`.

    The store is written as units come and the vectors in batches of EMBED_BATCH, so memory holds the parsed
    catalogue but neither every unit nor every vector. Work goes to a hidden sibling directory named by the
    catalogue's digest and the embedder; a build killed while embedding resumes from its last written batch when
    run again, and a finished one is swapped in with renames (a failed build leaves the previous index as it was)."""
    started = time.perf_counter()
    tell = progress or _Quiet()
    _check_replaceable(out)  # before the slow part, and again at the swap
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work, digest = _work_dir(catalogue, out, embedder)
    with exclusive_lock(out.parent / f".{out.name}.build.lock"):  # one build of `out` at a time
        for stale in out.parent.glob(f".{out.name}.build-*"):
            if stale != work:  # a killed build of another catalogue or embedder: it cannot be resumed
                shutil.rmtree(stale, ignore_errors=True)
        try:
            stored = _resumable_store(work, digest, embedder)
            if stored is None:
                stored = _write_store(catalogue, work, embedder, strict, tell)
            _write_vectors(work, stored.count, embedder, tell)
            vectors = UnitVectors.open(work / VECTORS_FILE)
            tell.stage("global search index", 0)
            build_ann(vectors, work)
            manifest = IndexManifest(
                format_version=FORMAT_VERSION,
                whyrec_version=__version__,
                created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                embedder=embedder.name,
                dim=embedder.dim,
                count=stored.count,
                catalogue_root=str(catalogue.resolve()),
                catalogue_sha256=stored.catalogue_sha256,
                inputs=stored.inputs,
                index_sha256=file_sha256(work / VECTORS_FILE),
                load_report=stored.load_report,
                build_seconds=round(time.perf_counter() - started, 3),
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


def _write_store(catalogue: Path, work: Path, embedder: Embedder, strict: bool, tell: Progress) -> _StoredBuild:
    started = time.perf_counter()
    work.mkdir()
    tell.stage("reading the catalogue", 0)
    loaded = load_catalogue(catalogue, strict=strict)
    tell.stage("writing the store", 0)
    count = Store.write(work / STORE_FILE, loaded, iter_units(loaded))
    report = loaded.report
    stored = _StoredBuild(
        catalogue_sha256=loaded.sha256,
        embedder=embedder.name,
        count=count,
        inputs=[_digest(i.path, i.format, i.sha256) for i in loaded.inputs],
        load_report=LoadSummary(
            products=len(loaded.products),
            reviews=len(loaded.reviews),
            interactions=len(loaded.interactions),
            lines_read=report.lines_read,
            skipped=report.skipped,
            problems=report.problems,
            notes=report.notes,
        ),
        seconds=round(time.perf_counter() - started, 3),
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


def _write_vectors(work: Path, count: int, embedder: Embedder, tell: Progress) -> None:
    """Embed the store's units in batches into the vectors file, from where a killed build stopped."""
    writer = VectorWriter(work / VECTORS_FILE, count, embedder.dim)
    store = Store(work / STORE_FILE)
    try:
        tell.stage(f"embedding with {embedder.name}", count, writer.written)
        for first in range(writer.written + 1, count + 1, EMBED_BATCH):
            last = min(first + EMBED_BATCH - 1, count)
            texts = store.unit_texts_between(first, last)
            if len(texts) != last - first + 1:
                raise IndexMismatchError(f"{store.path}: units {first}..{last} are not all there; rebuild")
            writer.append(embedder.embed(texts))
            tell.advance(len(texts))
    finally:
        store.close()
        writer.close()


def _digest(path: Path, fmt: str, sha256: str) -> InputDigest:
    stat = path.stat()
    return InputDigest(name=path.name, format=fmt, sha256=sha256, size=stat.st_size, mtime_ns=stat.st_mtime_ns)


def changed_inputs(manifest: IndexManifest) -> list[str]:
    """The catalogue files that changed or went away since the index was built. A catalogue that is no longer
    where it was is not a change: the index holds everything it serves."""
    root = Path(manifest.catalogue_root)
    if not root.exists():
        return []
    changed = []
    for digest in manifest.inputs:
        path = root if root.is_file() else root / digest.name
        try:
            stat = path.stat()
        except OSError:
            changed.append(f"{digest.name} is gone")
            continue
        if digest.size is None or (stat.st_size, stat.st_mtime_ns) == (digest.size, digest.mtime_ns):
            continue  # the same file (or a manifest without sizes); a touched file is read to be sure
        if file_sha256(path) != digest.sha256:
            changed.append(f"{digest.name} changed")
    return changed


def read_manifest(path: Path) -> IndexManifest:
    manifest_path = path / MANIFEST_FILE
    if not path.is_dir() or not manifest_path.exists():
        raise IndexNotFoundError(f"no whyrec index at {path}: build one with `whyrec index CATALOGUE --out {path}`")
    try:
        return IndexManifest.model_validate(json.loads(manifest_path.read_text(encoding="utf-8")))
    except (ValueError, ValidationError) as exc:
        raise IndexMismatchError(f"{manifest_path}: unreadable manifest; re-run `whyrec index`") from exc


def open_index(path: Path, embedder: Embedder) -> KnowledgeIndex:
    """Open an index built with the same embedder as `embedder`; anything else is told to re-index.

    Opening shares the lock a build takes to swap a new index in, so the manifest, vectors and store always come
    from one build; once open, the index keeps serving that build (its files stay open) whatever is swapped in."""
    with shared_lock(path.parent / f".{path.name}.lock"):
        return _open(path, embedder)


def _open(path: Path, embedder: Embedder) -> KnowledgeIndex:
    manifest = read_manifest(path)
    rebuild = f"re-run `whyrec index {manifest.catalogue_root} --out {path}`"
    if manifest.format_version != FORMAT_VERSION:
        raise IndexMismatchError(
            f"{path}: index format {manifest.format_version}, expected {FORMAT_VERSION}; {rebuild}"
        )
    if manifest.embedder != embedder.name or manifest.dim != embedder.dim:
        raise IndexMismatchError(
            f"{path}: index was built with embedder {manifest.embedder} ({manifest.dim} dims) but this run uses "
            f"{embedder.name} ({embedder.dim} dims); {rebuild}"
        )
    if changed := changed_inputs(manifest):
        raise IndexMismatchError(
            f"{path}: the index is older than its catalogue ({', '.join(changed)} since it was built); {rebuild}"
        )
    vectors = UnitVectors.open(path / VECTORS_FILE)
    vectors.global_search = open_global_search(path, vectors)
    store = Store(path / STORE_FILE)
    try:
        store.check()
    except IndexMismatchError:
        store.close()
        raise
    if not vectors.count == store.count_units() == manifest.count:
        store.close()
        raise IndexMismatchError(f"{path}: vectors, store and manifest disagree on the unit count; {rebuild}")
    stored = path / VOCABULARY_FILE
    vocabulary = AspectVocabulary.from_json(stored.read_text(encoding="utf-8")) if stored.exists() else None
    return KnowledgeIndex(path=path, store=store, vectors=vectors, manifest=manifest, stored_vocabulary=vocabulary)
