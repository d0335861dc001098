"""The KV state of a prompt's static prefix, kept on disk so a new process does not evaluate it again.

Every explain prompt starts with the same system message and worked example (several hundred tokens, most of the
prompt); on 2 cores evaluating them costs seconds in every new process. After the first evaluation the context's
sequence state (llama.cpp `llama_state_seq_get_data`: the KV cells of those tokens) is written to
`<home>/prefix/<key>.kv`, and a cold context loads it instead. The key is the sha256 of the model file's sha256, the
context size, the llama-cpp-python version and the prefix's token ids: another model, prompt version, template or
context size makes another file, never a wrong one.

A file is trusted only whole: a header (magic, format version, token count, payload length, payload sha256) is
checked before llama.cpp sees a byte, and one that fails the check is deleted and rebuilt. Files are written to a
temporary name and renamed, so a killed writer leaves no half-written state under the real name.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from whyrec.llm.decode import Prompt

log = logging.getLogger(__name__)

MAGIC = b"WHYRECKV"
FORMAT = 1
_HEADER = struct.Struct("<8sIIQ32s")  # magic, format, tokens, payload bytes, payload sha256
MIN_TOKENS = 64  # a shorter prefix costs less to evaluate than to load


class PrefixStore:
    """`load(prompt)` puts the prompt's static prefix into the context from disk (0 if it has none yet), and
    `save(prompt)` writes it after the context has evaluated it."""

    def __init__(
        self, directory: Path, llama: Any, llama_cpp: Any, model_sha256: str, evaluate: Callable[[list[int]], int]
    ):
        """`evaluate(tokens)`: evaluate tokens from position 0 in an emptied context (`GrammarDecoder.evaluate`)."""
        self.directory = directory
        self.llama = llama
        self.lib = llama_cpp
        self.model_sha256 = model_sha256
        self.evaluate = evaluate
        self.loaded = 0  # how many prefixes came from disk, for tests and the benchmark
        self.saved = 0

    def key(self, tokens: list[int]) -> str:
        digest = hashlib.sha256()
        version = getattr(self.lib, "__version__", "?")
        digest.update(f"{self.model_sha256}:{self.llama.n_ctx()}:{version}:".encode())
        digest.update(np.asarray(tokens, dtype=np.int32).tobytes())
        return digest.hexdigest()

    def path(self, prompt: Prompt) -> Path:
        return self.directory / f"{self.key(prompt.tokens[: prompt.static])}.kv"

    def load(self, prompt: Prompt) -> int:
        """Load the static prefix of `prompt` into the context, in place of what it held; the number of tokens
        loaded (0: none, the context is then empty)."""
        if prompt.static < MIN_TOKENS:
            return 0
        path = self.path(prompt)
        try:
            blob = path.read_bytes()
        except OSError:
            return 0
        payload = self._verified(blob, prompt.static)
        if payload is None:
            log.warning("%s: damaged prompt-prefix state, removed; it is rebuilt on this call", path)
            path.unlink(missing_ok=True)
            return 0
        buffer = (ctypes.c_uint8 * len(payload)).from_buffer_copy(payload)
        ctx = self.llama._ctx.ctx
        self.llama.n_tokens = 0
        self.llama._ctx.kv_cache_seq_rm(-1, 0, -1)
        if self.lib.llama_state_seq_set_data(ctx, buffer, len(payload), 0) != len(payload):
            log.warning("%s: llama.cpp refused the prompt-prefix state, removed; it is rebuilt", path)
            self.llama.n_tokens = 0  # the next eval clears whatever the refused load left in the context
            path.unlink(missing_ok=True)
            return 0
        self.llama.input_ids[: prompt.static] = prompt.tokens[: prompt.static]
        self.llama.n_tokens = prompt.static
        self.loaded += 1
        return prompt.static

    def prefill(self, prompt: Prompt) -> int:
        """Put the static prefix in the context: loaded from disk, or evaluated and saved; its length."""
        if prompt.static < MIN_TOKENS:
            return self.evaluate(prompt.tokens[: prompt.static])
        loaded = self.load(prompt)
        if loaded:
            return loaded
        held = self.evaluate(prompt.tokens[: prompt.static])
        self.save(prompt)
        return held

    def save(self, prompt: Prompt) -> None:
        """Write the context's state of the static prefix (the context must hold exactly those tokens)."""
        ctx = self.llama._ctx.ctx
        size = int(self.lib.llama_state_seq_get_size(ctx, 0))
        buffer = (ctypes.c_uint8 * size)()
        written = int(self.lib.llama_state_seq_get_data(ctx, buffer, size, 0))
        payload = bytes(buffer)[:written]
        header = _HEADER.pack(MAGIC, FORMAT, prompt.static, len(payload), hashlib.sha256(payload).digest())
        path = self.path(prompt)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".prefix-", suffix=".tmp")
            with os.fdopen(handle, "wb") as out:
                out.write(header)
                out.write(payload)
            os.replace(temporary, path)
        except OSError as exc:  # a read-only cache costs speed, not the answer
            log.warning("%s: could not save the prompt-prefix state (%s)", path, exc)
            return
        self.saved += 1

    @staticmethod
    def _verified(blob: bytes, tokens: int) -> bytes | None:
        if len(blob) < _HEADER.size:
            return None
        magic, version, count, length, digest = _HEADER.unpack_from(blob)
        payload = blob[_HEADER.size :]
        if (magic, version, count, length) != (MAGIC, FORMAT, tokens, len(payload)):
            return None
        return payload if hashlib.sha256(payload).digest() == digest else None
