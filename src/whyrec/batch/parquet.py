"""`whyrec batch --out results.parquet`: the rows go to a JSON Lines journal beside it (`results.parquet.jsonl`, the
file a killed run resumes from), and the Parquet file is rewritten from the journal at the end of every run, in one
rename. Parquet cannot be appended to safely, so the journal is the truth and the Parquet file a view of it.

Columns: the pair, the reason, its status, the claims' texts and cited ids, the composer and model, the total time,
and `explanation` (the whole Explanation record as JSON, which reads back with `Explanation.model_validate_json`).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from whyrec.errors import CatalogueError, DependencyMissingError
from whyrec.files import write_atomic
from whyrec.schema import Explanation

SUFFIX = ".parquet"


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() == SUFFIX


def journal_for(path: Path) -> Path:
    """Where the rows of a Parquet output are journalled: `results.parquet` → `results.parquet.jsonl`."""
    return path.with_name(path.name + ".jsonl")


def _pyarrow() -> tuple[Any, Any]:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as exc:
        raise DependencyMissingError(f"Parquet output needs pyarrow: pip install 'whyrec[parquet]' ({exc})") from None
    return pa, pq


def require_pyarrow() -> None:
    """Fail before any work when Parquet was asked for and cannot be written."""
    _pyarrow()


def row(explanation: Explanation) -> dict[str, Any]:
    model = explanation.manifest.model
    return {
        "user_id": explanation.user_id,
        "item_id": explanation.item_id,
        "reason": explanation.reason,
        "status": explanation.status,
        "claims": [claim.text for claim in explanation.claims],
        "cited_ids": [list(claim.cites) for claim in explanation.claims],
        "composer": explanation.manifest.composer,
        "model": model.name if model else None,
        "fallback": explanation.fallback,
        "total_ms": explanation.manifest.timings_ms.get("total"),
        "explanation": explanation.model_dump_json(),
    }


def write_parquet(journal: Path, path: Path) -> int:
    """Rewrite `path` from every line of `journal` (which holds only complete lines); returns the row count."""
    pa, pq = _pyarrow()
    rows = []
    with journal.open("rb") as handle:
        for line_no, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    rows.append(row(Explanation.model_validate_json(line)))
                except ValueError:
                    raise CatalogueError("not an Explanation record", journal, line_no) from None
    schema = pa.schema(
        [
            ("user_id", pa.string()),
            ("item_id", pa.string()),
            ("reason", pa.string()),
            ("status", pa.string()),
            ("claims", pa.list_(pa.string())),
            ("cited_ids", pa.list_(pa.list_(pa.string()))),
            ("composer", pa.string()),
            ("model", pa.string()),
            ("fallback", pa.string()),
            ("total_ms", pa.float64()),
            ("explanation", pa.string()),
        ]
    )
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), buffer)
    write_atomic(path, buffer.getvalue())
    return len(rows)


def read_explanations(path: Path) -> list[Explanation]:
    """The Explanation records of a Parquet output, in file order."""
    _, pq = _pyarrow()
    return [
        Explanation.model_validate(json.loads(text))
        for text in pq.read_table(path, columns=["explanation"])[0].to_pylist()
    ]
