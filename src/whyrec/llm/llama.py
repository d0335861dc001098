"""llama.cpp through llama-cpp-python: a local quantized GGUF on the CPU, or with layers offloaded to a GPU build.

The JSON schema goes in as `response_format={"type": "json_object", "schema": …}`, the only form llama-cpp-python
0.3 honours. When its grammar converter cannot handle a schema it silently falls back to free JSON, so the schema is
converted once here first and a failure is an error, never a silent loss of the citation constraint.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from whyrec.errors import DependencyMissingError, ModelError
from whyrec.llm import deadline
from whyrec.llm.base import ChatMessage, Generation, JsonSchema
from whyrec.llm.models import REGISTRY, ModelFile, ModelStore

log = logging.getLogger(__name__)

# Chat-template tokens around each message (Qwen: `<|im_start|>role\n … <|im_end|>\n`), and the assistant header.
_TEMPLATE_TOKENS_PER_MESSAGE = 8
_GENERATION_PROMPT_TOKENS = 8


def _import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise DependencyMissingError(
            "llama-cpp-python is not installed: pip install 'whyrec[llm]' (it compiles llama.cpp, 5–10 minutes), "
            "or use --composer extractive"
        ) from exc
    return llama_cpp


class LlamaCppLLM:
    """One loaded GGUF model. Calls are serialised: a llama.cpp context is not safe to share between threads."""

    def __init__(
        self,
        model: str,
        models: ModelStore,
        *,
        n_ctx: int = 4096,
        n_threads: int = 2,
        n_gpu_layers: int = 0,
        temperature: float = 0.0,
        seed: int = 0,
    ):
        self.reference = model
        self.models = models
        self.name = model if model in REGISTRY else Path(model).stem
        self._file: ModelFile | None = None
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.n_gpu_layers = n_gpu_layers
        self.temperature = temperature
        self.seed = seed
        self.offloaded_layers = 0
        self.load_seconds = 0.0
        self._llama: Any = None
        self._lock = threading.Lock()
        self._checked_schemas: set[str] = set()

    @property
    def file(self) -> ModelFile:
        """The GGUF behind `name`, assembled and sha256-checked on first use (ModelError if missing or corrupt)."""
        if self._file is None:
            self._file = self.models.resolve(self.reference)
        return self._file

    @property
    def sha256(self) -> str:
        return self.file.sha256

    @property
    def llama(self) -> Any:
        """The llama_cpp.Llama instance, loaded on first use."""
        if self._llama is None:
            self._llama = self._load()
        return self._llama

    def _load(self) -> Any:
        llama_cpp = _import_llama_cpp()
        path = self.file.path
        started = time.perf_counter()
        try:
            llama = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_threads_batch=self.n_threads,
                n_gpu_layers=self.n_gpu_layers,
                seed=self.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"{path}: llama.cpp could not load this model ({exc})") from exc
        self.load_seconds = time.perf_counter() - started
        self.offloaded_layers = self._report_offload(llama_cpp, llama)
        return llama

    def _report_offload(self, llama_cpp: Any, llama: Any) -> int:
        """Log where the layers run; return how many were offloaded to a GPU."""
        architecture = llama.metadata.get("general.architecture", "")
        layers = int(llama.metadata.get(f"{architecture}.block_count", 0) or 0)
        where = f"{self.name} loaded in {self.load_seconds:.1f} s, {self.n_threads} threads"
        if self.n_gpu_layers == 0:
            log.info("%s, on the CPU", where)
            return 0
        if not llama_cpp.llama_supports_gpu_offload():
            log.warning(
                "%s: this llama-cpp-python build has no GPU support, so gpu_layers=%d is ignored and every layer "
                "runs on the CPU; rebuild with `make demo GPU=1` (CMAKE_ARGS=-DGGML_CUDA=on)",
                where,
                self.n_gpu_layers,
            )
            return 0
        offloaded = layers if self.n_gpu_layers < 0 else min(self.n_gpu_layers, layers)
        log.info("%s, %d of %d layers offloaded to the GPU", where, offloaded, layers)
        return offloaded

    def settings(self) -> dict[str, float | int | str]:
        return {
            "n_ctx": self.n_ctx,
            "n_threads": self.n_threads,
            "n_gpu_layers": self.n_gpu_layers,
            "offloaded_layers": self.offloaded_layers,
            "temperature": self.temperature,
            "seed": self.seed,
        }

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        tokens = sum(
            len(self.llama.tokenize(m["content"].encode("utf-8"), add_bos=False)) + _TEMPLATE_TOKENS_PER_MESSAGE
            for m in messages
        )
        return tokens + _GENERATION_PROMPT_TOKENS

    def _bind(self, schema: JsonSchema) -> None:
        """Convert the schema to a grammar once; refuse instead of letting llama-cpp-python fall back to free JSON."""
        key = json.dumps(schema, sort_keys=True)
        if key in self._checked_schemas:
            return
        from llama_cpp.llama_grammar import LlamaGrammar

        try:
            LlamaGrammar.from_json_schema(json.dumps(schema), verbose=False)
        except Exception as exc:  # the converter raises bare Exception/ValueError/KeyError on what it cannot handle
            raise ModelError(f"llama.cpp cannot turn this JSON schema into a grammar ({exc!r})") from exc
        self._checked_schemas.add(key)

    def chat(self, messages: Sequence[ChatMessage], schema: JsonSchema, max_tokens: int) -> Generation:
        deadline.check(f"{self.name}: generation")
        with self._lock:
            llama = self.llama
            self._bind(schema)
            started = time.perf_counter()
            request: dict[str, Any] = {
                "messages": [dict(m) for m in messages],
                "response_format": {"type": "json_object", "schema": dict(schema)},
                "temperature": self.temperature,
                "seed": self.seed,
                "max_tokens": max_tokens,
            }
            try:
                if deadline.active():
                    text, finish_reason, completion_tokens = self._stream(llama, request)
                    prompt_tokens = self.count_tokens(messages)  # a stream reports no usage: the estimate
                else:
                    response = llama.create_chat_completion(**request)
                    choice = response["choices"][0]
                    usage = response.get("usage") or {}
                    text, finish_reason = choice["message"].get("content") or "", choice.get("finish_reason")
                    prompt_tokens = int(usage.get("prompt_tokens", 0))
                    completion_tokens = int(usage.get("completion_tokens", 0))
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"{self.name}: generation failed ({exc})") from exc
            seconds = time.perf_counter() - started
        return Generation(
            text=text,
            finish_reason=finish_reason or "stop",
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=seconds,
        )

    def _stream(self, llama: Any, request: dict[str, Any]) -> tuple[str, str | None, int]:
        """Generate token by token, stopping when the request's deadline passes: llama-cpp-python's chat API takes
        no stopping criterion, and a logits processor runs inside a C callback, where an exception is lost."""
        parts: list[str] = []
        finish_reason = None
        chunks = llama.create_chat_completion(**request, stream=True)
        try:
            for chunk in chunks:
                deadline.check(f"{self.name}: generation")
                choice = chunk["choices"][0]
                if content := choice["delta"].get("content"):
                    parts.append(content)
                finish_reason = choice.get("finish_reason") or finish_reason
        finally:
            chunks.close()  # stops llama.cpp at the next token
        return "".join(parts), finish_reason, len(parts)

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None
