"""The one composition root: settings in, wired pipeline out. Nothing else decides which parts are used."""

from __future__ import annotations

import contextlib
import functools
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from whyrec.agent import Explainer, ExtractiveComposer
from whyrec.agent.draft import Composer
from whyrec.agent.llm_composer import LLMComposer
from whyrec.auditing import Auditor
from whyrec.checker import RuleChecker
from whyrec.config import Settings
from whyrec.errors import DependencyMissingError, IndexMismatchError, IndexNotFoundError, WhyrecError
from whyrec.feedback import FeedbackStore, StoredPreferences
from whyrec.knowledge import catalogue_sha256
from whyrec.knowledge.profile import AspectProfiler
from whyrec.knowledge.signals import SignalMaker
from whyrec.llm import LLM, REGISTRY, ModelStore
from whyrec.llm.llama import LlamaCppLLM
from whyrec.prompts import load_prompt
from whyrec.recommend import BaselineRecommender
from whyrec.recommend.ask import Concierge, Shopper
from whyrec.recommend.request import read_rules, read_with_model
from whyrec.retrieval import (
    Embedder,
    HashingEmbedder,
    KnowledgeIndex,
    PairRetriever,
    SentenceTransformerEmbedder,
    build_index,
    open_index,
)
from whyrec.retrieval.build import EmbedEngine
from whyrec.retrieval.index import FORMAT_VERSION, read_manifest
from whyrec.retrieval.justify import JustificationProbe

if TYPE_CHECKING:
    from whyrec.agent.chat import Chat  # LangChain's message trimming: imported when a chat is made
    from whyrec.service.core import Service


def demo_catalogue() -> Path:
    """The bundled demo catalogue: inside an installed wheel, or `data/demo` in a source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "_demo", package.parents[1] / "data" / "demo"):
        if candidate.is_dir():
            return candidate
    raise WhyrecError("the bundled demo catalogue is missing; pass --index with an index of your own")


def make_embedder(settings: Settings) -> Embedder:
    if settings.embedder == "hashing":
        return HashingEmbedder()
    if settings.embedder == "all-MiniLM-L6-v2":
        return SentenceTransformerEmbedder(batch_size=settings.embed_batch_size, threads=settings.threads)
    raise WhyrecError(f"unknown embedder {settings.embedder!r}: use all-MiniLM-L6-v2 or hashing")


@contextlib.contextmanager
def embed_engine(
    settings: Settings, kind: str = "local", workers: int = 1, ray_address: str | None = None
) -> Iterator[EmbedEngine | None]:
    """Where `whyrec index` embeds: None (the embedder in this process) or a RayEngine of `workers` actors that
    share this machine's threads (or run on the cluster at `ray_address`), Ray started and stopped around the use."""
    if kind == "local":
        if workers != 1 or ray_address is not None:
            raise WhyrecError("--workers and --ray-address go with --engine ray (a local build embeds in one process)")
        yield None
        return
    if kind != "ray":
        raise WhyrecError(f"--engine must be local or ray, not {kind!r}")
    from whyrec.retrieval.ray_embed import RayEngine

    probe = make_embedder(settings)
    engine = RayEngine(
        functools.partial(make_embedder, settings), probe.name, probe.dim, workers, settings.threads, ray_address
    )
    with engine:
        yield engine


def ensure_index(catalogue: Path, path: Path, embedder: Embedder, what: str | None = None) -> Path:
    """The index of `catalogue` at `path`: built when missing, or again when the catalogue, the embedder or the index
    format changed since it was built."""
    try:
        manifest = read_manifest(path)
        current = (
            manifest.format_version == FORMAT_VERSION
            and manifest.embedder == embedder.name
            and manifest.catalogue_sha256 == catalogue_sha256(catalogue)
        )
    except (IndexNotFoundError, IndexMismatchError):
        current = False
    if not current:
        print(f"Building {what or f'the index of {catalogue}'} in {path}…", file=sys.stderr)
        build_index(catalogue, path, embedder)
    return path


def ensure_demo_index(settings: Settings, embedder: Embedder) -> Path:
    """The demo index, built on first use (see ensure_index)."""
    return ensure_index(demo_catalogue(), settings.demo_index, embedder, what="the demo index (first use, about 20 s)")


def open_knowledge(settings: Settings, embedder: Embedder) -> KnowledgeIndex:
    path = settings.index if settings.index is not None else ensure_demo_index(settings, embedder)
    return open_index(path, embedder)


def make_llm(settings: Settings) -> LlamaCppLLM:
    """The local model named by the settings; nothing is loaded until its first call."""
    return LlamaCppLLM(
        settings.model,
        ModelStore(settings.home),
        n_ctx=settings.n_ctx,
        n_threads=settings.llm_threads,
        n_gpu_layers=settings.gpu_layers,
        temperature=settings.temperature,
        seed=settings.seed,
        prefix_dir=settings.home / "prefix",
    )


def make_composer(settings: Settings, llm: LLM | None = None) -> Composer:
    if settings.composer == "extractive":
        return ExtractiveComposer()
    prompts = [load_prompt(version) for version in settings.prompt_versions]
    return LLMComposer(
        llm or make_llm(settings), prompts, max_tokens=settings.max_tokens, max_claims=settings.max_claims
    )


