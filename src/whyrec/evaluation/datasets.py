"""Labelled grounding sets as one record shape: a text to check, its evidence, and whether it is consistent.

- `product`: hand-written product-domain claims (eval/data/product_claims), cited, with the pair's evidence units.
- `product-generated`: claims generated from templates and single edits (eval/data/products), same record shape.
- `summedits`: SummEdits (Laban et al. 2023), four domains; the "evaluation" split is dev, "test" is test.
- `wice`: WiCE (Kamoi et al. 2023) claim-level entailment, dev file; held out entirely (never calibrated on).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from whyrec.knowledge.split import split_sentences
from whyrec.schema import Claim, Evidence

Split = Literal["dev", "test"]
DATASETS = ("product", "product-generated", "summedits", "wice")
SUMMEDITS_DOMAINS = ("news", "podcast", "qmsumm", "sales_email")
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
    if dataset == "summedits":
        return summedits_cases(shared, split)
    if dataset == "wice":
        return wice_cases(shared) if split == "test" else []
    raise ValueError(f"unknown data set {dataset!r}; choose from {', '.join(DATASETS)}")
