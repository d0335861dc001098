"""Build and open a whyrec index: an SQLite store, a FAISS index and a manifest, in one directory.

A build writes into a temporary sibling directory and swaps it in with renames, so a failed or interrupted build
leaves the previous index as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError

from whyrec import __version__
from whyrec.errors import IndexMismatchError, IndexNotFoundError, WhyrecError
from whyrec.filelock import exclusive_lock, shared_lock
from whyrec.knowledge import Store, load_catalogue, split_catalogue
from whyrec.knowledge.aspects import VOCABULARY_FILE, AspectVocabulary
from whyrec.knowledge.catalogue import file_sha256
from whyrec.retrieval.embedder import Embedder
from whyrec.retrieval.faiss_store import FaissIndex

FORMAT_VERSION = 2  # 2: a history unit quotes the latest of a user's reviews of an item (with its rating)
STORE_FILE = "store.sqlite"
VECTORS_FILE = "vectors.faiss"
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
    vectors: FaissIndex
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


def build_index(catalogue: Path, out: Path, embedder: Embedder, strict: bool = False) -> IndexManifest:
    """Load `catalogue`, split it into evidence units, embed them and write the index directory `out`."""
    started = time.perf_counter()
    _check_replaceable(out)  # before the slow part, and again at the swap
    loaded = load_catalogue(catalogue, strict=strict)
    units = split_catalogue(loaded)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        Store.write(work / STORE_FILE, loaded, units)
        written = Store(work / STORE_FILE)
        try:
            (work / VOCABULARY_FILE).write_text(AspectVocabulary.of_store(written).to_json(), encoding="utf-8")
        finally:
            written.close()
        vectors = embedder.embed([u.text for u in units])
        FaissIndex.build(range(1, len(units) + 1), vectors).save(work / VECTORS_FILE)
        report = loaded.report
        manifest = IndexManifest(
            format_version=FORMAT_VERSION,
            whyrec_version=__version__,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            embedder=embedder.name,
            dim=embedder.dim,
            count=len(units),
            catalogue_root=str(catalogue.resolve()),
            catalogue_sha256=loaded.sha256,
            inputs=[_digest(i.path, i.format, i.sha256) for i in loaded.inputs],
            index_sha256=file_sha256(work / VECTORS_FILE),
            load_report=LoadSummary(
                products=len(loaded.products),
                reviews=len(loaded.reviews),
                interactions=len(loaded.interactions),
                lines_read=report.lines_read,
                skipped=report.skipped,
                problems=report.problems,
                notes=report.notes,
            ),
            build_seconds=round(time.perf_counter() - started, 3),
        )
        (work / MANIFEST_FILE).write_text(manifest.model_dump_json(indent=2), encoding="utf-8")
        # Serialise builds into the same directory (two `whyrec explain` runs building the demo index at once).
        with exclusive_lock(out.parent / f".{out.name}.lock"):
            _swap_in(work, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # gone already when the swap succeeded
    return manifest


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
    vectors = FaissIndex.load(path / VECTORS_FILE)
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
