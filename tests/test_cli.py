"""The CLI through Typer's runner: output shapes, exit codes, one-line errors without tracebacks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DEMO, DEMO_PAIRS, write_jsonl
from whyrec.cli import app
from whyrec.retrieval.index import FORMAT_VERSION

runner = CliRunner()


@pytest.fixture(autouse=True)
def extractive_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the CLI's shape; the LLM path has its own tests below and in test_llm_explain.py."""
    monkeypatch.setenv("WHYREC_COMPOSER", "extractive")


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_explain_prints_reason_with_markers_and_cited_evidence(demo_index_dir: Path) -> None:
    user, item = DEMO_PAIRS[1]
    code, out, _ = run("explain", "--user", user, "--item", item, "--index", str(demo_index_dir))
    assert code == 0
    assert "Olive Garden Gift Card costs $50.00.[1][2]" in out
    assert "[1] Olive Garden Gift Card" in out and f"seller · {item}:spec:title" in out
    assert "checked: " in out


def test_explain_without_a_user_explains_to_a_new_shopper(demo_index_dir: Path) -> None:
    item = DEMO_PAIRS[0][1]
    code, out, err = run("explain", "--item", item, "--composer", "extractive", "--index", str(demo_index_dir))
    assert code == 0, err
    assert "for a new shopper?" in out and "(you)" not in out


def test_explain_json_is_an_explanation_record(demo_index_dir: Path) -> None:
    user, item = DEMO_PAIRS[0]
    code, out, _ = run("explain", "--user", user, "--item", item, "--index", str(demo_index_dir), "--json", "--k", "6")
    assert code == 0
    record = json.loads(out)
    assert record["status"] == "ok" and len(record["evidence"]) == 6 and record["manifest"]["k"] == 6
    assert {"user_id", "item_id", "reason", "claims", "verdicts", "evidence", "manifest"} <= set(record)


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [("--user", "nobody", "unknown user 'nobody'"), ("--item", "B000000000", "unknown item 'B000000000'")],
)
def test_unknown_ids_exit_2_with_one_line(demo_index_dir: Path, flag: str, value: str, message: str) -> None:
    user, item = DEMO_PAIRS[0]
    args = {"--user": user, "--item": item, flag: value}
    code, out, err = run("explain", *[x for kv in args.items() for x in kv], "--index", str(demo_index_dir))
    assert code == 2 and out == ""
    assert err.strip().count("\n") == 0 and message in err and "Traceback" not in err


def test_index_then_explain_on_a_catalogue_of_ones_own(tmp_path: Path) -> None:
    out_dir = tmp_path / "idx"
    code, out, _ = run("index", str(DEMO), "--out", str(out_dir), "--embedder", "hashing")
    assert code == 0 and "Indexed 50 products, 1935 reviews" in out
    assert (out_dir / "manifest.json").exists() and (out_dir / "vectors.npy").exists()


def test_index_of_missing_catalogue_exits_2(tmp_path: Path) -> None:
    code, _, err = run("index", str(tmp_path / "nope"), "--out", str(tmp_path / "idx"))
    assert code == 2 and "nope: no such file or directory" in err and not (tmp_path / "idx").exists()


def test_strict_index_names_file_and_line_and_keeps_the_old_index(tmp_path: Path) -> None:
    catalogue = tmp_path / "cat"
    shutil.copytree(DEMO, catalogue)
    out_dir = tmp_path / "idx"
    assert run("index", str(catalogue), "--out", str(out_dir), "--embedder", "hashing")[0] == 0
    before = (out_dir / "manifest.json").read_text()
    write_jsonl(catalogue / "more_reviews.jsonl", [{"reviewerID": "U", "asin": "B00AR51Y5I", "overall": "five"}])
    code, _, err = run("index", str(catalogue), "--out", str(out_dir), "--embedder", "hashing", "--strict")
    assert code == 2 and "more_reviews.jsonl:1: field 'overall'" in err and "Traceback" not in err
    assert (out_dir / "manifest.json").read_text() == before
    code, _, err = run("index", str(catalogue), "--out", str(out_dir), "--embedder", "hashing")
    assert code == 0 and "skipped 1 bad lines" in err


def test_index_built_with_another_embedder_asks_to_reindex(tmp_path: Path) -> None:
    assert run("index", str(DEMO), "--out", str(tmp_path / "idx"), "--embedder", "hashing")[0] == 0
    user, item = DEMO_PAIRS[0]
    code, _, err = run("explain", "--user", user, "--item", item, "--index", str(tmp_path / "idx"))
    assert code == 2 and "re-run `whyrec index" in err


