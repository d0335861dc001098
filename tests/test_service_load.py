"""A bounded load test on loopback: 300 requests from 8 concurrent clients against a real uvicorn server whose
pipeline uses the FakeLLM (real retrieval and checker). Every request must succeed; p50/p95 are printed."""

from __future__ import annotations

import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from conftest import DEMO_PAIRS
from whyrec.service.app import Service, create_app
from whyrec.service.server import BackgroundServer

REQUESTS = 300
CONCURRENCY = 8


def _requests() -> list[tuple[str, str, dict[str, str] | None]]:
    """A mix of what a page and a recommender send: explanations, chat turns, user views."""
    mix: list[tuple[str, str, dict[str, str] | None]] = []
    for n in range(REQUESTS):
        user, item = DEMO_PAIRS[n % len(DEMO_PAIRS)]
        kind = n % 3
        if kind == 0:
            mix.append(("POST", "/v1/explain", {"user_id": user, "item_id": item}))
        elif kind == 1:
            mix.append(("POST", "/v1/chat", {"user_id": user, "item_id": item, "message": "what about the design?"}))
        else:
            mix.append(("GET", f"/v1/users/{user}", None))
    return mix


def test_300_requests_at_concurrency_8_all_succeed(fake_service: Service) -> None:
    with (
        BackgroundServer(create_app(fake_service, rate_limit=0)) as url,
        httpx.Client(base_url=url, timeout=60) as client,
    ):

        def send(request: tuple[str, str, dict[str, str] | None]) -> tuple[int, float]:
            method, path, body = request
            started = time.perf_counter()
            response = client.request(method, path, json=body)
            return response.status_code, time.perf_counter() - started

        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            results = list(pool.map(send, _requests()))
        elapsed = time.perf_counter() - started

    codes = [code for code, _ in results]
    latencies = sorted(seconds * 1000 for _, seconds in results)
    p50, p95 = statistics.median(latencies), latencies[int(0.95 * len(latencies)) - 1]
    print(
        f"\nload: {len(results)} requests, concurrency {CONCURRENCY}, {elapsed:.1f} s, "
        f"{len(results) / elapsed:.1f} req/s, p50 {p50:.0f} ms, p95 {p95:.0f} ms, errors {sum(c != 200 for c in codes)}"
    )
    assert codes == [200] * REQUESTS
