"""whyrec's own decoding loop on the real tiny model: the same text as llama-cpp-python's grammar-bound chat API, the
static prefix's state kept on disk and trusted only whole, and a listener that can stop the reply early."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import DEMO_PAIRS
from whyrec.agent import Explainer, LLMComposer
from whyrec.checker import RuleChecker
from whyrec.llm.base import ChatMessage
from whyrec.llm.fake import FakeLLM
from whyrec.llm.llama import LlamaCppLLM
from whyrec.llm.models import ModelStore
from whyrec.prompts import ExplainPrompt, load_prompt
from whyrec.retrieval import KnowledgeIndex, PairRetriever

MAX_TOKENS = 48
PAIRS = DEMO_PAIRS[:2]  # two prompts: the full-vocabulary grammar of the chat API is slow even on the tiny model


@pytest.fixture(scope="module")
def prompts(demo_index: KnowledgeIndex, retriever: PairRetriever) -> list[tuple[list[ChatMessage], dict[str, Any]]]:
    """The messages and schema the explainer sends the model for each demo pair."""
    fake = FakeLLM(['{"claims": []}'] * len(PAIRS))
    explainer = Explainer(demo_index, retriever, LLMComposer(fake, load_prompt()), RuleChecker())
    for user, item in PAIRS:
        explainer.draft_for(user, item)
    return [(messages, dict(schema)) for messages, schema in fake.calls]


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Any]:
    """A factory of new tiny-model instances (a new process's view) sharing one prefix directory."""
    made: list[LlamaCppLLM] = []

    def make(prefix_dir: Path | None = tmp_path / "prefix") -> LlamaCppLLM:
        llm = LlamaCppLLM("smollm2-135m", ModelStore(tmp_path / "home"), n_ctx=4096, n_threads=2, prefix_dir=prefix_dir)
        made.append(llm)
        return llm

    yield make
    for llm in made:
        llm.close()


def test_the_decoder_writes_what_the_grammar_bound_chat_api_writes(
    tiny_llm: LlamaCppLLM, prompts: list[tuple[list[ChatMessage], dict[str, Any]]]
) -> None:
    for messages, schema in prompts:
        tiny_llm.llama.reset()  # both from an empty context: the same tokens evaluated in the same batches
        api = tiny_llm.llama.create_chat_completion(
            messages=[dict(m) for m in messages],  # type: ignore[misc]
            response_format={"type": "json_object", "schema": schema},
            temperature=0.0,
            max_tokens=MAX_TOKENS,
        )
        tiny_llm.llama.reset()
        ours = tiny_llm.chat(messages, schema, MAX_TOKENS)
        assert ours.text == api["choices"][0]["message"]["content"]  # type: ignore[index]
        assert ours.completion_tokens == api["usage"]["completion_tokens"]  # type: ignore[index]


def test_a_new_process_loads_the_static_prefix_from_disk_and_writes_the_same(
    fresh: Any, prompts: list[tuple[list[ChatMessage], dict[str, Any]]]
) -> None:
    (messages, schema), (other, other_schema) = prompts[0], prompts[1]
    plain = fresh(prefix_dir=None).chat(messages, schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)

    first = fresh()
    made = first.chat(messages, schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)
    assert first.prefixes is not None and (first.prefixes.saved, first.prefixes.loaded) == (1, 0)
    assert made.text == plain.text

    second = fresh()
    loaded = second.chat(other, other_schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)
    assert second.prefixes is not None and (second.prefixes.saved, second.prefixes.loaded) == (0, 1)
    assert loaded.reused_tokens > 0
    reference = fresh(prefix_dir=None).chat(other, other_schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)
    assert loaded.text == reference.text


def test_a_damaged_prefix_file_is_rebuilt_not_trusted(
    fresh: Any, prompts: list[tuple[list[ChatMessage], dict[str, Any]]], tmp_path: Path
) -> None:
    messages, schema = prompts[0]
    fresh().chat(messages, schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)
    [saved] = (tmp_path / "prefix").glob("*.kv")
    blob = bytearray(saved.read_bytes())
    blob[-100] ^= 0xFF  # one flipped bit of KV data: the payload's sha256 no longer matches
    saved.write_bytes(bytes(blob))

    again = fresh()
    answer = again.chat(messages, schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)
    assert again.prefixes is not None and (again.prefixes.loaded, again.prefixes.saved) == (0, 1)
    assert answer.text == fresh(prefix_dir=None).chat(messages, schema, MAX_TOKENS).text
    assert saved.read_bytes() != bytes(blob)  # rewritten whole


def test_another_prompt_prefix_or_model_context_makes_another_file(
    fresh: Any, prompts: list[tuple[list[ChatMessage], dict[str, Any]]], tmp_path: Path
) -> None:
    messages, schema = prompts[0]
    fresh().chat(messages, schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)
    changed = [ChatMessage(role="system", content=messages[0]["content"] + " Be brief."), *messages[1:]]
    fresh().chat(changed, schema, MAX_TOKENS, static=ExplainPrompt.STATIC_MESSAGES)
    assert len(list((tmp_path / "prefix").glob("*.kv"))) == 2


def test_a_listener_hears_the_reply_grow_and_can_stop_it(
    tiny_llm: LlamaCppLLM, prompts: list[tuple[list[ChatMessage], dict[str, Any]]]
) -> None:
    messages, schema = prompts[0]
    whole = tiny_llm.chat(messages, schema, MAX_TOKENS)
    heard: list[str] = []

    def listen(text: str) -> bool:
        heard.append(text)
        return len(heard) == 5

    cut = tiny_llm.chat(messages, schema, MAX_TOKENS, on_text=listen)
    assert len(heard) == 5 and cut.completion_tokens == 5
    assert cut.text == heard[-1] and whole.text.startswith(cut.text)
    assert all(later.startswith(earlier) for earlier, later in itertools.pairwise(heard))