def test_explain_without_index_builds_the_demo_index_on_first_use_then_reuses_it(
    demo_index_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHYREC_HOME", str(tmp_path / "home"))
    user, item = DEMO_PAIRS[2]
    code, out, err = run("explain", "--user", user, "--item", item)
    assert code == 0 and "Building the demo index" in err and "[1]" in out
    manifest = (tmp_path / "home" / "demo-index" / "manifest.json").read_text()
    code, _, err = run("explain", "--user", user, "--item", item)
    assert code == 0 and "Building" not in err
    assert (tmp_path / "home" / "demo-index" / "manifest.json").read_text() == manifest
    # an index of an older format (history units were built differently) is rebuilt, not refused
    path = tmp_path / "home" / "demo-index" / "manifest.json"
    path.write_text(manifest.replace(f'"format_version": {FORMAT_VERSION}', '"format_version": 1'))
    code, out, err = run("explain", "--user", user, "--item", item)
    assert code == 0 and "Building the demo index" in err and "[1]" in out
    assert f'"format_version": {FORMAT_VERSION}' in path.read_text()


def test_index_refuses_to_replace_a_directory_that_is_not_an_index(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = run("index", str(DEMO), "--out", str(tmp_path / "mine"), "--embedder", "hashing")
    assert code == 2 and "is not a whyrec index; refusing to overwrite it" in err
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_models_lists_the_three_packaged_models_and_their_state() -> None:
    code, out, _ = run("models")
    assert code == 0
    for name in ("qwen2.5-1.5b", "qwen2.5-0.5b", "smollm2-135m"):
        assert name in out
    assert "1,117 MB" in out and "whyrec models install NAME" in out


def test_explain_with_the_real_tiny_model_records_it_in_the_manifest(
    demo_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHYREC_COMPOSER", "llm")
    user, item = DEMO_PAIRS[1]
    args = ("explain", "--user", user, "--item", item, "--index", str(demo_index_dir), "--model", "smollm2-135m")
    code, out, _ = run(*args, "--json")
    assert code == 0
    record = json.loads(out)
    if record["fallback"] is None:  # the tiny model may fail twice at JSON; then the fallback says so
        model = record["manifest"]["model"]
        assert model["name"] == "smollm2-135m" and model["prompt_version"] == "explain-v4"
        assert model["sha256"].startswith("b179c952") and model["settings"]["seed"] == 0
    retrieved = {e["id"] for e in record["evidence"]}
    assert all(set(c["cites"]) <= retrieved for c in record["claims"])


def test_a_missing_model_file_falls_back_and_says_so(demo_index_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WHYREC_COMPOSER", "llm")
    user, item = DEMO_PAIRS[1]
    args = ("explain", "--user", user, "--item", item, "--index", str(demo_index_dir), "--model", "/nope/m.gguf")
    code, out, _ = run(*args)
    assert code == 0 and "fallback: /nope/m.gguf: model file not found" in out
    assert "composer extractive" in out


def test_without_fallback_a_missing_model_is_a_one_line_error(
    demo_index_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WHYREC_COMPOSER", "llm")
    monkeypatch.setenv("WHYREC_FALLBACK", "false")
    user, item = DEMO_PAIRS[1]
    args = ("explain", "--user", user, "--item", item, "--index", str(demo_index_dir), "--model", "/nope/m.gguf")
    code, out, err = run(*args)
    assert code == 2 and out == "" and err.strip() == "error: /nope/m.gguf: model file not found"


def test_a_bad_setting_is_a_one_line_error(demo_index_dir: Path) -> None:
    user, item = DEMO_PAIRS[1]
    code, _, err = run("explain", "--user", user, "--item", item, "--composer", "magic")
    assert code == 2 and "setting 'composer'" in err and "Traceback" not in err


def test_explain_stream_prints_each_accepted_claim_before_the_reason(demo_index_dir: Path) -> None:
    user, item = DEMO_PAIRS[1]
    code, out, err = run(
        "explain",
        "--user",
        user,
        "--item",
        item,
        "--composer",
        "extractive",
        "--stream",
        "--index",
        str(demo_index_dir),
    )
    assert code == 0, err
    told = [line for line in out.splitlines() if line.startswith("✓ ")]
    assert told and told[0].startswith("✓ Olive Garden Gift Card costs $50.00.")
    assert out.index(told[-1]) < out.index("checked: ")


def test_explain_stream_and_json_together_is_one_clear_error(demo_index_dir: Path) -> None:
    code, _, err = run("explain", "--item", DEMO_PAIRS[0][1], "--stream", "--json", "--index", str(demo_index_dir))
    assert code != 0 and "give one of them" in err
