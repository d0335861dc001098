"""Settings, read once from the environment (prefix WHYREC_) by the composition root in factory.py."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_threads() -> int:
    return max(1, os.cpu_count() or 1)


def physical_cores() -> int:
    """Physical cores (llama.cpp runs no faster on hyper-threads); the logical count where that cannot be read."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return _default_threads()
    cores = set()
    physical = core = ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "physical id":
            physical = value
        elif key == "core id":
            core = value
            cores.add((physical, core))
    return min(len(cores), _default_threads()) if cores else _default_threads()


class Settings(BaseSettings):
    """Every knob whyrec has. Modules receive values from here; they never read env vars themselves."""

    model_config = SettingsConfigDict(env_prefix="WHYREC_", extra="ignore")

    home: Path = Field(default=Path.home() / ".cache" / "whyrec", description="Cache dir: demo index, models.")
    index: Path | None = Field(default=None, description="Index directory; default: the demo index under `home`.")
    k: int = Field(default=8, ge=1, le=100, description="Evidence units retrieved per pair.")
    history_k: int = Field(default=3, ge=0, le=20, description="How many of those may be the user's own history.")
    signals: bool = Field(
        default=True,
        description="Add whyrec's own counts for the pair to its evidence: shoppers in common with an item of the "
        "user's history, per-aspect review consensus, the rating summary (see whyrec.knowledge.signals).",
    )
    justify: bool = Field(
        default=True,
        description="Prefer review sentences that say something about the item (a probe on MiniLM vectors trained "
        "on justification labels; off with the hashing embedder, whose vectors it was not trained on).",
    )
    aspect_retrieval: bool = Field(
        default=False,
        description="Rank a pair's evidence by the user's aspect words too (finds more of what they care about, but "
        "the model's first drafts are supported less often: see the README).",
    )
    embedder: str = Field(default="all-MiniLM-L6-v2", description="`all-MiniLM-L6-v2` or `hashing` (tests).")
    embed_batch_size: int = Field(default=64, ge=1)
    threads: int = Field(default_factory=_default_threads, ge=1, description="CPU threads for models.")
    strict: bool = Field(default=False, description="Fail on the first bad catalogue line instead of skipping it.")

    composer: Literal["llm", "extractive"] = Field(default="llm", description="Who writes the reason.")
    model: str = Field(default="qwen2.5-1.5b", description="A registry model name or a path to a .gguf file.")
    prompt: str = Field(default="explain-v4", description="Prompt version (a file in whyrec/prompts).")
    prompt_variants: str = Field(
        default="",
        description="Prompt versions to A/B by user, comma-separated; empty: `prompt` only.",
    )
    fallback: bool = Field(default=True, description="On a model error, let the extractive composer write it.")
    reask: bool = Field(
        default=False,
        description="Ask the model once more about the claims the checker rejected and whyrec could not mend itself "
        "(on 40 dev pairs none of the 10 claims it rewrote stood, at up to 1.38x the time: see benchmarks/reask.py).",
    )
    thresholds: Path | None = Field(
        default=None, description="Checker thresholds file (default: the packaged, calibrated thresholds-v3.toml)."
    )
    gpu_layers: int = Field(default=0, ge=-1, description="Layers to offload to a GPU build; -1 for all.")
    n_ctx: int = Field(default=4096, ge=512, le=131072, description="llama.cpp context window in tokens.")
    llm_threads: int = Field(default_factory=physical_cores, ge=1, description="llama.cpp threads.")
    temperature: float = Field(default=0.0, ge=0.0, le=2.0, description="0 is greedy and deterministic.")
    seed: int = Field(default=0, ge=0)
    max_claims: int | None = Field(
        default=None, ge=1, le=5, description="Claims the model may write per reason (default: what the prompt asks)."
    )
    max_tokens: int = Field(default=256, ge=32, le=4096, description="Generated tokens per model call.")
    rec_alpha: float = Field(
        default=0.5, ge=0.0, le=1.0, description="Recommender blend: 1 collaborative only, 0 content only."
    )

    # The HTTP service (`whyrec serve`).
    host: str = Field(default="127.0.0.1", description="Address to bind; any but loopback needs api_token.")
    port: int = Field(default=8765, ge=0, le=65535)
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token the API requires (WHYREC_API_TOKEN); required off loopback."
    )
    max_body_bytes: int = Field(default=65536, ge=1024, description="Largest request body accepted (413 above).")
    rate_limit: int = Field(default=120, ge=0, description="Requests per minute per client address; 0 for none.")
    request_timeout: float = Field(
        default=120.0,
        ge=0,
        description="Seconds a request may wait for the model and use it: 503 if it stays busy, 504 past it; 0: none.",
    )
    max_sessions: int = Field(default=1000, ge=1, description="Chat sessions kept; the least recently used go.")
    session_ttl: int = Field(default=3600, ge=60, description="Seconds an idle chat session is kept.")

    @property
    def prompt_versions(self) -> list[str]:
        """The prompt versions in use: the A/B variants if set, else the one prompt."""
        return [v.strip() for v in self.prompt_variants.split(",") if v.strip()] or [self.prompt]

    @property
    def feedback_db(self) -> Path:
        return self.home / "feedback.sqlite"

    @property
    def demo_index(self) -> Path:
        return self.home / "demo-index"
