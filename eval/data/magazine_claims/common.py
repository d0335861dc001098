"""The magazine claim set's evidence: Magazine Subscriptions reviews loaded by whyrec as a catalogue of reviews only
(no product metadata), and the units one claim's pair gets."""

from __future__ import annotations

import os
import tempfile
from importlib import util
from pathlib import Path

from whyrec.knowledge.catalogue import load_catalogue
from whyrec.knowledge.split import split_catalogue
from whyrec.schema import EvidenceUnit

REVIEWS = "Magazine_Subscriptions_5.jsonl"


def _product_claims() -> object:
    """eval/data/product_claims/build.py, whose `Units` picks one claim's evidence: the same rule serves both sets."""
    spec = util.spec_from_file_location(
        "product_claims_build", Path(__file__).resolve().parents[1] / "product_claims" / "build.py"
    )
    if spec is None or spec.loader is None:
        raise ImportError("eval/data/product_claims/build.py")
    module = util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_SHARED = _product_claims()
Units = _SHARED.Units  # type: ignore[attr-defined]
MAX_REVIEW_UNITS: int = _SHARED.MAX_REVIEW_UNITS  # type: ignore[attr-defined]


def load_units(shared: Path) -> list[EvidenceUnit]:
    """The category's evidence units through whyrec's own loader, from the review file alone."""
    source = (shared / "amazon" / REVIEWS).resolve()
    if not source.is_file():
        raise FileNotFoundError(f"missing source data: {source}")
    with tempfile.TemporaryDirectory(prefix="whyrec-magazine-claims-") as tmp:
        os.symlink(source, Path(tmp) / REVIEWS)
        return split_catalogue(load_catalogue(tmp))
