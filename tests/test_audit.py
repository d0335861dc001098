"""`whyrec audit`: reasons written by any system, checked claim by claim against the pair's evidence."""

from __future__ import annotations

import json
import time
from pathlib import Path

from typer.testing import CliRunner

from conftest import DEMO_PAIRS, write_jsonl
from whyrec.cli import app

runner = CliRunner()
USER, ITEM = DEMO_PAIRS[1]  # Olive Garden Gift Card, $50.00
OTHER_USER, OTHER_ITEM = DEMO_PAIRS[0]


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def audit_json(index: Path, reason: str, *extra: str) -> tuple[int, dict[str, object]]:
    code, out, _ = run(
        "audit", "--user", USER, "--item", ITEM, "--reason", reason, "--index", str(index), "--json", *extra
    )
    return code, json.loads(out)


def labels(record: dict[str, object]) -> list[str]:
    return [v["label"] for v in record["verdicts"]]  # type: ignore[attr-defined, index]


def test_audit_reason_with_citations(demo_index_dir: Path) -> None:
    reason = f"It costs $50 [{ITEM}:spec:price]. It costs $75 [{ITEM}:spec:price]."
    code, record = audit_json(demo_index_dir, reason)
    assert code == 0 and labels(record) == ["supported", "contradicted"]
    assert record["supported"] == 1 and record["grounded"] is False
    contradicted = record["verdicts"][1]  # type: ignore[index]
    assert (
        contradicted["rule"] == "numbers_match" and contradicted["evidence_spans"][0]["unit_id"] == f"{ITEM}:spec:price"
    )


def test_audit_reason_without_citations_uses_the_best_matching_evidence(demo_index_dir: Path) -> None:
    code, record = audit_json(demo_index_dir, "It costs $50. It can be reloaded with a free mobile app.")
    assert code == 0 and labels(record) == ["supported", "unsupported"]


def test_a_citation_of_another_items_evidence_is_invalid(demo_index_dir: Path) -> None:
    code, record = audit_json(demo_index_dir, f"It costs $50 [{OTHER_ITEM}:spec:price].")
    assert code == 0 and labels(record) == ["invalid_citation"]


def test_fail_on_unsupported_exits_1(demo_index_dir: Path) -> None:
    ok = ("audit", "--user", USER, "--item", ITEM, "--index", str(demo_index_dir), "--fail-on-unsupported")
    assert run(*ok, "--reason", f"It costs $50 [{ITEM}:spec:price].")[0] == 0
    assert run(*ok, "--reason", "It is the best gift card ever made.")[0] == 1


def test_audit_table_shows_verdicts_and_rules(demo_index_dir: Path) -> None:
    code, out, _ = run(
        "audit", "--user", USER, "--item", ITEM, "--index", str(demo_index_dir), "--reason", "It costs $75."
    )
    assert code == 0 and "contradicted" in out and "numbers_match" in out and "0 of 1 claims supported" in out


def test_audit_file_of_reasons(demo_index_dir: Path, tmp_path: Path) -> None:
    rows = [
        {"id": "a", "user_id": USER, "item_id": ITEM, "reason": "It costs $50."},
        {"id": "b", "user_id": OTHER_USER, "item_id": OTHER_ITEM, "reason": "It is guaranteed to last forever."},
    ]
    path = write_jsonl(tmp_path / "reasons.jsonl", rows)
    code, out, _ = run("audit", "--file", str(path), "--index", str(demo_index_dir), "--json")
    records = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in records] == ["a", "b"]
    assert [r["grounded"] for r in records] == [True, False]


def test_bad_line_in_the_reasons_file_names_file_line_and_field(demo_index_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "reasons.jsonl"
    path.write_text(json.dumps({"user_id": USER, "item_id": ITEM, "reason": "ok"}) + "\n" + '{"user_id": "x"}\n')
    code, out, err = run("audit", "--file", str(path), "--index", str(demo_index_dir), "--json")
    assert code == 2 and f"{path}:2: field 'item_id'" in err and err.strip().count("\n") == 0
    assert len(out.splitlines()) == 1  # the good line before it was audited and printed


def test_empty_and_overlong_reasons_are_refused_in_one_line(demo_index_dir: Path) -> None:
    base = ("audit", "--user", USER, "--item", ITEM, "--index", str(demo_index_dir))
    code, _, err = run(*base, "--reason", "")
    assert code == 2 and "--reason" in err and "Traceback" not in err
    started = time.perf_counter()
    code, _, err = run(*base, "--reason", "It costs $50. " * 8000)
    assert code == 2 and "at most 20000 characters" in err and time.perf_counter() - started < 5


def test_unknown_user_is_one_line(demo_index_dir: Path) -> None:
    code, _, err = run(
        "audit", "--user", "nobody", "--item", ITEM, "--reason", "x y z.", "--index", str(demo_index_dir)
    )
    assert code == 2 and "unknown user 'nobody'" in err and err.strip().count("\n") == 0
