"""`whyrec eval grounding` (and eval/grounding.py): load the data sets, run the checker and the baseline, print and
save the reports."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from rich.console import Console
from rich.table import Table

from whyrec.checker.config import load_thresholds
from whyrec.checker.engine import RuleChecker
from whyrec.config import Settings
from whyrec.errors import WhyrecError
from whyrec.evaluation.datasets import DATASETS, Case, Split, load
from whyrec.evaluation.grounding import EmbeddingBaseline, Report, evaluate
from whyrec.files import write_atomic


def run_record() -> dict[str, object]:
    """Which code on which machine, and when: enough to tell whether a figure is older than the code it describes."""
    import datetime
    import os
    import platform
    import subprocess

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False, timeout=10
        ).stdout.strip()
        dirty = bool(
            subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True,
                           check=False, timeout=10).stdout.strip()
        )  # fmt: skip
    except OSError:
        commit, dirty = "", False
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "git_commit": commit + ("+uncommitted" if dirty else ""),
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version()},
    }


def package_versions(packages: tuple[str, ...]) -> dict[str, str]:
    """The installed version of each package ("not installed" when it is not)."""
    from importlib import metadata

    versions = {}
    for package in packages:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def datasets(
    names: list[str], split: Split, shared: Path | None, product: Path | None, limit: int | None
) -> dict[str, list[Case]]:
    """The cases of each named data set; a missing file is a one-line error."""
    loaded: dict[str, list[Case]] = {}
    for name in names:
        if name not in DATASETS:
            raise WhyrecError(f"unknown data set {name!r}; choose from {', '.join(DATASETS)}")
        try:
            cases = load(name, split, shared=shared, product=product)
        except FileNotFoundError as exc:
            raise WhyrecError(f"data set {name}: {exc.filename} not found (see --shared / --product)") from None
        loaded[name] = cases[:limit] if limit else cases
    return loaded


def table(reports: list[Report]) -> Table:
    grid = Table(
        "data set",
        "split",
        "cases",
        "claims",
        "checker BA",
        "lexical BA",
        "baseline BA",
        "recall ok",
        "recall broken",
        "claims/s",
        "lexical claims/s",
        box=None,
        header_style="bold",
    )
    for r in reports:
        grid.add_row(
            r.dataset,
            r.split,
            str(r.cases),
            str(r.claims),
            f"{r.balanced_accuracy:.1f}",
            f"{r.lexical_balanced_accuracy:.1f}",
            f"{r.baseline_balanced_accuracy:.1f}",
            f"{r.recall_consistent:.1f}",
            f"{r.recall_inconsistent:.1f}",
            f"{r.claims_per_second:,.0f}",
            f"{r.claims_per_second_lexical:,.0f}",
        )
    return grid


def rule_table(report: Report) -> Table:
    grid = Table("deciding rule", "ok→accepted", "ok→rejected", "broken→rejected", "broken→accepted", box=None)
    for rule, cells in report.by_rule.items():
        grid.add_row(
            rule,
            *(
                str(cells.get(c, 0))
                for c in ("consistent→accepted", "consistent→rejected", "broken→rejected", "broken→accepted")
            ),
        )
    return grid


def run_grounding(
    names: list[str],
    split: Split,
    shared: Path | None,
    product: Path | None,
    limit: int | None,
    out_file: Path | None,
    console: Console,
    settings: Settings,
) -> list[Report]:
    from whyrec.factory import make_embedder

    loaded = datasets(names, split, shared, product, limit)
    thresholds = load_thresholds(settings.thresholds)
    # one core: the checker is single-threaded Python, and the embedder is held to one thread
    embedder = make_embedder(settings.model_copy(update={"threads": 1}))
    embedder.embed(["warm up"])  # load the model before the clock starts
    checker = RuleChecker(thresholds, embedder=embedder)
    baseline = EmbeddingBaseline(embedder)
    lexical = RuleChecker(thresholds)
    reports = evaluate(loaded, checker, baseline, thresholds.baseline, lexical=lexical)
    console = Console(width=max(console.width, 150), file=console.file, highlight=False)
    console.print(table(reports))
    for report in reports:
        if "/" not in report.dataset:
            console.print(f"\n[bold]{report.dataset}[/bold] ({report.split}): verdicts by the rule that decided them")
            console.print(rule_table(report))
    console.print(
        f"\nchecker {checker.name}; thresholds calibrated on {', '.join(thresholds.calibrated_on) or 'nothing yet'}; "
        f"baseline: every sentence's best cosine ≥ {thresholds.baseline:.3f} (calibrated on the same dev data)"
    )
    if out_file is not None:
        payload = {
            "run": run_record(),
            "checker": checker.name,
            "thresholds": thresholds.model_dump(),
            "reports": [asdict(r) for r in reports],
        }
        write_atomic(out_file, json.dumps(payload, indent=2) + "\n")
    return reports
