"""llama.cpp through llama-cpp-python: a local quantized GGUF on the CPU, or with layers offloaded to a GPU build.

The JSON schema becomes a GBNF grammar through llama-cpp-python's converter (once per schema; a schema it cannot
convert is an error, never a silent loss of the citation constraint), and `GrammarDecoder` generates under it
greedily, checking the grammar against the greedy token only (see `whyrec.llm.decode`). The static prefix of a prompt
(the messages the caller marks as the same on every call) is loaded from a `PrefixStore` in a new process.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from whyrec.errors import DependencyMissingError, ModelError
from whyrec.llm import deadline
from whyrec.llm.base import ChatMessage, Generation, JsonSchema
from whyrec.llm.decode import ChatTemplate, GrammarDecoder
from whyrec.llm.models import REGISTRY, ModelFile, ModelStore
from whyrec.llm.placement import LayerPlacement
from whyrec.llm.prefix import PrefixStore

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
        prefix_dir: Path | None = None,
    ):
        """`prefix_dir`: where the KV state of static prompt prefixes is kept (None: not kept)."""
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
        self.placement: dict[int, str] = {}  # layer → the device llama.cpp loaded it on
        self.load_seconds = 0.0
        self._llama: Any = None
        self._lock = threading.Lock()
        self._grammars: dict[str, str] = {}
        self.prefix_dir = prefix_dir
        self._template: ChatTemplate | None = None
        self._decoder: GrammarDecoder | None = None
        self.prefixes: PrefixStore | None = None

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
            with LayerPlacement(llama_cpp) as placement:
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
        self.placement = dict(placement.devices)
        self.offloaded_layers = self._report_offload(llama_cpp, placement.offloaded)
        try:
            self._template = ChatTemplate(llama, llama_cpp)
        except ValueError as exc:
            raise ModelError(f"{path}: {exc}") from exc
        self._decoder = GrammarDecoder(llama, llama_cpp)
        if self.prefix_dir is not None:
            self.prefixes = PrefixStore(self.prefix_dir, llama, llama_cpp, self.sha256, self._decoder.evaluate)
        return llama

    def _report_offload(self, llama_cpp: Any, offloaded: int) -> int:
        """Log where the layers run (as llama.cpp placed them); return how many it offloaded to a GPU."""
        where = f"{self.name} loaded in {self.load_seconds:.1f} s, {self.n_threads} threads"
        if self.n_gpu_layers != 0 and not llama_cpp.llama_supports_gpu_offload():
            log.warning(
                "%s: this llama-cpp-python build has no GPU support, so gpu_layers=%d is ignored and every layer "
                "runs on the CPU; rebuild with `make demo GPU=1` (CMAKE_ARGS=-DGGML_CUDA=on)",
                where,
                self.n_gpu_layers,
            )
        elif offloaded:
            log.info("%s, %d of %d layers offloaded to the GPU", where, offloaded, len(self.placement))
        else:
            log.info("%s, on the CPU", where)
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

    def _loaded(self) -> tuple[ChatTemplate, GrammarDecoder]:
        """The chat template and decoder of the loaded model (loading it on first use)."""
        if self.llama is None or self._template is None or self._decoder is None:
            raise ModelError(f"{self.name}: the model did not load")
        return self._template, self._decoder

    def _grammar(self, schema: JsonSchema) -> str:
        """The schema as GBNF, converted once; refuse instead of generating without the constraint."""
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            from llama_cpp.llama_grammar import json_schema_to_gbnf

            try:
                self._grammars[key] = json_schema_to_gbnf(json.dumps(schema))
            except Exception as exc:  # the converter raises bare Exception/ValueError/KeyError on what it cannot do
                raise ModelError(f"llama.cpp cannot turn this JSON schema into a grammar ({exc!r})") from exc
        return self._grammars[key]

    def chat(
        self,
        messages: Sequence[ChatMessage],
        schema: JsonSchema,
        max_tokens: int,
        *,
        static: int = 0,
        on_text: Callable[[str], bool] | None = None,
    ) -> Generation:
        deadline.check(f"{self.name}: generation")
        with self._lock:
            template, decoder = self._loaded()
            grammar = self._grammar(schema)
            started = time.perf_counter()
            try:
                prompt = template.render(messages, static)
                prefill = self.prefixes.prefill if self.prefixes is not None else None
                decoded = decoder.decode(
                    prompt,
                    grammar,
                    max_tokens,
                    prefill=prefill,
                    on_text=on_text,
                    temperature=self.temperature,
                    seed=self.seed,
                )
            except (ValueError, RuntimeError) as exc:
                raise ModelError(f"{self.name}: generation failed ({exc})") from exc
            seconds = time.perf_counter() - started
        return Generation(
            text=decoded.text,
            finish_reason=decoded.finish_reason,
            prompt_tokens=decoded.prompt_tokens,
            completion_tokens=decoded.completion_tokens,
            seconds=seconds,
            reused_tokens=decoded.reused_tokens,
        )

    def close(self) -> None:
        with self._lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None
