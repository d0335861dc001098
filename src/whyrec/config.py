"""Settings, read once from the environment (prefix WHYREC_) by the composition root in factory.py."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _default_threads() -> int:
    return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Every knob whyrec has. Modules receive values from here; they never read env vars themselves."""

    model_config = SettingsConfigDict(env_prefix="WHYREC_", extra="ignore")

    home: Path = Field(default=Path.home() / ".cache" / "whyrec", description="Cache dir: demo index, models.")
    index: Path | None = Field(default=None, description="Index directory; default: the demo index under `home`.")
    k: int = Field(default=12, ge=1, le=100, description="Evidence units retrieved per pair.")
    history_k: int = Field(default=3, ge=0, le=20, description="How many of those may be the user's own history.")
    embedder: str = Field(default="all-MiniLM-L6-v2", description="`all-MiniLM-L6-v2` or `hashing` (tests).")
    embed_batch_size: int = Field(default=64, ge=1)
    threads: int = Field(default_factory=_default_threads, ge=1, description="CPU threads for models.")
    strict: bool = Field(default=False, description="Fail on the first bad catalogue line instead of skipping it.")

    @property
    def demo_index(self) -> Path:
        return self.home / "demo-index"
