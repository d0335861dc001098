"""Justification quality: does an evidence sentence say something about the item, or is it chatter?

A logistic-regression probe on all-MiniLM-L6-v2 sentence vectors, trained by `eval/justify/train.py` on the
justification labels of Ni, Li & McAuley (2019): Yelp review EDUs (elementary discourse units) marked "True" when they
could justify a recommendation ("They have tasty house sausages.") and "False" when they say nothing useful about
the business ("I sent this to my sister.", "5/5/16 - Not open !"). The weights ship in `justify-v1.json` beside
this module, with the figures it reached on the dev and test splits and the sha256 of the file it was trained on.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from whyrec.errors import ModelError, WhyrecError

DEFAULT_WEIGHTS = "justify-v1.json"

Metrics = dict[str, float | int | None]


class TrainedOn(BaseModel):
    """Which file the weights were fitted to, so a figure can be traced to its data."""

    model_config = ConfigDict(extra="forbid")

    file: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    rows: int = Field(gt=0)


class ProbeFile(BaseModel):
    """The shipped JSON: weights, the decision threshold picked on dev, and the figures of every method compared."""

    model_config = ConfigDict(extra="forbid")

    version: str
    embedder: str
    weights: list[float] = Field(min_length=1)
    bias: float
    threshold: float = Field(gt=0, lt=1)
    l2: float = Field(gt=0)
    trained_on: TrainedOn
    dev: dict[str, Metrics] = Field(description="Method name ('probe', 'majority', 'length') -> its dev figures.")
    test: dict[str, Metrics] = Field(description="The same methods on test, evaluated once.")

    @field_validator("weights")
    @classmethod
    def _finite(cls, weights: list[float]) -> list[float]:
        if not all(np.isfinite(weights)):
            raise ValueError("holds a NaN or an infinity")
        return weights


class JustificationProbe:
    """Scores how well a sentence could justify a recommendation; a higher score means it says something about
    the item.

    Takes vectors from `SentenceTransformerEmbedder` (all-MiniLM-L6-v2, L2-normalised, 384 dims): the weights mean
    nothing on any other embedder's vectors.
    """

    def __init__(self, spec: ProbeFile):
        self.spec = spec
        self.weights: npt.NDArray[np.float64] = np.asarray(spec.weights, dtype=np.float64)
        self.bias = spec.bias
        self.threshold = spec.threshold

    @property
    def dim(self) -> int:
        return int(self.weights.shape[0])

    @classmethod
    def load(cls, path: Path | None = None) -> JustificationProbe:
        """The probe in `path`, or the packaged one; a missing or damaged file is a WhyrecError naming it."""
        where = str(path) if path is not None else f"whyrec/retrieval/{DEFAULT_WEIGHTS} (packaged)"
        try:
            if path is None:
                text = resources.files("whyrec.retrieval").joinpath(DEFAULT_WEIGHTS).read_text(encoding="utf-8")
            else:
                text = path.read_text(encoding="utf-8")
            return cls(ProbeFile.model_validate(json.loads(text)))
        except OSError as exc:
            raise ModelError(f"{where}: cannot read the justification probe: {exc.strerror or exc}") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ModelError(f"{where}: the justification probe is not valid JSON ({exc}); reinstall whyrec") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            field = ".".join(str(part) for part in first["loc"]) or "file"
            raise ModelError(
                f"{where}: the justification probe is damaged: {field}: {first['msg']}; reinstall whyrec"
            ) from None

    def score(self, vectors: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
        """The probability, per row, that the sentence justifies a recommendation (sigmoid of v·w + b)."""
        matrix = np.asarray(vectors, dtype=np.float64)
        if matrix.ndim != 2 or matrix.shape[1] != self.dim:
            raise WhyrecError(
                f"the justification probe takes (n, {self.dim}) vectors from {self.spec.embedder}, got shape "
                f"{matrix.shape}"
            )
        logits = matrix @ self.weights + self.bias
        # sigmoid written through tanh: no overflow warning for large |logit|
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * logits)), dtype=np.float64)

    def justifies(self, vectors: npt.NDArray[np.floating]) -> npt.NDArray[np.bool_]:
        """True where the score reaches the threshold picked on the dev split."""
        return self.score(vectors) >= self.threshold
