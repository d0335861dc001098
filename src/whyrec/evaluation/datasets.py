"""Labelled grounding sets as one record shape: a text to check, its evidence, and whether it is consistent.

- `product`: hand-written product-domain claims (eval/data/product_claims), cited, with the pair's evidence units.
- `product-generated`: claims generated from templates and single edits (eval/data/products), same record shape.
- `summedits`: SummEdits (Laban et al. 2023), four domains; the "evaluation" split is dev, "test" is test.
- `magazine`: claims about Magazine Subscriptions items in a catalogue of reviews alone (eval/data/magazine_claims),
  written by annotators from a fixed brief; a category nothing is tuned on, so test only.
- `probes`: true/broken claim pairs of named kinds (eval/data/probes): the test pairs on unused items, and a dev split
  written from the same brief on gift cards that are dev items of the product sets (the rules are tuned on it).
- `wice`: WiCE (Kamoi et al. 2023) claim-level entailment, dev file; held out entirely (never calibrated on).

Test files are frozen: `eval/data/frozen.json` holds a fingerprint of each (its claims, labels and evidence texts);
`fingerprint` computes it, and a test fails when a file no longer matches.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from whyrec.knowledge.split import split_sentences
from whyrec.schema import Claim, Evidence

Split = Literal["dev", "test"]
DATASETS = ("product", "product-generated", "magazine", "probes", "summedits", "wice")
SUMMEDITS_DOMAINS = ("news", "podcast", "qmsumm", "sales_email")
# The SummEdits domains whose dev split calibrates the thresholds; the others are domains calibration never saw.
SUMMEDITS_CALIBRATION = ("news", "sales_email")
TEST_ONLY = ("magazine", "wice")
# Product-set items of this category calibrate nothing: it is the category the checker is measured on unseen.
UNSEEN_CATEGORY = "Magazine Subscriptions"
# WiCE evidence comes with Wikipedia-style metadata lines; they are context, not claims' support.
_WICE_META = "(meta data)"


@dataclass(frozen=True)
class Case:
    dataset: str
    id: str
    split: Split
    text: str  # the reason, summary or claim to check
    evidence: list[Evidence]
    consistent: bool
    kind: str = ""  # how the case was made (product set: true_spec, wrong_number, …; SummEdits: edit type)
    claims: list[Claim] = field(default_factory=list)  # given claims with citations (product set); else split text
    item_id: str = ""  # the product a product-set claim is about


def default_shared() -> Path:
    return Path(os.environ.get("WHYREC_SHARED_DATA", Path.cwd().parent / "shared" / "data"))


def default_product() -> Path:
    return Path(os.environ.get("WHYREC_PRODUCT_CLAIMS", Path.cwd() / "eval" / "data" / "product_claims"))


def default_generated() -> Path:
    return Path.cwd() / "eval" / "data" / "products"


def data_root() -> Path:
    return Path.cwd() / "eval" / "data"


_FOLDERS = {"magazine": "magazine_claims", "probes": "probes"}


def fingerprint(path: Path) -> str:
    """sha256 of what a labelled file says: each row's id, item, user, claim, citations, label and kind, and the
    ids and texts of its evidence (not fields a loader may add to evidence later, such as a sentence's context)."""
    digest = hashlib.sha256()
    for row in _jsonl(path):
        kept = {k: row.get(k) for k in ("id", "item_id", "user_id", "claim", "cites", "label", "kind")}
        kept["evidence"] = [[u["id"], u["text"]] for u in row.get("evidence", [])]
        digest.update(json.dumps(kept, sort_keys=True, ensure_ascii=False).encode() + b"\n")
    return digest.hexdigest()


def category_of(case: Case) -> str:
    """The product's category, from its seller category unit ("" when the catalogue has none)."""
    unit = next((e for e in case.evidence if e.kind == "spec" and e.field == "category"), None)
    return unit.text.removeprefix("Category:").strip() if unit else ""


def demo_items(root: Path | None = None) -> frozenset[str]:
    """The items of the bundled demo catalogue: the rules were read against them, so they are never test items."""
    meta = (root or Path.cwd() / "data" / "demo") / "meta_Gift_Cards.jsonl"
    return frozenset(str(row["asin"]) for row in _jsonl(meta))


def _jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def _document(text: str, source: str) -> list[Evidence]:
    return [
        Evidence(id=f"s{i}", item_id="", kind="description", text=s, source_ref=f"{source}#s{i}", score=0.0, rank=i)
        for i, s in enumerate(split_sentences(text), start=1)
    ]


def product_cases(root: Path, split: Split, name: str = "product") -> list[Case]:
    cases = []
    for row in _jsonl(root / f"{split}.jsonl"):
        claim_text = str(row["claim"])
        evidence = [Evidence(**u, score=0.0, rank=i) for i, u in enumerate(row["evidence"], start=1)]
        claim = Claim(text=claim_text, cites=list(row["cites"]), span=(0, len(claim_text)))
        cases.append(
            Case(
                name,
                str(row["id"]),
                split,
                claim_text,
                evidence,
                row["label"] == "supported",
                str(row["kind"]),
                [claim],
                str(row["item_id"]),
            )
        )
    return cases


def summedits_cases(root: Path, split: Split) -> list[Case]:
    wanted = "evaluation" if split == "dev" else "test"
    cases = []
    for domain in SUMMEDITS_DOMAINS:
        path = root / "grounding" / "summedits" / f"summedits_{domain}.jsonl"
        for row in _jsonl(path):
            if row["split"] != wanted:
                continue
            kinds = ",".join(row["edit_types"]) or "original"
            cases.append(
                Case(
                    f"summedits/{domain}",
                    str(row["id"]),
                    split,
                    str(row["summary"]),
                    _document(str(row["doc"]), str(row["id"])),
                    row["label"] == 1,
                    kinds,
                )
            )
    return cases


def wice_cases(root: Path) -> list[Case]:
    path = root / "grounding" / "wice" / "entailment_retrieval_claim_dev.jsonl"
    cases = []
    for row in _jsonl(path):
        meta = row["meta"]
        sentences = [str(s) for s in row["evidence"] if not str(s).startswith(_WICE_META)]
        evidence = [
            Evidence(id=f"s{i}", item_id="", kind="description", text=s, source_ref=f"wice#{i}", score=0.0, rank=i)
            for i, s in enumerate(sentences, start=1)
            if s.strip()
        ]
        cases.append(
            Case(
                "wice",
                str(meta["id"]),
                "test",
                str(row["claim"]),
                evidence,
                row["label"] == "supported",
                str(row["label"]),
            )
        )
    return cases


def load(dataset: str, split: Split, shared: Path | None = None, product: Path | None = None) -> list[Case]:
    """The cases of one data set and split; FileNotFoundError names what is missing."""
    shared = shared or default_shared()
    if dataset in ("product", "product-generated"):
        roots = {"product": product or default_product(), "product-generated": default_generated()}
        cases = product_cases(roots[dataset], split, dataset)
        if split == "dev":
            return cases
        # both sets are calibrated on: a test item must not be a dev item of the other set
        other = roots["product-generated" if dataset == "product" else "product"]
        dev = other / "dev.jsonl"
        seen = {str(row["item_id"]) for row in _jsonl(dev)} if dev.exists() else set()
        return [c for c in cases if c.item_id not in seen]
    if dataset in _FOLDERS:
        folder = data_root() / _FOLDERS[dataset]
        return product_cases(folder, split, dataset) if (folder / f"{split}.jsonl").exists() else []
    if dataset == "summedits":
        return summedits_cases(shared, split)
    if dataset == "wice":
        return wice_cases(shared) if split == "test" else []
    raise ValueError(f"unknown data set {dataset!r}; choose from {', '.join(DATASETS)}")
