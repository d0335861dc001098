"""`whyrec batch`: explanations for many user–item pairs into a JSON Lines file that a killed run resumes."""

from whyrec.batch.local import (
    BatchSummary,
    Engine,
    EngineKind,
    InProcessEngine,
    ProcessPoolEngine,
    choose_engine,
    run_batch,
)
from whyrec.batch.output import ResumableOutput
from whyrec.batch.pairs import Pair, PairsFile, read_pairs

__all__ = [
    "BatchSummary",
    "Engine",
    "EngineKind",
    "InProcessEngine",
    "Pair",
    "PairsFile",
    "ProcessPoolEngine",
    "ResumableOutput",
    "choose_engine",
    "read_pairs",
    "run_batch",
]
