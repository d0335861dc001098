"""How long a checked reason takes, per model, on the demo pairs (`data/demo/pairs.csv`), cold and warm, beside raw
llama.cpp on the same prompts, all in one run.

- **cold**: `whyrec explain --json` in a new process per pair (imports, embedder, index, model load included), wall
  time; the static prompt prefix's state is on disk (one process before the timed ones builds it; that first process
  is reported alone as `first_ever_s`).
- **warm**: `Explainer.explain` in this process after one untimed call, wall time, the time until the first checked
  claim is told (`on_claim`: a claim the reason will hold, accepted by the checker) and the manifest's stages.
- **decoding**: the first model call of each warm pair again, from an empty context and with the same token budget:
  raw llama.cpp free generation (no grammar), llama-cpp-python's grammar-bound chat API (what whyrec called before
  W2 3/5), and whyrec's decoder (`whyrec.llm.decode`). Seconds per generated token are compared, since free
  generation stops where it likes.

Every figure comes from this run; results JSON records the git commit, machine and package versions.

Run: .venv/bin/python benchmarks/explain.py [--models qwen2.5-1.5b qwen2.5-0.5b] [--out benchmarks/results/explain.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from explain_table import table  # this directory's README-table formatter

from whyrec.config import Settings
from whyrec.evaluation.run import package_versions, run_record
from whyrec.factory import make_explainer, make_llm
from whyrec.llm.base import ChatMessage, Generation, JsonSchema
from whyrec.llm.llama import LlamaCppLLM
from whyrec.schema import Claim, ClaimVerdict

PAIRS = Path(__file__).resolve().parents[1] / "data" / "demo" / "pairs.csv"
WHYREC = Path(sys.executable).with_name("whyrec")


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def spread(values: Sequence[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(values), 2), "p95": round(percentile(values, 0.95), 2)}


class Recorder:
    """The model, with every call's messages and schema kept (the prompts the decoding comparison replays)."""

    def __init__(self, llm: LlamaCppLLM):
        self.llm = llm
        self.name, self.n_ctx = llm.name, llm.n_ctx
        self.calls: list[tuple[list[ChatMessage], JsonSchema, Generation]] = []

    @property
    def sha256(self) -> str:
        return self.llm.sha256

    def settings(self) -> dict[str, float | int | str]:
        return self.llm.settings()

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        return self.llm.count_tokens(messages)

    def chat(
        self,
        messages: Sequence[ChatMessage],
        schema: JsonSchema,
        max_tokens: int,
        *,
        static: int = 0,
        on_text: Callable[[str], bool] | None = None,
    ) -> Generation:
        generation = self.llm.chat(messages, schema, max_tokens, static=static, on_text=on_text)
        self.calls.append((list(messages), schema, generation))
        return generation