def make_explainer(
    settings: Settings, llm: LLM | None = None, embedder: Embedder | None = None, stored: bool = True
) -> Explainer:
    """The explain pipeline: `llm` replaces the configured model (a FakeLLM in tests), `embedder` the configured
    embedder (one already loaded). With `stored`, what users told whyrec in feedback applies to their reasons
    (`whyrec explain`, batch, the service); an evaluation leaves it out, so that its numbers depend on no local
    state."""
    embedder = embedder or make_embedder(settings)
    index = open_knowledge(settings, embedder)
    profiles = AspectProfiler.of(index.store, index.vocabulary)
    retriever = make_retriever(settings, index, embedder, profiles)
    fallback = ExtractiveComposer() if settings.fallback and settings.composer == "llm" else None
    checker = make_checker(settings, embedder)
    lookup = StoredPreferences(settings.feedback_db) if stored else None
    composer = make_composer(settings, llm)
    return Explainer(
        index, retriever, composer, checker, fallback=fallback, profiles=profiles, stored=lookup, reask=settings.reask
    )


def make_retriever(
    settings: Settings, index: KnowledgeIndex, embedder: Embedder, profiles: AspectProfiler, k: int | None = None
) -> PairRetriever:
    """The pair retriever: ranked item evidence and history, with whyrec's signals when `settings.signals`."""
    aspects = profiles.phrase if settings.aspect_retrieval else None
    signals = None
    if settings.signals:
        from whyrec.knowledge.sentiment import polarity

        signals = SignalMaker(index.store, profiles.vocabulary, profiles.mentions, polarity).for_pair
    justify = JustificationProbe.load().score if settings.justify and settings.embedder != "hashing" else None
    return PairRetriever(
        index,
        embedder,
        k=k or settings.k,
        history_k=settings.history_k,
        aspects=aspects,
        signals=signals,
        justify=justify,
    )


def make_recommender(settings: Settings, index: KnowledgeIndex | None = None) -> BaselineRecommender:
    """The baseline recommender over the configured index (or one already open, such as an explainer's)."""
    return BaselineRecommender(index or open_knowledge(settings, make_embedder(settings)), alpha=settings.rec_alpha)


def make_concierge(settings: Settings, reader: str | None = None, explain: bool = False) -> Concierge:
    """`whyrec ask`: requests read by `reader` (llm: the model, checked; rules; default: llm when the composer is the
    model), the shopper over the configured index with the recommender for a user's taste, and with `explain` the
    explain pipeline on the same index and model."""
    reader = reader or ("llm" if settings.composer == "llm" else "rules")
    if reader not in ("llm", "rules"):
        raise WhyrecError(f"--reader must be llm or rules, not {reader!r}")
    llm = make_llm(settings) if "llm" in (reader, settings.composer) else None
    embedder = make_embedder(settings)
    explainer = make_explainer(settings, llm, embedder) if explain else None
    index = explainer.index if explainer is not None else open_knowledge(settings, embedder)
    shopper = Shopper(index, embedder, BaselineRecommender(index, alpha=settings.rec_alpha))
    if llm is not None and reader == "llm":
        model = llm
        return Concierge(shopper, lambda text, brands: read_with_model(model, text, brands), explainer)
    return Concierge(shopper, read_rules, explainer)


def make_profiler(settings: Settings) -> AspectProfiler:
    """Aspect profiles of users over the configured index."""
    index = open_knowledge(settings, make_embedder(settings))
    return AspectProfiler.of(index.store, index.vocabulary)


def make_checker(settings: Settings, embedder: Embedder | None = None) -> RuleChecker:
    """The rule checker with the configured thresholds file; the embedder backs claims in other words."""
    return RuleChecker(settings.thresholds, embedder=embedder)


def make_auditor(settings: Settings, k: int = 16) -> Auditor:
    embedder = make_embedder(settings)
    index = open_knowledge(settings, embedder)
    retriever = make_retriever(settings, index, embedder, AspectProfiler.of(index.store, index.vocabulary), k=k)
    return Auditor(index, retriever, make_checker(settings, embedder), k=k)


def make_chat(settings: Settings, llm: LLM | None = None) -> Chat:
    """Chat sessions over the explain pipeline (same model, same checker), keeping feedback in the feedback store."""
    from whyrec.agent.chat import Chat

    return Chat(make_explainer(settings, llm), feedback=FeedbackStore(settings.feedback_db))


def model_readiness(settings: Settings) -> tuple[bool, str]:
    """Whether the configured model file is in place (without loading it), and which model that is."""
    if settings.composer == "extractive":
        return True, "none (extractive composer)"
    store = ModelStore(settings.home)
    if settings.model in REGISTRY:
        status = store.status(REGISTRY[settings.model])
        return status.installed_parts == len(status.spec.parts), f"{settings.model}: {status.state}"
    path = Path(settings.model).expanduser()
    return path.is_file(), f"{path}: {'present' if path.is_file() else 'missing'}"


def make_service(settings: Settings, llm: LLM | None = None, embedder: Embedder | None = None) -> Service:
    """Everything `whyrec serve` serves: one explainer (one model) behind chat, with an auditor and feedback."""
    try:
        from whyrec.service.core import Service
    except ImportError as exc:
        raise DependencyMissingError(f"the service needs FastAPI: pip install 'whyrec[serve]' ({exc})") from None
    from whyrec.agent.chat import Chat
    from whyrec.service.sessions import SessionStore

    explainer = make_explainer(settings, llm, embedder)
    auditor = Auditor(explainer.index, explainer.retriever, explainer.checker)
    feedback = FeedbackStore(settings.feedback_db)
    return Service(
        chat=Chat(explainer, feedback=feedback),
        auditor=auditor,
        feedback=feedback,
        sessions=SessionStore(settings.max_sessions, settings.session_ttl),
        model_ready=(lambda: (True, llm.name)) if llm is not None else (lambda: model_readiness(settings)),
        request_timeout=settings.request_timeout or None,
    )
