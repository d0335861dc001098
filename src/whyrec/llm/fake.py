"""FakeLLM: a deterministic stand-in for tests and for wiring checks without a model.

With scripted replies it returns them in order (a callable reply sees the messages and the schema). Without, it
answers the way a careful model would: the item's price (never a restated title, which says nothing), then the
first reviewer sentence quoted word for word,
citing the handles the prompt gave them. It honours the schema's citation enum, so it can never cite a handle that
was not offered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from whyrec.errors import ModelError
from whyrec.llm import deadline
from whyrec.llm.base import ChatMessage, Generation, JsonSchema

Reply = str | Callable[[Sequence[ChatMessage], JsonSchema], str] | Exception
_LINE = re.compile(r'^(e\d+) \((seller, price|reviewer[^)]*)\): "?(.*?)"?$')


def cite_enum(schema: JsonSchema) -> list[str]:
    """The handles a claim may cite, as the explain schema lists them."""
    items: Any = schema["properties"]["claims"]["items"]
    return list(items["properties"]["cites"]["items"]["enum"])


def default_reply(messages: Sequence[ChatMessage], schema: JsonSchema) -> str:
    allowed = set(cite_enum(schema))
    claims: list[dict[str, object]] = []
    price_done = review_done = False
    for line in messages[-1]["content"].splitlines():
        match = _LINE.match(line)
        if not match or match.group(1) not in allowed:
            continue
        handle, label, text = match.groups()
        if label == "seller, price" and not price_done:
            claims.append({"cites": [handle], "text": f"It costs {text.split(':', 1)[-1].strip()}."})
            price_done = True
        elif label.startswith("reviewer") and not review_done and not text.endswith("…"):
            claims.append({"cites": [handle], "text": f'A reviewer wrote: "{text}"'})
            review_done = True
    return json.dumps({"claims": claims})


class FakeLLM:
    name = "fake"
    sha256 = "0" * 64

    def __init__(self, replies: Sequence[Reply] | None = None, n_ctx: int = 4096):
        self.replies = list(replies) if replies is not None else None
        self.n_ctx = n_ctx
        self.calls: list[tuple[list[ChatMessage], JsonSchema]] = []

    def settings(self) -> dict[str, float | int | str]:
        return {"n_ctx": self.n_ctx}

    def count_tokens(self, messages: Sequence[ChatMessage]) -> int:
        # About 1.3 tokens per word for English text, plus the chat template around each message.
        return sum(int(len(m["content"].split()) * 1.3) + 8 for m in messages) + 8

    def chat(
        self,
        messages: Sequence[ChatMessage],
        schema: JsonSchema,
        max_tokens: int,
        *,
        static: int = 0,
        on_text: Callable[[str], bool] | None = None,
    ) -> Generation:
        deadline.check("fake: generation")
        self.calls.append((list(messages), schema))
        reply: Reply = default_reply
        if self.replies is not None:
            if not self.replies:
                raise ModelError("FakeLLM: no scripted reply left")
            reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        text = reply if isinstance(reply, str) else reply(messages, schema)
        deadline.check("fake: generation")  # a scripted reply may take its time
        if on_text is not None:  # told as it grows, a character at a time, and cut where the listener says
            text = next((text[:end] for end in range(1, len(text) + 1) if on_text(text[:end])), text)
        return Generation(
            text=text,
            finish_reason="stop",
            prompt_tokens=self.count_tokens(messages),
            completion_tokens=len(text.split()),
            seconds=0.0,
        )
