"""The HTTP service under load on loopback, beside the same calls made in-process, in the same run.

The pipeline behind both is the real one (FAISS, MiniLM, the rule checker) with the FakeLLM, so the figures are
the service's own cost (HTTP, JSON, the shared lock, sessions), not the model's. Baseline: the same request mix run
by direct Python calls, one after another, after one warm-up pass. Ratios: p50 latency over HTTP one request at a
time / in-process; throughput at concurrency N / in-process (requests per second over the whole run). With a real
model each explain/chat request adds its generation time (see benchmarks/explain.py), and the lock makes them queue.

Run: .venv/bin/python benchmarks/service.py [--requests 300] [--concurrency 8] [--out benchmarks/results/service.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from whyrec.config import Settings
from whyrec.factory import demo_catalogue, make_service
from whyrec.llm.fake import FakeLLM
from whyrec.service.app import create_app
from whyrec.service.server import BackgroundServer

Request = tuple[str, str, dict[str, str] | None]


def request_mix(n: int, pairs: list[tuple[str, str]]) -> list[Request]:
    """One in three each: an explanation, a chat turn, a user view."""
    mix: list[Request] = []
    for k in range(n):
        user, item = pairs[k % len(pairs)]
        if k % 3 == 0:
            mix.append(("POST", "/v1/explain", {"user_id": user, "item_id": item}))
        elif k % 3 == 1:
            mix.append(("POST", "/v1/chat", {"user_id": user, "item_id": item, "message": "what about the design?"}))
        else:
            mix.append(("GET", f"/v1/users/{user}", None))
    return mix


def percentiles(milliseconds: list[float]) -> dict[str, float]:
    ordered = sorted(milliseconds)
    return {
        "p50_ms": round(statistics.median(ordered), 1),
        "p95_ms": round(ordered[max(0, int(0.95 * len(ordered)) - 1)], 1),
    }


def timed(calls: list[Callable[[], Any]], concurrency: int) -> tuple[list[float], float]:
    def run(call: Callable[[], Any]) -> float:
        started = time.perf_counter()
        call()
        return (time.perf_counter() - started) * 1000

    started = time.perf_counter()
    if concurrency == 1:
        latencies = [run(call) for call in calls]
    else:
        with ThreadPoolExecutor(concurrency) as pool:
            latencies = list(pool.map(run, calls))
    return latencies, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/service.json"))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home:
        service = make_service(Settings(home=Path(home)), llm=FakeLLM())
        pairs = [tuple(line.split(",")) for line in (demo_catalogue() / "pairs.csv").read_text().split()[1:]]
        mix = request_mix(args.requests, pairs)  # type: ignore[arg-type]
        store = service.chat.store

        def direct(request: Request) -> Callable[[], Any]:
            _, path, body = request
            if path == "/v1/explain" and body:
                return lambda: service.chat.explainer.explain(body["user_id"], body["item_id"])
            if path == "/v1/chat" and body:
                return lambda: service.chat.ask(service.chat.start(body["user_id"], body["item_id"]), body["message"])
            user = path.rsplit("/", 1)[1]
            return lambda: (store.user_items(user), service.chat.explainer.retriever.user_profile(user))

        timed([direct(r) for r in mix], 1)  # warm up: model loads, caches, first queries of every pair
        baseline, baseline_seconds = timed([direct(r) for r in mix], 1)

        app = create_app(service, rate_limit=0)
        with BackgroundServer(app) as url, httpx.Client(base_url=url, timeout=60) as client:

            def over_http(request: Request) -> Callable[[], Any]:
                method, path, body = request
                return lambda: client.request(method, path, json=body).raise_for_status()

            one, one_seconds = timed([over_http(r) for r in mix], 1)
            served, served_seconds = timed([over_http(r) for r in mix], args.concurrency)

    result = {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "in_process": {**percentiles(baseline), "per_second": round(args.requests / baseline_seconds, 1)},
        "http_sequential": {**percentiles(one), "per_second": round(args.requests / one_seconds, 1)},
        "http": {**percentiles(served), "per_second": round(args.requests / served_seconds, 1)},
    }
    result["latency_ratio_p50"] = round(result["http_sequential"]["p50_ms"] / result["in_process"]["p50_ms"], 2)
    result["throughput_ratio"] = round(result["http"]["per_second"] / result["in_process"]["per_second"], 2)
    print(
        f"{args.requests} requests (explain / chat / user view), FakeLLM, one shared pipeline:\n"
        f"  in-process, sequential: {result['in_process']['per_second']} req/s, "
        f"p50 {result['in_process']['p50_ms']} ms, p95 {result['in_process']['p95_ms']} ms\n"
        f"  HTTP, sequential:       {result['http_sequential']['per_second']} req/s, "
        f"p50 {result['http_sequential']['p50_ms']} ms, p95 {result['http_sequential']['p95_ms']} ms\n"
        f"  HTTP, concurrency {args.concurrency}:   {result['http']['per_second']} req/s, "
        f"p50 {result['http']['p50_ms']} ms, p95 {result['http']['p95_ms']} ms\n"
        f"  p50 latency HTTP / in-process (sequential): {result['latency_ratio_p50']}x; "
        f"throughput HTTP at concurrency {args.concurrency} / in-process: {result['throughput_ratio']}x"
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
