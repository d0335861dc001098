"""Open a whyrec index, one directory: an SQLite store, the unit vectors (a memory-mapped `.npy`), above
EXACT_MAX units an IVF index for global search, the aspect vocabulary and a manifest. retrieval/build.py writes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ValidationError

from whyrec.errors import IndexMismatchError, IndexNotFoundError
from whyrec.filelock import shared_lock
from whyrec.knowledge import Store
from whyrec.knowledge.aspects import VOCABULARY_FILE, AspectVocabulary
from whyrec.knowledge.catalogue import file_sha256
from whyrec.retrieval.ann import open_global_search
from whyrec.retrieval.embedder import Embedder
from whyrec.retrieval.vectors import VECTORS_FILE, UnitVectors

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
    added: list[str] = []  # directories added to the catalogue since (`whyrec index --add`), absolute
    catalogue_sha256: str
    inputs: list[InputDigest]
    index_sha256: str
    load_report: LoadSummary
    build_seconds: float
    embedded: int | None = None  # units embedded by this build (the rest copied from the index it grew from)


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