class _Stopwatch:
    """An `on_claim` listener that keeps when the first claim was told."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first: float | None = None

    def __call__(self, claim: Claim, verdict: ClaimVerdict) -> None:
        if self.first is None:
            self.first = time.perf_counter()


def cold(model: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    def run(user: str, item: str) -> tuple[float, dict[str, Any]]:
        started = time.perf_counter()
        done = subprocess.run(
            [str(WHYREC), "explain", "--user", user, "--item", item, "--model", model, "--json"],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "HF_HUB_OFFLINE": "1"},
        )
        return time.perf_counter() - started, json.loads(done.stdout)

    first_ever, _ = run(*pairs[0])  # builds the prefix state if this model and prompt never ran here
    walls, stages, statuses = [], [], []
    for user, item in pairs:
        wall, explanation = run(user, item)
        walls.append(wall)
        stages.append(explanation["manifest"]["timings_ms"])
        statuses.append(explanation["status"])
    return {
        "first_ever_s": round(first_ever, 2),
        "wall_s": spread(walls),
        "inside_s": spread([s["total"] / 1000 for s in stages]),
        "status": statuses,
    }


def warm(settings: Settings, recorder: Recorder, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    explainer = make_explainer(settings, llm=recorder)
    explainer.explain(*pairs[0])  # loads the model and the prefix state: not per-reason cost
    recorder.calls.clear()
    walls, first_claim, stages, calls, prompt, completion, reasons = [], [], [], [], [], [], []
    for user, item in pairs:
        heard = _Stopwatch()
        explanation = explainer.explain(user, item, on_claim=heard)
        walls.append(time.perf_counter() - heard.started)
        first_claim.append((heard.first or time.perf_counter()) - heard.started)
        stages.append(explanation.manifest.timings_ms)
        run = explanation.manifest.model
        assert run is not None
        calls.append(run.calls)
        prompt.append(run.prompt_tokens)
        completion.append(run.completion_tokens)
        reasons.append({"pair": [user, item], "status": explanation.status, "reason": explanation.reason})
    stage_names = sorted({name for s in stages for name in s} - {"total"})
    return {
        "wall_s": spread(walls),
        "first_checked_claim_s": spread(first_claim),
        "stages_ms_p50": {name: round(statistics.median(s.get(name, 0.0) for s in stages), 1) for name in stage_names},
        "calls_mean": round(statistics.mean(calls), 2),
        "prompt_tokens_mean": round(statistics.mean(prompt), 1),
        "completion_tokens_mean": round(statistics.mean(completion), 1),
        "reasons": reasons,
    }


def decoding(llm: LlamaCppLLM, calls: list[tuple[list[ChatMessage], JsonSchema, Generation]]) -> dict[str, Any]:
    """Seconds per generated token of three decoders on the same prompts, each from an empty context."""
    llama = llm.llama
    totals = {"raw_free": [0.0, 0], "chat_api_grammar": [0.0, 0], "whyrec_decoder": [0.0, 0]}
    same_text = 0
    for messages, schema, generation in calls:
        budget = max(1, generation.completion_tokens)
        request: dict[str, Any] = {"messages": [dict(m) for m in messages], "temperature": 0.0, "max_tokens": budget}
        for name, extra in (
            ("raw_free", {}),
            ("chat_api_grammar", {"response_format": {"type": "json_object", "schema": dict(schema)}}),
        ):
            llama.reset()
            started = time.perf_counter()
            response = llama.create_chat_completion(**request, **extra)
            totals[name][0] += time.perf_counter() - started
            totals[name][1] += response["usage"]["completion_tokens"]
            if name == "chat_api_grammar":
                api_text = response["choices"][0]["message"]["content"]
        llama.reset()
        started = time.perf_counter()
        ours = llm.chat(messages, schema, budget)  # no static mark: evaluated like the two calls above
        totals["whyrec_decoder"][0] += time.perf_counter() - started
        totals["whyrec_decoder"][1] += ours.completion_tokens
        same_text += ours.text == api_text
    per_token = {name: round(s / n, 4) for name, (s, n) in totals.items() if n}
    return {
        "prompts": len(calls),
        "seconds_per_token": per_token,
        "tokens": {name: n for name, (_, n) in totals.items()},
        "whyrec_to_raw": round(per_token["whyrec_decoder"] / per_token["raw_free"], 2),
        "chat_api_to_raw": round(per_token["chat_api_grammar"] / per_token["raw_free"], 2),
        "same_text_as_chat_api": f"{same_text}/{len(calls)}",
    }


def bench_model(model: str, pairs: list[tuple[str, str]]) -> dict[str, Any]:
    settings = Settings(model=model, fallback=False)
    started = time.perf_counter()
    cold_runs = cold(model, pairs)
    llm = make_llm(settings)
    recorder = Recorder(llm)
    warm_runs = warm(settings, recorder, pairs)
    first_calls = [c for c in recorder.calls if len(c[0]) == 4]  # system, example request, example answer, request
    result = {
        "model": model,
        "prompt_version": settings.prompt,
        "pairs": len(pairs),
        "cold": cold_runs,
        "warm": warm_runs,
        "decoding": decoding(llm, first_calls),
        "settings": llm.settings(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    llm.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["qwen2.5-1.5b", "qwen2.5-0.5b"])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/explain.json"))
    args = parser.parse_args()
    with PAIRS.open(newline="") as handle:
        pairs = [(row["user_id"], row["item_id"]) for row in csv.DictReader(handle)]
    results = [bench_model(model, pairs) for model in args.models]
    run = run_record()
    record = {
        "run": run,
        "packages": package_versions(("llama-cpp-python", "torch", "faiss-cpu")),
        "models": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    print(table(record))
    print(f"pairs: {len(pairs)} (data/demo/pairs.csv); results: {args.out}; commit {run['git_commit']}")


if __name__ == "__main__":
    main()
