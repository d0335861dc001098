"""The checker's thresholds: one versioned TOML file, written by `eval/calibrate.py` from development data only."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_THRESHOLDS = "thresholds-v3.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SupportThresholds(_Section):
    overlap: float = Field(ge=0, le=1)
    overlap_floor: float = Field(ge=0, le=1)
    embedding: float = Field(ge=-1, le=1)
    best_units: int = Field(ge=1)
    synonym: float = Field(
        default=1.0, ge=-1, le=1, description="cosine of word vectors from which an unbacked noun has a synonym cited"
    )


class FlipThresholds(_Section):
    align: float = Field(ge=0, le=1)
    deny: float = Field(ge=0, le=1)


class PolarityThresholds(_Section):
    claim: float = Field(ge=0, le=1)
    mention: float = Field(ge=0, le=1)


class Thresholds(_Section):
    version: str
    calibrated_on: list[str] = Field(default_factory=list)
    calibrated_at: str = ""
    baseline: float = Field(ge=-1, le=1, description="The embedding-similarity baseline's threshold (evaluation only).")
    support: SupportThresholds = Field(description="For evidence about items: specs, reviews, a user's history.")
    support_document: SupportThresholds = Field(description="For plain documents (long prose, often paraphrased).")
    flips: FlipThresholds
    polarity: PolarityThresholds


def load_thresholds(path: Path | None = None) -> Thresholds:
    """The thresholds in `path`, or the packaged ones."""
    if path is None:
        text = resources.files("whyrec.checker").joinpath(DEFAULT_THRESHOLDS).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    return Thresholds.model_validate(tomllib.loads(text))
