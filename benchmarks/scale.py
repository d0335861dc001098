"""How whyrec's index layer scales: synthetic catalogues from ../shared/data/amazon at about 10k, 100k and 1M units.

A catalogue of size ×c holds c copies of the shared Amazon 2018 data (Gift Cards and Magazine Subscriptions, reviews
and metadata), each copy with new item and reviewer ids and every text perturbed (one word dropped or doubled, the
title numbered), so no two copies embed alike; a fraction takes the first items of a copy. Per size, with the hashing
embedder (the index layer alone, as issue W2 5/5 measured it):

- build: seconds, units/s, peak RSS of the build process (a child process per build), index size on disk;
- per-pair retrieval: `PairRetriever.for_pair` p50/p95 over random (user, item) pairs, and its search step beside the
  baseline measured in the same run: FAISS `IndexFlatIP` + `IDSelectorBatch` over every vector (what whyrec ran
  before), printed as the baseline's time over whyrec's;
- `ask`: `Shopper.ask` p50 over requests made from review sentences, its search beside an exact scan of every vector;
- global search recall@10 against the exact search, ties counted as ANN benchmarks count them (IVF above 100k units;
  exact below, recall 1 by construction), on needs typed from review words and on moved rows;
- at the largest size: a build killed (SIGKILL) halfway through embedding, resumed, and compared byte for byte with
  the uninterrupted build.
At the smallest size the MiniLM build's embedding throughput is compared with the raw sentence-transformers encoder
on the same texts in the same process, and a MiniLM build on 2 local Ray actors (one thread each) with the local one.

At the largest size, a directory of new items (5% of a copy) is added with `whyrec index --add` (only its units
embedded), and `whyrec explain` runs cold on the grown index and on the smallest one.

Run: .venv/bin/python benchmarks/scale.py [--sizes 0.2,3,32] [--work DIR] [--out benchmarks/results/scale.json]
(about 20 minutes on 2 cores; needs ~10 GB of disk in --work). The plot goes beside the JSON (scale.png).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from whyrec.knowledge.catalogue import file_sha256

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data" / "amazon"
FILES = (
    "Gift_Cards_5.jsonl",
    "meta_Gift_Cards.jsonl",
    "Magazine_Subscriptions_5.jsonl",
    "meta_Magazine_Subscriptions.jsonl",
)
PAIRS = 300
REQUESTS = 60
RECALL_QUERIES = 300


def _perturb(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    if len(words) < 3:
        return text
    at = rng.randrange(len(words))
    return " ".join(words[:at] + words[at + 1 :] if rng.random() < 0.5 else words[: at + 1] + words[at:])


def synthesize(size: float, out: Path, first_copy: int = 0) -> None:
    """Write a catalogue of `size` copies of the shared data into `out` (Amazon 2018 files, same names), the copies
    numbered from `first_copy` (another number: other ids, as a directory added to an index holds)."""
    out.mkdir(parents=True, exist_ok=True)
    rows = {name: [json.loads(line) for line in (SHARED / name).open(encoding="utf-8")] for name in FILES}
    copies, fraction = int(size), size - int(size)
    for name in FILES:
        with (out / name).open("w", encoding="utf-8") as handle:
            for n in range(copies + (1 if fraction else 0)):
                copy = first_copy + n
                rng = random.Random(f"{name}:{copy}")
                keep = _kept_items(rows, fraction if n == copies else 1.0)
                for row in rows[name]:
                    if row["asin"] not in keep:
                        continue
                    row = dict(row, asin=f"{row['asin']}X{copy}")
                    if "reviewerID" in row:
                        row["reviewerID"] = f"{row['reviewerID']}X{copy}"
                        if row.get("reviewText"):
                            row["reviewText"] = _perturb(row["reviewText"], rng)
                    elif row.get("title"):
                        row["title"] = f"{row['title']} no. {copy + 1}"
                        row["description"] = [_perturb(d, rng) for d in row.get("description") or []]
                    handle.write(json.dumps(row) + "\n")


def _kept_items(rows: dict[str, list[dict[str, Any]]], fraction: float) -> set[str]:
    items = sorted({r["asin"] for name in FILES for r in rows[name]})
    return set(items[: max(1, round(fraction * len(items)))])


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def child_build(catalogue: Path, out: Path, mode: str) -> None:
    """In a child process: build (`hashing`, `minilm`, `minilm-ray`: MiniLM on 2 Ray actors) or add the directory
    `catalogue` to the index `out` (`add`), time each stage, report JSON on stdout; for `minilm`, also the raw
    encoder on the same texts."""
    import functools

    from whyrec.retrieval import HashingEmbedder, SentenceTransformerEmbedder, add_to_index, build_index
    from whyrec.retrieval.index import STORE_FILE

    embedder = HashingEmbedder() if mode in ("hashing", "add") else SentenceTransformerEmbedder()
    if isinstance(embedder, SentenceTransformerEmbedder):
        embedder.embed(["warm up"])  # the model load is not the build's throughput
    stages: dict[str, float] = {}
    marks: list[tuple[str, float]] = []

    class Timer:
        def stage(self, name: str, total: int, done: int = 0) -> None:
            marks.append((name, time.perf_counter()))

        def advance(self, n: int) -> None:
            pass

    started = time.perf_counter()
    if mode == "add":
        manifest = add_to_index(out, catalogue, embedder, progress=Timer())
    elif mode == "minilm-ray":
        from whyrec.retrieval.ray_embed import RayEngine

        make = functools.partial(SentenceTransformerEmbedder, threads=1)
        with RayEngine(make, embedder.name, embedder.dim, workers=2, cores=2) as engine:
            started = time.perf_counter()  # Ray's start is not the build's
            manifest = build_index(catalogue, out, embedder, progress=Timer(), engine=engine)
    else:
        manifest = build_index(catalogue, out, embedder, progress=Timer())
    ended = time.perf_counter()
    for (name, at), (_, after) in zip(marks, [*marks[1:], ("end", ended)], strict=True):
        stages[name.split(" with ")[0]] = round(after - at, 3)
    result: dict[str, Any] = {
        "units": manifest.count,
        "embedded": manifest.embedded,
        "seconds": round(ended - started, 3),
        "stages": stages,
        "peak_rss_mb": round(_peak_rss_mb(), 1),
    }
    if mode != "hashing":
        result["build_embedding_units_per_s"] = round((manifest.embedded or 0) / stages["embedding"], 1)
    if mode == "minilm" and isinstance(embedder, SentenceTransformerEmbedder):
        import sqlite3

        db = sqlite3.connect(out / STORE_FILE)
        texts = [row[0] for row in db.execute("SELECT text FROM units ORDER BY rowid")]
        db.close()
        model = embedder._load()
        began = time.perf_counter()
        model.encode(texts, batch_size=embedder.batch_size, normalize_embeddings=True, show_progress_bar=False)
        raw = time.perf_counter() - began
        result["raw_encoder_units_per_s"] = round(len(texts) / raw, 1)
    print(json.dumps(result))


def explain_cold(index: Path, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """`whyrec explain --json` in a new process per pair (the default 1.5B model, the hashing embedder the index was
    built with): what a shop's user waits for on a catalogue of this size."""
    seconds, statuses = [], []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "WHYREC_EMBEDDER": "hashing"}
    whyrec = str(Path(sys.executable).with_name("whyrec"))
    for user, item in pairs:
        began = time.perf_counter()
        answer = subprocess.run(
            [whyrec, "explain", "--index", str(index), "--user", user, "--item", item, "--json"],
            capture_output=True,
            text=True,
            env=env,
        )
        seconds.append(time.perf_counter() - began)
        if answer.returncode != 0:
            raise RuntimeError(f"explain failed on {index}: {answer.stderr.strip()}")
        statuses.append(json.loads(answer.stdout)["status"])
    return {
        "pairs": len(pairs),
        "p50_s": round(statistics.median(seconds), 2),
        "max_s": round(max(seconds), 2),
        "statuses": statuses,
    }


