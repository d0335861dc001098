"""Greedy decoding under a grammar at the cost of free decoding, on llama-cpp-python's low-level API.

llama-cpp-python's chat API puts the grammar sampler first in its chain, so at every step the grammar is checked
against all 151k tokens of Qwen's vocabulary. llama.cpp's own sampler (`common_sampler_sample`) does it the other way
round, and so does this decoder: take the greedy token of the raw logits, ask the grammar about that one token, and
mask the whole vocabulary only when it is rejected (then the greedy token among the allowed ones is taken, in C).
Greedy decoding picks the best allowed token either way, so the output is the same token for token as the chat API's
with temperature 0 and no penalties (`test_llama_decode` compares them on the demo pairs' prompts).

The prompt is the model's own chat template rendered as llama-cpp-python renders it (`Jinja2ChatFormatter` over the
GGUF's `tokenizer.chat_template`), tokenised the same way. What the context already holds of it is reused (the
longest common prefix), and a `PrefixStore` can supply the static prefix of a cold context from disk.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from whyrec.llm import deadline
from whyrec.llm.base import ChatMessage


@dataclass(frozen=True)
class Prompt:
    """A rendered chat prompt: its tokens, and how many of them are the static prefix (0: none marked)."""

    tokens: list[int]
    static: int


@dataclass(frozen=True)
class Decoded:
    text: str
    finish_reason: str  # "stop" (end of generation) or "length" (max_tokens reached)
    prompt_tokens: int
    completion_tokens: int
    reused_tokens: int  # prompt tokens the context already held (or loaded from disk), not evaluated again
    forced_masks: int  # steps where the greedy token broke the grammar and the whole vocabulary was masked


class ChatTemplate:
    """The model's chat template, rendered and tokenised exactly as llama-cpp-python's chat API does it."""

    def __init__(self, llama: Any, llama_cpp: Any):
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.llama = llama
        template = llama.metadata.get("tokenizer.chat_template")
        if not template:
            raise ValueError("the model file has no chat template (tokenizer.chat_template)")
        eos, bos = llama.token_eos(), llama.token_bos()
        # the special tokens' texts, as llama_cpp.Llama passes them to its own formatter
        eos_text = llama._model.token_get_text(eos) if eos != -1 else ""
        bos_text = llama._model.token_get_text(bos) if bos != -1 else ""
        self._formatter = Jinja2ChatFormatter(template, eos_text, bos_text, stop_token_ids=[eos])
        self._prefix = Jinja2ChatFormatter(template, eos_text, bos_text, add_generation_prompt=False)

    def render(self, messages: Sequence[ChatMessage], static: int = 0) -> Prompt:
        """The prompt's tokens; `static` leading messages are the same on every call, and the tokens they alone
        render to (up to where the two tokenisations part) are marked as the static prefix."""
        result = self._formatter(messages=_as_llama(messages))
        tokens = self._tokenize(result.prompt, add_bos=not result.added_special)
        if static <= 0:
            return Prompt(tokens, 0)
        head = self._prefix(messages=_as_llama(messages[:static]))
        if not result.prompt.startswith(head.prompt):
            return Prompt(tokens, 0)
        ahead = self._tokenize(head.prompt, add_bos=not head.added_special)
        shared = _common_prefix(ahead, tokens)
        return Prompt(tokens, min(shared, len(tokens) - 1))

    def _tokenize(self, text: str, add_bos: bool) -> list[int]:
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))


def _as_llama(messages: Sequence[ChatMessage]) -> Any:
    """Our messages as llama-cpp-python's request messages (the same keys; its types are per role)."""
    return [dict(m) for m in messages]


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class GrammarDecoder:
    """Greedy, grammar-bound generation on one llama_cpp.Llama (not thread-safe: the caller serialises)."""

    def __init__(self, llama: Any, llama_cpp: Any):
        self.llama = llama
        self.lib = llama_cpp
        self.vocab = llama_cpp.llama_model_get_vocab(llama._model.model)
        self.n_vocab = int(llama_cpp.llama_vocab_n_tokens(self.vocab))
        self._one = llama_cpp.llama_token_data_array(
            data=(llama_cpp.llama_token_data * 1)(), size=1, selected=-1, sorted=False
        )

    def evaluate(self, tokens: Sequence[int]) -> int:
        """Evaluate `tokens` from position 0 in an emptied context; how many it now holds."""
        self.llama.n_tokens = 0
        self.llama.eval(list(tokens))
        return len(tokens)

    def cached_tokens(self) -> list[int]:
        """The tokens the context holds now, in order."""
        return [int(t) for t in self.llama.input_ids[: self.llama.n_tokens]]

    def decode(
        self,
        prompt: Prompt,
        grammar: str,
        max_tokens: int,
        *,
        prefill: Callable[[Prompt], int] | None = None,
        on_text: Callable[[str], bool] | None = None,
        temperature: float = 0.0,
        seed: int = 0,
    ) -> Decoded:
        """Generate from `prompt` under the GBNF `grammar`, up to `max_tokens`: greedily, or at a `temperature` above
        0 by sampling from the grammar-masked distribution (every step masks the whole vocabulary then).

        `prefill(prompt)`, when the context does not hold the prompt's static prefix, puts it there (from disk, or by
        evaluating it from position 0) and returns its length. `on_text(text_so_far)` hears the text after each
        token and returns True to stop early (finish reason "stop"). The request's deadline is checked before each
        token."""
        llama, lib, tokens = self.llama, self.lib, prompt.tokens
        reused = min(_common_prefix(self.cached_tokens(), tokens), len(tokens) - 1)
        if reused < prompt.static:
            # The static prefix is always evaluated on its own, from position 0, so that its state is the same
            # whether it was just computed or loaded from disk, and so is everything after it.
            reused = prefill(prompt) if prefill is not None else self.evaluate(tokens[: prompt.static])
        llama.n_tokens = reused  # eval() drops what the context held beyond this point
        llama.eval(tokens[reused:])

        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        checker = lib.llama_sampler_init_grammar(self.vocab, grammar.encode("utf-8"), b"root")
        if not checker:
            lib.llama_sampler_free(chain)
            raise ValueError("llama.cpp could not parse the grammar")
        lib.llama_sampler_chain_add(chain, checker)  # the chain owns it from here
        if temperature > 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_temp(temperature))
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_dist(seed))
        else:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
        out: list[int] = []
        finish, forced = "length", 0
        text = ""
        try:
            for _ in range(max_tokens):
                deadline.check("generation")
                logits = np.ctypeslib.as_array(lib.llama_get_logits_ith(llama._ctx.ctx, -1), shape=(self.n_vocab,))
                token = int(np.argmax(logits))
                if temperature <= 0 and self._allowed(checker, token, float(logits[token])):
                    lib.llama_sampler_accept(chain, token)
                else:  # the greedy token breaks the grammar: mask the whole vocabulary (this also accepts the pick)
                    token = int(lib.llama_sampler_sample(chain, llama._ctx.ctx, -1))
                    forced += temperature <= 0
                if lib.llama_vocab_is_eog(self.vocab, token):
                    finish = "stop"
                    break
                out.append(token)
                llama.eval([token])
                if on_text is not None:
                    text = self._text(out)
                    if on_text(text):
                        finish = "stop"
                        break
        finally:
            lib.llama_sampler_free(chain)
        return Decoded(
            text=self._text(out),
            finish_reason=finish,
            prompt_tokens=len(tokens),
            completion_tokens=len(out),
            reused_tokens=reused,
            forced_masks=forced,
        )

    def _allowed(self, checker: Any, token: int, logit: float) -> bool:
        """The grammar accepts `token` next: applied to a one-token candidate list, it leaves its logit finite."""
        entry = self._one.data[0]
        entry.id, entry.logit, entry.p = token, logit, 0.0
        self._one.size, self._one.selected, self._one.sorted = 1, -1, False
        self.lib.llama_sampler_apply(checker, ctypes.byref(self._one))
        return bool(np.isfinite(self._one.data[0].logit))

    def _text(self, tokens: Sequence[int]) -> str:
        return bytes(self.llama.detokenize(list(tokens))).decode("utf-8", errors="ignore")
