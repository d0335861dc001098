"""The test splits are frozen and clean: each matches its recorded fingerprint, none holds a demo-catalogue item,
and the calibration reads no test row, no magazine item and no SummEdits domain held out of it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from whyrec.evaluation.datasets import (
    SUMMEDITS_CALIBRATION,
    SUMMEDITS_DOMAINS,
    TEST_ONLY,
    Case,
    demo_items,
    fingerprint,
    load,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "eval" / "data"
FROZEN = json.loads((DATA / "frozen.json").read_text(encoding="utf-8"))["files"]


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_a_frozen_test_split_still_has_its_recorded_fingerprint(name: str) -> None:
    assert fingerprint(DATA / name) == FROZEN[name], f"{name} changed; see eval/data/frozen.json"


@pytest.mark.parametrize("name", sorted(FROZEN))
def test_no_test_split_holds_an_item_of_the_demo_catalogue(name: str) -> None:
    with (DATA / name).open(encoding="utf-8") as handle:
        items = {json.loads(line)["item_id"] for line in handle if line.strip()}
    assert not items & demo_items(ROOT / "data" / "demo")


def test_the_fingerprint_changes_when_a_label_changes(tmp_path: Path) -> None:
    source = (DATA / "probes" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    row = json.loads(source[0])
    row["label"] = "contradicted" if row["label"] != "contradicted" else "supported"
    changed = tmp_path / "test.jsonl"
    changed.write_text("\n".join([json.dumps(row), *source[1:]]) + "\n", encoding="utf-8")
    assert fingerprint(changed) != FROZEN["probes/test.jsonl"]


def test_calibration_reads_gift_card_dev_items_and_its_summedits_domains_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT / "eval"))
    sys.modules.pop("calibrate", None)
    from calibrate import calibrates  # type: ignore[import-not-found]

    product = load("product", "dev")
    kept = [c for c in product if calibrates(c)]
    assert kept and all("Magazine" not in e.text for c in kept for e in c.evidence if e.field == "category")
    assert len(kept) < len(product)  # the magazine dev items are left out
    for name in TEST_ONLY:
        assert load(name, "dev") == []
    assert set(SUMMEDITS_CALIBRATION) < set(SUMMEDITS_DOMAINS)
    for domain in SUMMEDITS_DOMAINS:
        case = Case(f"summedits/{domain}", "x", "dev", "A summary.", [], True)
        assert calibrates(case) == (domain in SUMMEDITS_CALIBRATION)
