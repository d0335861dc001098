"""The seam between whyrec and a language model: chat messages in, schema-bound JSON text out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel
from typing_extensions import TypedDict


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


JsonSchema = Mapping[str, Any]


class Generation(BaseModel):
    """One model call: the text it produced and what it cost."""

    text: str
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    reused_tokens: int = 0  # prompt tokens not evaluated again: held by the context or loaded from disk


class LLM(Protocol):
    """A chat model whose output is constrained to a JSON schema. `LlamaCppLLM` is real, `FakeLLM` is for tests."""

    name: str
    n_ctx: int

    @property
    def sha256(self) -> str:
        """sha256 of the model file (resolving the model if need be)."""
        ...

    def settings(self) -> dict[str, float | int | str]:
        """The knobs that shape its output and speed (context, threads, GPU layers, temperature, seed)."""
        ...

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        """Prompt tokens these messages take, chat template included (an upper bound is fine)."""
        ...

    def chat(
        self,
        messages: Sequence[ChatMessage],
        schema: JsonSchema,
        max_tokens: int,
        *,
        static: int = 0,
        on_text: Callable[[str], bool] | None = None,
    ) -> Generation:
        """Generate one reply; its text must be JSON that validates against `schema`. Raises ModelError.

        `static`: how many leading messages are the same on every call (their state may be kept and reused).
        `on_text(text_so_far)` hears the reply as it grows and returns True to stop it there."""
        ...
