"""`whyrec eval explain` end to end: sample pairs, run the four systems, write report.md, metrics.json, pairs.jsonl,
PNG plots and a manifest that is enough to repeat the run. Every file is replaced in one rename."""

from __future__ import annotations

import io
import json
import platform
import shlex
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from whyrec import __version__
from whyrec.agent import Explainer, ExtractiveComposer
from whyrec.agent.draft import Usage
from whyrec.checker.config import load_thresholds
from whyrec.config import Settings
from whyrec.errors import DependencyMissingError, WhyrecError
from whyrec.evaluation.explain_eval import (
    PLAIN_PROMPT,
    SYSTEMS,
    FeatureProxy,
    IndependentCheck,
    PairResult,
    Scorer,
    SystemMetrics,
    evaluate_pair,
    plain_composer,
    plain_output,
    read_pairs,
    sample_pairs,
    statistics_note,
    summarise,
)
from whyrec.evaluation.pairwise import PairwiseRow, ShownClaim, write_pairwise
from whyrec.evaluation.run import package_versions, run_record
from whyrec.evaluation.text_metrics import require_dependencies
from whyrec.files import write_atomic
from whyrec.knowledge.sentiment import sentiment_words
from whyrec.llm import LLM
from whyrec.retrieval import Embedder
from whyrec.schema import Claim

PACKAGES = ("llama-cpp-python", "faiss-cpu", "sentence-transformers", "torch", "numpy", "nltk", "rouge-score")
PLOTS = ("quality.png", "text.png", "latency.png")
# The blind reader's files (name → the system whyrec is set against): the plain RAG explainer, and whyrec's own draft.
PAIRWISE = {"pairwise": "llm-unchecked", "pairwise-draft": "whyrec-draft"}


