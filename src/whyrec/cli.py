"""The `whyrec` command line: a thin layer over factory.py and the library."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, ParamSpec, TypeVar

import typer
from rich.console import Console

from whyrec.config import Settings
from whyrec.errors import WhyrecError

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
    return Settings.model_validate({k: v for k, v in overrides.items() if v is not None})


@app.command()
@user_errors
def index(
    catalogue: Annotated[Path, typer.Argument(help="Catalogue directory (Amazon 2018/2023 JSONL, CSV, whyrec JSONL).")],
    out_dir: Annotated[Path, typer.Option("--out", help="Index directory to create or replace.")],
    strict: Annotated[bool, typer.Option(help="Fail on the first bad line instead of skipping it.")] = False,
    embedder: Annotated[str | None, typer.Option(help="all-MiniLM-L6-v2 (default) or hashing.")] = None,
) -> None:
    """Load a catalogue, split it into evidence units and build the store + FAISS index + manifest."""
    from whyrec.factory import make_embedder
    from whyrec.retrieval import build_index

    settings = _settings(embedder=embedder, strict=strict)
    manifest = build_index(catalogue, out_dir, make_embedder(settings), strict=settings.strict)
    report = manifest.load_report
    out.print(
        f"Indexed {report.products} products, {report.reviews} reviews, {report.interactions} interactions "
        f"into {manifest.count} evidence units in {manifest.build_seconds:.1f} s → {out_dir}"
    )
    if report.skipped:
        err.print(f"skipped {report.skipped} bad lines (first: {report.problems[0]}); use --strict to fail on them")
    for what, count in sorted(report.notes.items()):
        err.print(f"note: {count} {what}")


@app.command()
@user_errors
def explain(
    user: Annotated[str, typer.Option("--user", help="User id.")],
    item: Annotated[str, typer.Option("--item", help="Item id of the recommended product.")],
    index_dir: Annotated[
        Path | None, typer.Option("--index", help="Index directory (default: the demo index).")
    ] = None,
    k: Annotated[int | None, typer.Option("--k", min=1, max=100, help="Evidence units to retrieve.")] = None,
    question: Annotated[str | None, typer.Option(help="Rank evidence by this question instead.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Explanation record as JSON.")] = False,
) -> None:
    """Explain why ITEM suits USER, citing evidence for every sentence."""
    from whyrec.factory import make_explainer
    from whyrec.render import render_explanation

    explainer = make_explainer(_settings(index=index_dir, k=k))
    explanation = explainer.explain(user, item, question=question, k=k)
    if as_json:
        sys.stdout.write(explanation.model_dump_json(indent=2) + "\n")
        return
    product = explainer.index.store.product(item)
    out.print(render_explanation(explanation, product.title if product else item))


def main() -> None:
    app()
