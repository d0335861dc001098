"""The grounding evaluation: its measures on hand-computed cases, and a short real run on the shared data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED, shared_file
from whyrec.checker import RuleChecker
from whyrec.cli import app
from whyrec.evaluation.datasets import Case, load
from whyrec.evaluation.grounding import balanced_accuracy, best_threshold, report, run_checker
from whyrec.schema import Evidence


def test_balanced_accuracy_is_the_mean_recall_of_both_classes() -> None:
    gold = [True, True, True, False]
    assert balanced_accuracy(gold, [True, True, True, True]) == 50.0  # accept all: 100% and 0%
    assert balanced_accuracy(gold, [True, True, False, False]) == pytest.approx(100 * (2 / 3 + 1) / 2)
    assert balanced_accuracy([True], [True]) == 100.0  # no broken case: that class counts as recalled


def test_best_threshold_maximises_the_mean_over_data_sets() -> None:
    first = [(0.9, True), (0.8, True), (0.3, False)]
    second = [(0.7, True), (0.6, False)]
    assert best_threshold([first, second]) == 0.7


def _doc(*sentences: str) -> list[Evidence]:
    return [
        Evidence(id=f"s{i}", item_id="", kind="description", text=s, source_ref="t", score=0.0, rank=i)
        for i, s in enumerate(sentences, start=1)
    ]


def test_report_counts_confusion_per_deciding_rule_and_per_kind() -> None:
    doc = _doc("The museum opens at 9 am every day.", "Entry costs $12 for adults.")
    cases = [
        Case("toy", "a", "test", "The museum opens at 9 am.", doc, True, "true"),
        Case("toy", "b", "test", "Entry costs $15 for adults.", doc, False, "wrong_number"),
        Case("toy", "c", "test", "The museum does not open at 9 am.", doc, False, "negation"),
        Case("toy", "d", "test", "Entry is free on Sundays.", doc, False, "invented"),
    ]
    outcomes = run_checker(cases, RuleChecker())
    result = report("toy", "test", outcomes, [1.0, 1.0, 1.0, 0.0], 0.5)
    assert result.balanced_accuracy == 100.0 and result.baseline_balanced_accuracy == pytest.approx(
        100 * (1 + 1 / 3) / 2, abs=0.1
    )
    assert result.by_rule["numbers_match"] == {"broken→rejected": 1}
    assert result.by_rule["negation_flip"] == {"broken→rejected": 1}
    assert result.by_kind["wrong_number"] == {"correct": 1} and result.claims == 4


def test_summedits_dev_is_the_evaluation_split_and_test_the_test_split() -> None:
    shared_file("grounding/summedits/summedits_news.jsonl")
    dev, test = load("summedits", "dev", shared=SHARED), load("summedits", "test", shared=SHARED)
    assert {c.id for c in dev}.isdisjoint({c.id for c in test}) and len(dev) + len(test) == 2363
    assert load("wice", "dev", shared=SHARED) == []  # WiCE is held out: never a dev set


def test_eval_grounding_command_prints_and_writes_reports(tmp_path: Path) -> None:
    shared_file("grounding/wice/entailment_retrieval_claim_dev.jsonl")
    out = tmp_path / "grounding.json"
    result = CliRunner().invoke(
        app, ["eval", "grounding", "--datasets", "wice", "--limit", "10", "--shared", str(SHARED), "--out", str(out)]
    )
    assert result.exit_code == 0, result.stderr
    assert "checker BA" in result.stdout and "baseline BA" in result.stdout
    saved = json.loads(out.read_text())
    assert saved["reports"][0]["dataset"] == "wice" and saved["reports"][0]["cases"] == 10


def test_eval_grounding_names_a_missing_data_set_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "grounding", "--datasets", "product", "--product", str(tmp_path)])
    assert result.exit_code == 2 and "dev.jsonl" not in result.stderr and "test.jsonl not found" in result.stderr
    result = CliRunner().invoke(app, ["eval", "grounding", "--datasets", "nope"])
    assert result.exit_code == 2 and "unknown data set 'nope'" in result.stderr


def test_no_product_test_item_is_a_dev_item_of_either_product_set() -> None:
    dev = {c.item_id for name in ("product", "product-generated") for c in load(name, "dev")}
    for name in ("product", "product-generated"):
        test = load(name, "test")
        assert test and not {c.item_id for c in test} & dev