def run_explain_eval(
    settings: Settings,
    out_dir: Path,
    *,
    catalogue: Path | None = None,
    pairs: int = 20,
    seed: int = 0,
    pairs_from: Path | None = None,
    console: Console | None = None,
    llm: LLM | None = None,
    embedder: Embedder | None = None,
) -> list[SystemMetrics]:
    """Evaluate on `pairs` pairs of `catalogue` (indexed into `out_dir/index`; default: the configured or demo index),
    or on the pairs of an earlier run's pairs.jsonl (`pairs_from`), and write the report files into `out_dir`. `llm`
    replaces the configured model (the FakeLLM in tests)."""
    from whyrec.factory import ensure_index, make_embedder, make_explainer

    console = console or Console(stderr=True, highlight=False)
    started, started_at = time.perf_counter(), datetime.now(UTC)
    _check_writable(out_dir)
    _require_extras()  # before the model runs for minutes, not after
    embedder = embedder or make_embedder(settings)
    if catalogue is not None:
        settings = settings.model_copy(update={"index": ensure_index(catalogue, out_dir / "index", embedder)})
    explainer = make_explainer(settings, llm, embedder, stored=False)
    extractive = explainer.with_composer(ExtractiveComposer())
    plain = explainer.with_composer(plain_composer(explainer.composer))
    store = explainer.index.store
    features = FeatureProxy(store.unit_texts("review"), sentiment_words)
    sample = read_pairs(pairs_from, store) if pairs_from is not None else sample_pairs(store, features, pairs, seed)
    threshold = load_thresholds(settings.thresholds).baseline
    scorer = Scorer(
        explainer.checker,
        IndependentCheck(explainer.index, embedder, threshold),
        explainer.profiles.vocabulary,  # the aspects signals and profiles use, the catalogue's kind words known
        lambda item: product.title if (product := store.product(item)) is not None else item,
    )

    results: list[PairResult] = []
    progress = Progress(
        TextColumn("evaluating"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
    )
    with progress:
        task = progress.add_task("pairs", total=2 * len(sample))
        for pair in sample:
            results.append(evaluate_pair(explainer, extractive, scorer, pair))
            progress.advance(task)
        for n, result in enumerate(results):  # after every whyrec call, so that its prompt cache stays warm for them
            results[n] = plain_output(plain, scorer, result)
            progress.advance(task)
    metrics = summarise(results, features.vocabulary)

    manifest = _manifest(settings, explainer, results, seed, pairs, threshold, started_at)
    manifest["seconds"] = round(time.perf_counter() - started, 1)
    write_atomic(out_dir / "pairs.jsonl", "".join(json.dumps(_pair_row(r), ensure_ascii=False) + "\n" for r in results))
    write_atomic(out_dir / "metrics.json", json.dumps(_metrics_json(metrics, results, threshold), indent=2) + "\n")
    write_atomic(out_dir / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    for name, against in PAIRWISE.items():
        write_pairwise(out_dir, [_pairwise_row(r, against) for r in results], seed, name)
    _plots(metrics, out_dir)
    write_atomic(out_dir / "report.md", report_markdown(metrics, results, manifest, threshold, features))
    console.print(summary_table(metrics))
    console.print(f"report: {out_dir / 'report.md'}", markup=False, soft_wrap=True)
    return metrics


def _require_extras() -> None:
    require_dependencies()
    _pyplot()


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise DependencyMissingError(f"the plots need matplotlib: pip install 'whyrec[eval]' ({exc})") from None
    return plt


def _check_writable(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".write-probe"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise WhyrecError(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from None


def _percent(value: float) -> str:
    return f"{100 * value:.1f}"


def _rows(metrics: list[SystemMetrics]) -> list[tuple[str, list[str]]]:
    """(measure, one cell per system), in the order the report shows them."""

    def cells(read: Any) -> list[str]:
        return [read(m) for m in metrics]

    return [
        ("pairs", cells(lambda m: str(m.pairs))),
        ("claims", cells(lambda m: str(m.claims))),
        ("supported by the checker, % of claims", cells(lambda m: _percent(m.checker_supported))),
        ("supported by the independent check, % of claims", cells(lambda m: _percent(m.independent_supported))),
        ("citation precision, %", cells(lambda m: _percent(m.citation_precision))),
        ("abstention, % of pairs", cells(lambda m: _percent(m.abstention))),
        ("USR", cells(lambda m: f"{m.text.usr:.4f}")),
        ("FMR", cells(lambda m: f"{m.text.fmr:.4f}")),
        ("FCR", cells(lambda m: f"{m.text.fcr:.4f}")),
        ("DIV (lower is more diverse)", cells(lambda m: f"{m.text.div:.4f}")),
        ("BLEU-1", cells(lambda m: f"{m.text.bleu1:.2f}")),
        ("BLEU-4", cells(lambda m: f"{m.text.bleu4:.2f}")),
        ("ROUGE-1 F1", cells(lambda m: f"{m.text.rouge1:.2f}")),
        ("ROUGE-2 F1", cells(lambda m: f"{m.text.rouge2:.2f}")),
        ("ROUGE-L F1", cells(lambda m: f"{m.text.rougeL:.2f}")),
        ("latency p50, ms", cells(lambda m: f"{m.latency_p50_ms:,.0f}")),
        ("latency p95, ms", cells(lambda m: f"{m.latency_p95_ms:,.0f}")),
        (
            "generated tokens/s",
            cells(lambda m: "–" if m.tokens_per_second is None else f"{m.tokens_per_second:.1f}"),
        ),
        ("pairs the fallback wrote", cells(lambda m: str(m.fallbacks))),
        *(
            (label, cells(lambda m, key=key, fmt=fmt: fmt(m.informativeness.get(key))))
            for label, key, fmt in _INFORMATIVE
        ),
    ]


def _share_cell(value: float | None) -> str:
    return "–" if value is None else _percent(value)


def _mean_cell(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


# (row label, key of summarise_informativeness, format): does the reason say why this shopper?
_INFORMATIVE: tuple[tuple[str, str, Any], ...] = (
    ("claims per reason", "claims_per_reason", _mean_cell),
    ("reasons with ≥ 2 supported claims, %", "two_supported", _share_cell),
    ("personal link, % of pairs whose history relates", "personal_link", _share_cell),
    ("aspects named per reason", "aspects_per_reason", _mean_cell),
    ("generic claims, % of claims", "generic_claims", _share_cell),
    ("copied first-person anecdotes, % of claims", "copied_anecdote_claims", _share_cell),
    ("copied history lines, % of claims", "copied_history_claims", _share_cell),
    ("reasons with a raw item id, %", "raw_id_reasons", _share_cell),
)


def _pairwise_row(result: PairResult, against: str) -> PairwiseRow:
    """whyrec against another system's reason for the same pair, for the blind reader."""
    whyrec, other = result.outputs["whyrec"], result.outputs[against]
    handles = {unit_id: f"e{n}" for n, unit_id in enumerate(result.evidence_ids, start=1)}

    def shown(claims: list[Claim]) -> tuple[ShownClaim, ...]:
        return tuple(ShownClaim(c.text, tuple(handles.get(i, "?") for i in c.cites)) for c in claims)

    return PairwiseRow(
        key=f"{result.pair.user_id}:{result.pair.item_id}",
        title=result.title,
        evidence=result.evidence,
        system_x="whyrec",
        reason_x=whyrec.text,
        system_y=against,
        reason_y=other.text or "(no claims)",
        claims_x=shown(whyrec.claims),
        claims_y=shown(other.claims),
    )


def summary_table(metrics: list[SystemMetrics]) -> Table:
    grid = Table("measure", *(m.system for m in metrics), box=None, header_style="bold")
    for measure, cells in _rows(metrics):
        grid.add_row(measure, *cells)
    return grid


def report_markdown(
    metrics: list[SystemMetrics],
    results: list[PairResult],
    manifest: dict[str, Any],
    threshold: float,
    features: FeatureProxy,
) -> str:
    model = manifest["model"]
    lines = [
        "# whyrec eval explain",
        "",
        f"{len(results)} user–item pairs of `{manifest['index']['catalogue_root']}`, seed {manifest['seed']}; "
        f"model {model['name']} (sha256 {model['sha256'][:12]}…), prompt {model['prompt_version']}; "
        f"{manifest['seconds']:.0f} s in all. Repeat with:",
        "",
        f"    {manifest['command']}",
        "",
        "| measure | " + " | ".join(m.system for m in metrics) + " |",
        "|---|" + "---:|" * len(metrics),
    ]
    lines += [f"| {measure} | " + " | ".join(cells) + " |" for measure, cells in _rows(metrics)]
    lines += [
        "",
        "![grounding and feature measures](quality.png) ![text measures](text.png) ![latency](latency.png)",
        "",
        "## What the systems and measures are",
        "",
        "- **whyrec**: the model's draft checked by the rule checker, rejected claims mended where whyrec can "
        '(one cited review alone, another citation, a reviewer\'s "I" told as "they", a failing later part cut '
        "off) and otherwise dropped (re-asked once first with `WHYREC_REASK=1`), and weak claims (praise only, a "
        "reviewer's story retold that names no aspect) left out when two others stand; when no claim says what the "
        "item offers, a liked review sentence is quoted; it abstains when nothing is left. **whyrec-draft**: the "
        "same model call's first "
        "draft as it came out (whyrec without its check). **llm-unchecked**: a plain RAG explainer: the same model "
        f"and evidence, prompt {PLAIN_PROMPT} (the model writes every claim, signals and history lines in view), as "
        "it came out. **extractive**: the extractive composer (no model) through the same check.",
        "- **Held out**: each pair's user reviewed the item; that review is the reference text and is never evidence "
        "(retrieval leaves out the user's own review and history entry for the item; the profile comes from their "
        f"other reviews). {statistics_note(results)}.",
        "- **Supported by the checker**: claims the rule checker accepts against the evidence the system was given "
        "(whyrec keeps only those, so it is 100% by construction; the others show what the checker would drop).",
        f"- **Independent check**: a claim counts as supported when its MiniLM embedding has cosine ≥ {threshold:.3f} "
        "with some unit of the item (specs, description, every review but the held-out one) or of the user's "
        "history, whatever it cites. It shares none of the checker's rules; the threshold is the embedding baseline's, "
        "calibrated on the checker's dev data. It credits paraphrase and can be fooled by a close but wrong sentence.",
        "- **Citation precision** (ALCE): a citation of a claim the checker rejects is imprecise; in an accepted claim "
        "it is precise if it supports the claim alone or the other citations do not without it.",
        "- **USR, FMR, FCR, DIV, BLEU, ROUGE** as in PETER/PEPLER, over the reason each system shows (an abstention "
        "is its abstention message). The ground-truth *feature* is a proxy for PETER's Sentires aspects: the "
        f"held-out review's rarest word from a vocabulary of {len(features.vocabulary)} words the catalogue's reviews "
        "use as nouns (after a determiner), that are not opinion words and are found in at least 5 review sentences. "
        "Pairs whose review names none are not sampled.",
        "- **Latency**: wall time per pair; whyrec-draft and llm-unchecked stop after the draft, whyrec adds the "
        "check (and the re-ask, if on). "
        "**Tokens/s**: generated tokens over the seconds inside the model.",
        "",
        "- **Informativeness** (`whyrec.evaluation.informativeness`): a *personal link* is a supported claim that "
        "addresses the shopper and cites their history or a whyrec signal tied to them, among pairs whose evidence "
        "holds such a unit; a *generic* claim has nothing left once the item's title (but for its aspect words), the "
        "catalogue's kind words, stopwords, opinion words and frame words are taken out (whyrec leaves such claims out "
        "of a reason that has two others, so its figure is not independent); a *copied anecdote* speaks in the first "
        "person, or shares a run of 6 tokens with a first-person review sentence it cites and names none of the "
        "catalogue's aspects (whyrec leaves those out by the same test when two others stand); a *copied history "
        "line* repeats one. These are computed, not judged: `pairwise.jsonl` holds whyrec's and llm-unchecked's "
        "reasons for each pair in random order, with the evidence, for a blind reader (brief: "
        "`eval/data/pairwise/BRIEF.md`; key: `pairwise-key.jsonl`; score the judgements with "
        "`eval/pairwise_score.py`); `pairwise-draft.jsonl` (key `pairwise-draft-key.jsonl`) sets "
        "whyrec against its own draft the same way.",
        "",
        "Files: `metrics.json` (these numbers), `pairs.jsonl` (each pair's reference, feature and the four reasons "
        "with their scores), `manifest.json` (versions, model and index digests, settings, the pairs).",
        "",
    ]
    return "\n".join(lines)


def _metrics_json(metrics: list[SystemMetrics], results: list[PairResult], threshold: float) -> dict[str, Any]:
    systems = {}
    for m in metrics:
        row = asdict(m)
        row.pop("system")
        systems[m.system] = row
    return {"pairs": len(results), "independent_threshold": threshold, "systems": systems}


def _pair_row(result: PairResult) -> dict[str, Any]:
    row: dict[str, Any] = asdict(result.pair)
    for system in SYSTEMS:
        output = asdict(result.outputs[system])
        output.pop("system")
        output["claims"] = [{"text": c.text, "cites": list(c.cites)} for c in result.outputs[system].claims]
        output["informativeness"]["aspects"] = sorted(output["informativeness"]["aspects"])
        row[system] = output
    return row


def _manifest(
    settings: Settings,
    explainer: Explainer,
    results: list[PairResult],
    seed: int,
    requested: int,
    threshold: float,
    started_at: datetime,
) -> dict[str, Any]:
    index = explainer.index.manifest
    composer = explainer.composer
    model_run = composer.describe(Usage())
    model = (
        {
            "name": model_run.name,
            "sha256": model_run.sha256,
            "prompt_version": model_run.prompt_version,
            "llm_unchecked_prompt": PLAIN_PROMPT,
            "settings": model_run.settings,
        }
        if model_run is not None
        else {"name": composer.name, "sha256": "-", "prompt_version": "-", "settings": {}}
    )
    return {
        "command": shlex.join(["whyrec", *sys.argv[1:]]) if Path(sys.argv[0]).name == "whyrec" else "(library call)",
        "started_at": started_at.isoformat(timespec="seconds"),
        "run": run_record(),  # git commit, machine (cores, CPU), date
        "whyrec_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": package_versions(PACKAGES),
        "model": model,
        "index": {
            "catalogue_root": index.catalogue_root,
            "catalogue_sha256": index.catalogue_sha256,
            "index_sha256": index.index_sha256,
            "embedder": index.embedder,
        },
        "checker": explainer.checker.name,
        "independent_threshold": threshold,
        "seed": seed,
        "pairs_requested": requested,
        "pairs": [[r.pair.user_id, r.pair.item_id] for r in results],
        "settings": {
            "k": settings.k,
            "history_k": settings.history_k,
            "max_claims": settings.max_claims,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "seed": settings.seed,
            "n_ctx": settings.n_ctx,
            "llm_threads": settings.llm_threads,
            "gpu_layers": settings.gpu_layers,
            "threads": settings.threads,
        },
    }


def _plots(metrics: list[SystemMetrics], out_dir: Path) -> None:
    plt = _pyplot()
    names = [m.system for m in metrics]
    groups = {
        "quality.png": (
            "grounding and features (%, higher is better but for abstention)",
            {
                "checker\nsupported": [100 * m.checker_supported for m in metrics],
                "independent\nsupported": [100 * m.independent_supported for m in metrics],
                "citation\nprecision": [100 * m.citation_precision for m in metrics],
                "abstention": [100 * m.abstention for m in metrics],
                "FMR": [100 * m.text.fmr for m in metrics],
                "USR": [100 * m.text.usr for m in metrics],
            },
        ),
        "text.png": (
            "agreement with the held-out review (%)",
            {
                "BLEU-1": [m.text.bleu1 for m in metrics],
                "BLEU-4": [m.text.bleu4 for m in metrics],
                "ROUGE-1": [m.text.rouge1 for m in metrics],
                "ROUGE-2": [m.text.rouge2 for m in metrics],
                "ROUGE-L": [m.text.rougeL for m in metrics],
            },
        ),
    }
    for file_name, (title, series) in groups.items():
        figure, axes = plt.subplots(figsize=(9, 4))
        width = 0.8 / len(names)
        for k, name in enumerate(names):
            positions = [x + k * width for x in range(len(series))]
            axes.bar(positions, [values[k] for values in series.values()], width, label=name)
        axes.set_xticks([x + width * (len(names) - 1) / 2 for x in range(len(series))], list(series))
        axes.set_title(title)
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
        _save(figure, out_dir / file_name)
        plt.close(figure)
    figure, axes = plt.subplots(figsize=(6, 4))
    axes.boxplot([[max(v, 0.1) for v in m.latencies_ms] for m in metrics], tick_labels=names)
    axes.set_yscale("log")
    axes.set_ylabel("ms per pair (log)")
    axes.set_title("latency per pair")
    _save(figure, out_dir / "latency.png")
    plt.close(figure)


def _save(figure: Any, path: Path) -> None:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    write_atomic(path, buffer.getvalue())