def _explain_pairs(index: Path, n: int) -> list[tuple[str, str]]:
    from whyrec.retrieval import HashingEmbedder, open_index

    opened = open_index(index, HashingEmbedder())
    reviewed = opened.store.reviewed_pairs(min_other_items=2)
    opened.close()
    rng = random.Random(3)
    return rng.sample(reviewed, n)


def _build(catalogue: Path, out: Path, embedder: str = "hashing") -> dict[str, Any]:
    answer = subprocess.run(
        [sys.executable, __file__, "child-build", str(catalogue), str(out), embedder],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    return dict(json.loads(answer.stdout.strip().splitlines()[-1]))


def _killed_then_resumed(catalogue: Path, out: Path) -> dict[str, Any]:
    """Start a build, SIGKILL it once half the vectors are written, run it again; time the resumed run."""
    process = subprocess.Popen(
        [sys.executable, __file__, "child-build", str(catalogue), str(out), "hashing"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    killed_at = None
    while process.poll() is None:
        partial = list(out.parent.glob(f".{out.name}.build-*/vectors.npy"))
        written = _rows_written(partial[0]) if partial else None
        if written is not None and written[1] >= written[0] // 2:
            process.send_signal(signal.SIGKILL)
            process.wait()
            killed_at = written[1]
            break
        time.sleep(0.05)
    if killed_at is None:
        raise RuntimeError("the build finished before it could be killed; use a larger size")
    resumed = _build(catalogue, out)
    return {
        "killed_after_rows": int(killed_at),
        "resumed_seconds": resumed["seconds"],
        "resumed_stages": resumed["stages"],
    }


def _rows_written(path: Path) -> tuple[int, int] | None:
    """(rows announced, whole rows written) of a vectors file being written, or None before its header is."""
    try:
        with path.open("rb") as handle:
            np.lib.format.read_magic(handle)
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
            start = handle.tell()
            return int(shape[0]), (path.stat().st_size - start) // (int(shape[1]) * dtype.itemsize)
    except (OSError, ValueError):
        return None


def _spread(ms: list[float]) -> dict[str, float]:
    ordered = sorted(ms)
    return {"p50": round(statistics.median(ordered), 3), "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3)}


def measure_queries(index_dir: Path) -> dict[str, Any]:
    """Per-pair retrieval, its search step and the old FAISS baseline, `ask`, and global recall@10."""
    import faiss

    from whyrec.recommend.ask import SEARCH_UNITS, Shopper
    from whyrec.recommend.request import ShoppingRequest
    from whyrec.retrieval import HashingEmbedder, PairRetriever, open_index
    from whyrec.retrieval.ann import IvfSearch, perturbed_rows
    from whyrec.retrieval.ann import recall as ann_recall
    from whyrec.retrieval.vectors import exact_search

    embedder = HashingEmbedder()
    index = open_index(index_dir, embedder)
    store, vectors = index.store, index.vectors
    rng = random.Random(0)
    users, items = store.user_ids(), store.item_ids()
    pairs = [(rng.choice(users), rng.choice(items)) for _ in range(PAIRS)]
    retriever = PairRetriever(index, embedder)

    for_pair_ms = []
    for user, item in pairs:
        began = time.perf_counter()
        retriever.for_pair(user, item)
        for_pair_ms.append((time.perf_counter() - began) * 1000)
    cases = []
    for user, item in pairs:
        query = retriever.user_profile(user, exclude_item=item)
        if query is not None:
            cases.append((query, store.item_unit_rowids(item, exclude_user=user)))
    search_ms = []
    for query, among in cases:
        began = time.perf_counter()
        vectors.search(query, 32, among=among)
        search_ms.append((time.perf_counter() - began) * 1000)
    flat = faiss.IndexIDMap2(faiss.IndexFlatIP(vectors.dim))
    for start in range(0, vectors.count, 65_536):
        stop = min(start + 65_536, vectors.count)
        flat.add_with_ids(vectors.rows(start, stop), np.arange(start + 1, stop + 1, dtype=np.int64))
    baseline_ms = []
    for query, among in cases:
        began = time.perf_counter()
        params = faiss.SearchParameters()
        params.sel = faiss.IDSelectorBatch(np.asarray(among, dtype=np.int64))
        flat.search(query.reshape(1, -1), min(32, len(among)), params=params)
        baseline_ms.append((time.perf_counter() - began) * 1000)
    del flat

    texts = store.unit_texts("review")
    requests = [" ".join(rng.choice(texts).split()[:6]) for _ in range(REQUESTS)]
    shopper = Shopper(index, embedder)
    shopper.ask(ShoppingRequest(text=requests[0], need=requests[0]))  # loads the IVF index (once per process)
    ask_ms, ask_search_ms, exact_ms = [], [], []
    for text in requests:
        began = time.perf_counter()
        shopper.ask(ShoppingRequest(text=text, need=text))
        ask_ms.append((time.perf_counter() - began) * 1000)
    for text in requests:
        query = embedder.embed([text])[0]
        began = time.perf_counter()
        vectors.search(query, SEARCH_UNITS)
        ask_search_ms.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        exact_search(vectors, query, SEARCH_UNITS)
        exact_ms.append((time.perf_counter() - began) * 1000)

    recall: dict[str, float] = {}
    text_queries = embedder.embed([" ".join(rng.choice(texts).split()[:6]) for _ in range(RECALL_QUERIES)])
    for name, queries in (
        ("perturbed rows", perturbed_rows(vectors, RECALL_QUERIES, seed=1)),
        ("review words", text_queries),
    ):
        found = [ann_recall(vectors.search(q, 10), exact_search(vectors, q, 10)) for q in queries]
        recall[name] = round(float(np.mean(found)), 4)
    ivf = vectors.global_search if isinstance(vectors.global_search, IvfSearch) else None
    result = {
        "for_pair_ms": _spread(for_pair_ms),
        "pair_search_ms": _spread(search_ms),
        "pair_search_baseline_ms": _spread(baseline_ms),
        "pair_search_speedup": round(statistics.median(baseline_ms) / statistics.median(search_ms), 2),
        "ask_ms": _spread(ask_ms),
        "ask_search_ms": _spread(ask_search_ms),
        "ask_search_exact_ms": _spread(exact_ms),
        "ask_search_speedup": round(statistics.median(exact_ms) / statistics.median(ask_search_ms), 2),
        "global_search": "exact" if ivf is None else ivf.params.kind,
        "recall_at_10": recall,
        "nprobe": None if ivf is None else ivf.params.nprobe,
    }
    index.close()
    return result


def _disk_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20, 1)


def _machine() -> dict[str, Any]:
    from whyrec.evaluation.run import package_versions, run_record

    return {"run": run_record(), "packages": package_versions(("numpy", "faiss-cpu", "sentence-transformers", "ray"))}


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["sizes"]
    units = [s["units"] for s in sizes]
    panels = (
        ("build, units/s (hashing)", [s["build"]["units"] / s["build"]["seconds"] for s in sizes]),
        ("build peak RSS, MB", [s["build"]["peak_rss_mb"] for s in sizes]),
        ("for_pair p50, ms", [s["queries"]["for_pair_ms"]["p50"] for s in sizes]),
        ("ask p50, ms", [s["queries"]["ask_ms"]["p50"] for s in sizes]),
    )
    figure, axes = plt.subplots(1, 4, figsize=(16, 3.6))
    for axis, (title, values) in zip(axes, panels, strict=True):
        axis.plot(units, values, marker="o", label="the whole call" if "p50" in title else None)
        axis.set_xscale("log")
        axis.set_title(title)
        axis.set_xlabel("evidence units")
        axis.grid(alpha=0.3)
    baseline = [s["queries"]["pair_search_baseline_ms"]["p50"] for s in sizes]
    axes[2].plot(units, baseline, marker="x", linestyle="--", label="old: FAISS flat + id selector (search only)")
    axes[2].plot(
        units, [s["queries"]["pair_search_ms"]["p50"] for s in sizes], marker="s", label="gather (search only)"
    )
    axes[2].legend(fontsize=7)
    exact = [s["queries"]["ask_search_exact_ms"]["p50"] for s in sizes]
    axes[3].plot(units, exact, marker="x", linestyle="--", label="exact scan of every vector (search only)")
    axes[3].plot(units, [s["queries"]["ask_search_ms"]["p50"] for s in sizes], marker="s", label="whyrec (search only)")
    axes[3].legend(fontsize=7)
    run = results["run"]
    figure.suptitle(
        f"whyrec index scale ({run['git_commit'][:12]}, {run['machine']['cores']} cores, {run['date'][:10]})"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0.2,3,32", help="copies of the shared data (0.2 ≈ 11k units)")
    parser.add_argument("--work", type=Path, default=Path.home() / ".cache" / "whyrec" / "scale")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.json")
    parser.add_argument("--no-minilm", action="store_true", help="skip the MiniLM builds at the smallest size")
    parser.add_argument("--explain-pairs", type=int, default=3, help="cold explains at the smallest and largest size")
    args = parser.parse_args()
    sizes = [float(s) for s in args.sizes.split(",")]
    results: dict[str, Any] = {**_machine(), "sizes": []}
    smallest_index: Path | None = None
    for size in sizes:
        work = args.work / f"x{size:g}"
        shutil.rmtree(work, ignore_errors=True)
        catalogue, out = work / "catalogue", work / "index"
        synthesize(size, catalogue)
        print(f"×{size:g}: building", file=sys.stderr, flush=True)
        build = _build(catalogue, out)
        entry: dict[str, Any] = {
            "copies": size,
            "units": build["units"],
            "catalogue_mb": _disk_mb(catalogue),
            "build": build,
            "index_mb": _disk_mb(out),
            "vectors_mb": round((out / "vectors.npy").stat().st_size / 2**20, 1),
        }
        print(f"×{size:g}: {build['units']:,} units in {build['seconds']} s; querying", file=sys.stderr, flush=True)
        entry["queries"] = measure_queries(out)
        if size == sizes[0]:
            smallest_index = out
            if not args.no_minilm:
                print(f"×{size:g}: MiniLM builds, local and on 2 Ray actors", file=sys.stderr, flush=True)
                minilm = _build(catalogue, work / "index-minilm", "minilm")
                on_ray = _build(catalogue, work / "index-minilm-ray", "minilm-ray")
                local_vectors = np.load(work / "index-minilm" / "vectors.npy")
                ray_vectors = np.load(work / "index-minilm-ray" / "vectors.npy")
                entry["minilm"] = {
                    **minilm,
                    "build_over_raw": round(
                        minilm["build_embedding_units_per_s"] / minilm["raw_encoder_units_per_s"], 3
                    ),
                }
                entry["minilm_ray"] = {
                    **on_ray,
                    "same_units": _unit_ids(work / "index-minilm") == _unit_ids(work / "index-minilm-ray"),
                    "max_abs_difference": float(np.abs(local_vectors - ray_vectors).max()),
                }
        if size == sizes[-1]:
            print(f"×{size:g}: kill and resume", file=sys.stderr, flush=True)
            resumed = work / "resumed"
            entry["resume"] = _killed_then_resumed(catalogue, resumed)
            entry["resume"]["vectors_equal"] = file_sha256(resumed / "vectors.npy") == file_sha256(out / "vectors.npy")
            shutil.rmtree(resumed, ignore_errors=True)
            print(f"×{size:g}: --add of new items", file=sys.stderr, flush=True)
            synthesize(0.05, work / "added", first_copy=1000)
            entry["add"] = _build(work / "added", out, "add")
            if args.explain_pairs and smallest_index is not None:
                print("cold explains at the smallest and the largest size", file=sys.stderr, flush=True)
                results["explain_cold"] = {
                    "smallest": explain_cold(smallest_index, _explain_pairs(smallest_index, args.explain_pairs)),
                    "largest": explain_cold(out, _explain_pairs(out, args.explain_pairs)),
                }
        results["sizes"].append(entry)
        if size != sizes[0]:
            shutil.rmtree(work, ignore_errors=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")  # after each size
    shutil.rmtree(args.work / f"x{sizes[0]:g}", ignore_errors=True)
    first, last = results["sizes"][0], results["sizes"][-1]
    results["targets"] = {
        "for_pair_p50_ratio_largest_to_smallest": round(
            last["queries"]["for_pair_ms"]["p50"] / first["queries"]["for_pair_ms"]["p50"], 2
        ),
        "for_pair_p50_largest_ms": last["queries"]["for_pair_ms"]["p50"],
        "recall_at_10_largest": last["queries"]["recall_at_10"],
        "ask_p50_largest_ms": last["queries"]["ask_ms"]["p50"],
        "build_peak_rss_over_vectors_mb_largest": round(last["build"]["peak_rss_mb"] - last["vectors_mb"], 1),
    }
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    plot(results, args.out.with_suffix(".png"))
    print(json.dumps(results["targets"], indent=2))


def _unit_ids(index: Path) -> list[str]:
    import sqlite3

    db = sqlite3.connect(index / "store.sqlite")
    try:
        return [row[0] for row in db.execute("SELECT id FROM units ORDER BY rowid")]
    finally:
        db.close()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child-build":
        child_build(Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4])
    else:
        main()
