"""`whyrec eval explain`: the measures on hand-made cases, then whole runs on the demo catalogue (FakeLLM in-process,
the real tiny GGUF through the CLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import DEMO
from whyrec.checker import RuleChecker
from whyrec.cli import app
from whyrec.config import Settings
from whyrec.evaluation.explain_eval import (
    PLAIN_PROMPT,
    SYSTEMS,
    FeatureProxy,
    IndependentCheck,
    citation_precision,
    sample_pairs,
)
from whyrec.evaluation.explain_report import run_explain_eval
from whyrec.llm.fake import FakeLLM
from whyrec.retrieval import KnowledgeIndex, SentenceTransformerEmbedder
from whyrec.schema import Claim, Evidence

runner = CliRunner()


def unit(uid: str, text: str, kind: str = "review") -> Evidence:
    return Evidence(id=uid, item_id="P", kind=kind, text=text, source_ref="t:1", score=0.0, rank=1)  # type: ignore[arg-type]


EVIDENCE = [
    unit("P:spec:title", "Starbucks Gift Card", kind="spec"),
    unit("P:rev:R1:s1", "My dad loved the card and the red metal tin."),
    unit("P:rev:R2:s1", "Arrived quickly, a great gift for coffee lovers."),
]


def claim(text: str, *cites: str) -> Claim:
    return Claim(text=text, cites=list(cites), span=(0, len(text)))


def test_citation_precision_counts_each_citation_as_alce_does() -> None:
    checker = RuleChecker()
    quote = 'A reviewer wrote: "My dad loved the card and the red metal tin."'
    # one needed citation: precise
    assert citation_precision(checker, [claim(quote, "P:rev:R1:s1")], EVIDENCE) == (1, 1)
    # a second, irrelevant citation on a supported claim: the quote's own unit is precise, the other is not
    assert citation_precision(checker, [claim(quote, "P:rev:R1:s1", "P:rev:R2:s1")], EVIDENCE) == (1, 2)
    # a claim the checker rejects: none of its citations is precise
    assert citation_precision(checker, [claim("The card is made of gold.", "P:rev:R1:s1")], EVIDENCE) == (0, 1)
    # an uncited claim has no citation to count
    assert citation_precision(checker, [claim("A fine card.")], EVIDENCE) == (0, 0)


def test_feature_proxy_keeps_nouns_and_leaves_out_opinion_and_rare_words_and_picks_the_rarest() -> None:
    sentences = ["the battery and the screen"] * 6 + ["the battery is a great one"] * 4 + ["a unique word"]
    sentences += ["we bought it fast"] * 6
    proxy = FeatureProxy(sentences, lambda: {"great": 3.1})
    # "great" is an opinion word, "unique" is in one sentence, "bought" and "fast" never follow a determiner
    assert proxy.vocabulary == ["battery", "screen"]
    assert proxy.feature_of("Great screen, good battery") == "screen"  # 6 sentences against battery's 10
    assert proxy.feature_of("nothing here") is None


def test_independent_check_finds_other_reviews_but_never_the_held_out_one_nor_an_invention(
    demo_index: KnowledgeIndex, embedder: SentenceTransformerEmbedder
) -> None:
    store = demo_index.store
    proxy = FeatureProxy(store.unit_texts("review"), lambda: {})
    # a pair whose held-out review has a first sentence no other review says (typo and all): "This was a CHRISTmas
    # gift my daughter loved the girt card! …" (the sample follows the aspect vocabulary: re-pick on a change of it)
    pair = sample_pairs(store, proxy, 1, seed=4)[0]
    held_out = pair.reference.split(".")[0]
    units = store.units_by_rowid(store.item_unit_rowids(pair.item_id, exclude_user=pair.user_id)).values()
    other = next(u.text for u in units if u.kind == "review")  # another shopper's review of the same item
    check = IndependentCheck(demo_index, embedder, threshold=0.6)
    invented = "The card doubles as a waterproof phone charger."
    # the reference the reason is scored against is no evidence for it
    assert check.supported([held_out, other, invented], pair.user_id, pair.item_id) == [False, True, False]


def test_the_sample_is_the_same_for_a_seed_and_holds_only_reviewed_pairs(demo_index: KnowledgeIndex) -> None:
    store = demo_index.store
    proxy = FeatureProxy(store.unit_texts("review"), lambda: {})
    first, again, other = (sample_pairs(store, proxy, 5, seed) for seed in (0, 0, 1))
    assert first == again and first != other
    for pair in first:
        assert pair.reference == store.review_text(pair.user_id, pair.item_id)
        assert pair.item_id in store.user_items(pair.user_id) and len(store.user_items(pair.user_id)) >= 2


@pytest.fixture(scope="module")
def fake_run(
    demo_index_dir: Path, embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[object]]:
    out = tmp_path_factory.mktemp("eval") / "report"
    settings = Settings(index=demo_index_dir, home=tmp_path_factory.mktemp("home"))
    metrics = run_explain_eval(settings, out, pairs=6, seed=0, llm=FakeLLM(), embedder=embedder)
    return out, list(metrics)


def test_a_run_writes_report_metrics_pairs_plots_and_manifest(fake_run: tuple[Path, list[object]]) -> None:
    out, _ = fake_run
    assert {p.name for p in out.iterdir()} >= {
        "report.md",
        "metrics.json",
        "pairs.jsonl",
        "manifest.json",
        "quality.png",
        "text.png",
        "latency.png",
        "pairwise.jsonl",
        "pairwise-key.jsonl",
        "pairwise-draft.jsonl",
        "pairwise-draft-key.jsonl",
    }
    for png in ("quality.png", "text.png", "latency.png"):
        assert (out / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["pairs"] == 6 and list(metrics["systems"]) == list(SYSTEMS)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["pairs"]) == 6 and manifest["seed"] == 0
    assert manifest["model"]["name"] == "fake" and len(manifest["index"]["index_sha256"]) == 64
    assert manifest["model"]["llm_unchecked_prompt"] == PLAIN_PROMPT != manifest["model"]["prompt_version"]
    assert manifest["packages"]["faiss-cpu"] != "not installed"
    report = (out / "report.md").read_text()
    assert "| supported by the checker, % of claims |" in report
    assert "| whyrec | whyrec-draft | llm-unchecked | extractive |" in report
    assert "| personal link, % of pairs whose history relates |" in report
    informative = metrics["systems"]["whyrec"]["informativeness"]
    assert informative["reasons"] == 6 and 0 <= informative["personal_link"] <= 1
    # the blind reader's files name no system; the keys say which is which: whyrec against the plain RAG explainer,
    # and against its own draft
    for name, against in (("pairwise", "llm-unchecked"), ("pairwise-draft", "whyrec-draft")):
        shown = [json.loads(line) for line in (out / f"{name}.jsonl").read_text().splitlines()]
        assert len(shown) == 6 and not any(against in line for line in map(json.dumps, shown))
        key = [json.loads(line) for line in (out / f"{name}-key.jsonl").read_text().splitlines()]
        assert all({row["a"], row["b"]} == {"whyrec", against} for row in key)
        # every citation is one of the evidence lines the reader sees, whyrec's quoted reviews included
        for row in shown:
            handles = {line.split(" ", 1)[0] for line in row["evidence"]}
            assert all(set(c["cites"]) <= handles for side in ("claims_a", "claims_b") for c in row[side])
    quoted = [json.loads(line)["whyrec"] for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert any(c["text"].startswith('A reviewer wrote: "') for reason in quoted for c in reason["claims"])


def test_a_run_on_the_pairs_of_an_earlier_run_evaluates_the_very_same_pairs(
    fake_run: tuple[Path, list[object]],
    demo_index_dir: Path,
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
) -> None:
    out, _ = fake_run
    settings = Settings(index=demo_index_dir, home=tmp_path / "home")
    run_explain_eval(settings, tmp_path / "again", pairs_from=out / "pairs.jsonl", llm=FakeLLM(), embedder=embedder)

    def pairs(folder: Path) -> list[tuple[str, str, str, str]]:
        rows = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
        return [(r["user_id"], r["item_id"], r["reference"], r["feature"]) for r in rows]

    assert pairs(tmp_path / "again") == pairs(out)


def test_pairs_from_a_file_that_is_not_one_names_the_line(demo_index: KnowledgeIndex, tmp_path: Path) -> None:
    from whyrec.errors import CatalogueError
    from whyrec.evaluation.explain_eval import read_pairs

    user, item = demo_index.store.reviewed_pairs()[0]
    good = json.dumps({"user_id": user, "item_id": item, "reference": "r", "feature": "tin"})
    for lines, message in (
        ([good, '{"user_id": "u"}'], ":2: field 'item_id': not a pair"),
        ([good, "not json"], ":2: not a pair"),
        ([json.dumps({"user_id": "nobody", "item_id": item, "reference": "r", "feature": "x"})], ":1: the catalogue"),
        ([], "no pairs in the file"),
    ):
        path = tmp_path / "pairs.jsonl"
        path.write_text("\n".join(lines))
        with pytest.raises(CatalogueError, match=message):
            read_pairs(path, demo_index.store)


def test_whyrec_keeps_only_checked_claims_and_the_numbers_add_up(fake_run: tuple[Path, list[object]]) -> None:
    out, _ = fake_run
    systems = json.loads((out / "metrics.json").read_text())["systems"]
    rows = [json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()]
    assert len(rows) == 6
    for system in SYSTEMS:
        claims = sum(len(row[system]["claims"]) for row in rows)
        assert systems[system]["claims"] == claims
        supported = sum(row[system]["checker_supported"] for row in rows)
        assert systems[system]["checker_supported"] == pytest.approx(supported / claims)
        assert 0.0 <= systems[system]["independent_supported"] <= 1.0
        assert systems[system]["latency_p95_ms"] >= systems[system]["latency_p50_ms"] > 0
    assert systems["whyrec"]["checker_supported"] == 1.0  # whyrec drops what the checker rejects
    # the FakeLLM takes no time, though
    assert all(row[s]["completion_tokens"] > 0 for row in rows for s in ("whyrec-draft", "llm-unchecked"))
    assert systems["extractive"]["tokens_per_second"] is None and systems["extractive"]["fallbacks"] == 0


def test_no_reason_cites_the_held_out_review(fake_run: tuple[Path, list[object]], demo_index: KnowledgeIndex) -> None:
    out, _ = fake_run
    for row in (json.loads(line) for line in (out / "pairs.jsonl").read_text().splitlines()):
        cited = {c for system in SYSTEMS for claim in row[system]["claims"] for c in claim["cites"]}
        counted = {c for c in cited if ":sig:" in c}  # whyrec's counts for the pair, made per pair, not stored
        assert all(row["item_id"] in c for c in counted)
        cited -= counted
        units = demo_index.store.units_by_id(cited)
        assert len(units) == len(cited)
        assert all(not (u.user_id == row["user_id"] and u.item_id == row["item_id"]) for u in units.values())


def test_the_cli_runs_the_real_tiny_model_on_a_catalogue(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "eval",
            "explain",
            "--catalogue",
            str(DEMO),
            "--pairs",
            "2",
            "--model",
            "smollm2-135m",
            "--prompt",
            "explain-v2",
            "--out",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model"]["name"] == "smollm2-135m" and len(manifest["model"]["sha256"]) == 64
    assert manifest["model"]["prompt_version"] == "explain-v2"
    assert manifest["index"]["catalogue_root"].endswith("demo") and (tmp_path / "index" / "manifest.json").is_file()
    assert "supported by the independent check" in (tmp_path / "report.md").read_text()
    assert "report: " in result.stderr  # after the summary table (its rows wrap at the terminal's width)
    systems = json.loads((tmp_path / "metrics.json").read_text())["systems"]
    assert systems["whyrec"]["tokens_per_second"] > 0 and systems["llm-unchecked"]["tokens_per_second"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--catalogue", str(DEMO), "--index", "x"], "give --catalogue or --index, not both"),
        (["--out", "/proc/whyrec-report"], "--out /proc/whyrec-report: cannot write there"),
        (["--prompt", "explain-v9"], "unknown prompt version 'explain-v9'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    full = ["eval", "explain", *args] + ([] if "--out" in args else ["--out", str(tmp_path)])
    result = runner.invoke(app, full)
    assert result.exit_code == 2 and message in result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr


def test_a_review_whyrec_quotes_from_behind_a_figure_is_among_the_readers_evidence(
    demo_index_dir: Path, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    # the model writes nothing: whyrec's reasons are its figures and, where the evidence allows, a quote, some of them
    # from the reviews an aspect figure counted (not retrieved)
    out = tmp_path / "report"
    settings = Settings(index=demo_index_dir, home=tmp_path / "home")
    empty = json.dumps({"claims": []})
    run_explain_eval(settings, out, pairs=6, seed=0, llm=FakeLLM([empty] * 12), embedder=embedder)
    rows = [json.loads(line) for line in (out / "pairwise.jsonl").read_text().splitlines()]
    quoted = [c for row in rows for side in ("claims_a", "claims_b") for c in row[side] if "wrote: " in c["text"]]
    assert quoted
    for row in rows:
        handles = {line.split(" ", 1)[0] for line in row["evidence"]}
        assert all(set(c["cites"]) <= handles for side in ("claims_a", "claims_b") for c in row[side])
