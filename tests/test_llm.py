"""The LLM seam: one contract for FakeLLM and real llama.cpp (SmolLM2-135M), and proof that the schema binds."""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from whyrec.agent import claims_schema
from whyrec.errors import DependencyMissingError, ModelError, TimeoutExceeded
from whyrec.llm import LLM, ChatMessage, ModelStore
from whyrec.llm.deadline import deadline
from whyrec.llm.fake import FakeLLM
from whyrec.llm.llama import LlamaCppLLM

HANDLES = ["e1", "e2", "e3"]
MESSAGES = [
    ChatMessage(role="system", content="You write JSON claims about a product, citing evidence handles."),
    ChatMessage(
        role="user",
        content="Item: Olive Garden Gift Card\nEvidence:\ne1 (seller, title): Olive Garden Gift Card\n"
        'e2 (seller, price): Price: $50.00\ne3 (reviewer, 5 stars): "Great gift for my parents."',
    ),
]


def assert_follows_claims_schema(text: str, handles: list[str], max_claims: int) -> None:
    answer = json.loads(text)
    assert set(answer) == {"claims"} and len(answer["claims"]) <= max_claims
    for claim in answer["claims"]:
        assert set(claim) == {"cites", "text"}
        assert 1 <= len(claim["cites"]) <= 2 and set(claim["cites"]) <= set(handles)
        assert 1 <= len(claim["text"]) <= 200


class LLMContract:
    """What the explain loop relies on, for any LLM. Subclasses provide the `llm` fixture."""

    def test_answer_is_json_that_follows_the_schema(self, llm: LLM) -> None:
        generation = llm.chat(MESSAGES, claims_schema(HANDLES, max_claims=2), max_tokens=400)
        assert_follows_claims_schema(generation.text, HANDLES, max_claims=2)
        assert generation.prompt_tokens > 0 and generation.completion_tokens > 0

    def test_same_prompt_same_answer(self, llm: LLM) -> None:
        schema = claims_schema(HANDLES)
        assert llm.chat(MESSAGES, schema, 120).text == llm.chat(MESSAGES, schema, 120).text

    def test_token_count_grows_with_the_prompt(self, llm: LLM) -> None:
        longer = [*MESSAGES, ChatMessage(role="user", content="More evidence, " * 50)]
        assert 0 < llm.count_tokens(MESSAGES) < llm.count_tokens(longer)

    def test_settings_report_the_context_size(self, llm: LLM) -> None:
        assert llm.settings()["n_ctx"] == llm.n_ctx


class TestFakeLLM(LLMContract):
    @pytest.fixture
    def llm(self) -> LLM:
        return FakeLLM()


class TestLlamaCpp(LLMContract):
    @pytest.fixture
    def llm(self, tiny_llm: LlamaCppLLM) -> LLM:
        return tiny_llm


def test_schema_binds_the_real_model_to_values_it_would_never_write(tiny_llm: LlamaCppLLM) -> None:
    """Free JSON would answer the question; only a bound grammar produces this exact, improbable object."""
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "enum": ["zq-17-wobble"]}, "n": {"type": "integer", "enum": [73]}},
        "required": ["code", "n"],
    }
    asked = [ChatMessage(role="user", content='What is the capital of France? Answer as {"city": "..."}.')]
    generation = tiny_llm.chat(asked, schema, max_tokens=40)
    assert json.loads(generation.text) == {"code": "zq-17-wobble", "n": 73}


def test_citations_outside_the_enum_cannot_be_generated(tiny_llm: LlamaCppLLM) -> None:
    asked = [
        *MESSAGES,
        ChatMessage(role="user", content='Cite e7 and e99 only, like {"claims": [{"cites": ["e99"], "text": "x"}]}.'),
    ]
    generation = tiny_llm.chat(asked, claims_schema(HANDLES), max_tokens=160)
    assert_follows_claims_schema(generation.text, HANDLES, max_claims=3)


def test_a_schema_the_grammar_converter_cannot_take_is_an_error_not_free_json(tiny_llm: LlamaCppLLM) -> None:
    unconvertible = {"type": "object", "properties": {"a": {"$ref": "https://example.com/elsewhere.json"}}}
    with pytest.raises(ModelError, match="cannot turn this JSON schema into a grammar"):
        tiny_llm.chat(MESSAGES, unconvertible, max_tokens=10)


def test_under_a_deadline_the_real_model_answers_the_same_or_stops_when_it_passes(tiny_llm: LlamaCppLLM) -> None:
    """With a deadline (the service's request timeout) the reply is streamed and checked token by token."""
    schema = claims_schema(HANDLES)
    tiny_llm.chat(MESSAGES, schema, 160)  # a first call on a cold context may differ in the last bits (prompt batch)
    plain = tiny_llm.chat(MESSAGES, schema, 160)
    with deadline(600):
        streamed = tiny_llm.chat(MESSAGES, schema, 160)
    assert streamed.text == plain.text and streamed.completion_tokens > 0
    endless = {"type": "array", "items": {"type": "integer"}, "minItems": 400}  # hundreds of tokens to write
    asked = [ChatMessage(role="user", content="List numbers.")]
    started = time.perf_counter()
    with deadline(0.5), pytest.raises(TimeoutExceeded, match="within the request timeout"):
        tiny_llm.chat(asked, endless, max_tokens=3000)
    assert time.perf_counter() - started < 2.5
    tiny_llm.chat(MESSAGES, schema, 160)  # cold again: another prompt came between
    assert tiny_llm.chat(MESSAGES, schema, 160).text == plain.text  # the stopped stream left the model usable
    with deadline(0), pytest.raises(TimeoutExceeded):  # past already: not even started
        tiny_llm.chat(MESSAGES, schema, 160)


def test_the_real_model_file_is_the_registered_one(tiny_llm: LlamaCppLLM) -> None:
    assert tiny_llm.name == "smollm2-135m"
    assert tiny_llm.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"


def test_gpu_layers_are_passed_through_and_the_log_says_a_cpu_build_ignores_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import llama_cpp

    seen: dict[str, Any] = {}
    real = llama_cpp.Llama

    def spy(**kwargs: Any) -> Any:
        seen.update(kwargs)
        return real(**kwargs)

    monkeypatch.setattr(llama_cpp, "Llama", spy)
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: False)
    llm = LlamaCppLLM("smollm2-135m", ModelStore(tmp_path), n_ctx=512, n_threads=1, n_gpu_layers=-1)
    with caplog.at_level(logging.INFO, logger="whyrec"):
        llm.count_tokens(MESSAGES)
    assert seen["n_gpu_layers"] == -1 and seen["n_threads"] == 1 and seen["n_ctx"] == 512
    assert "no GPU support" in caplog.text and "gpu_layers=-1 is ignored" in caplog.text
    assert llm.settings()["offloaded_layers"] == 0
    llm.close()


def test_offloaded_layers_are_what_llama_cpp_placed_not_what_was_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import llama_cpp

    # a build that says it can offload, asked for 12 layers: this CPU build still places every layer on the CPU
    monkeypatch.setattr(llama_cpp, "llama_supports_gpu_offload", lambda: True)
    llm = LlamaCppLLM("smollm2-135m", ModelStore(tmp_path), n_ctx=512, n_threads=1, n_gpu_layers=12)
    with caplog.at_level(logging.INFO, logger="whyrec"):
        llm.count_tokens(MESSAGES)
    # SmolLM2-135M: 30 blocks and the output layer
    assert len(llm.placement) == 31 and set(llm.placement.values()) == {"CPU"}
    assert llm.settings()["offloaded_layers"] == 0 and "on the CPU" in caplog.text
    llm.close()


def test_a_layer_llama_cpp_logs_on_a_gpu_device_counts_as_offloaded() -> None:
    import llama_cpp

    from whyrec.llm.placement import LayerPlacement

    with LayerPlacement(llama_cpp) as placement:
        for line in (
            b"load_tensors: layer   0 assigned to device CPU, is_swa = 0\n",
            b"load_tensors: layer   1 assigned to device CUDA0, is_swa = 0\n",
            b"llama_context: n_ctx = 512\n",
        ):
            placement._callback(4, line, None)  # what llama.cpp calls with each log line
    assert placement.devices == {0: "CPU", 1: "CUDA0"} and placement.offloaded == 1


def test_a_corrupt_model_file_is_a_model_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "broken.gguf"
    path.write_bytes(b"GGUF" + b"\x00" * 4096)
    llm = LlamaCppLLM(str(path), ModelStore(tmp_path / "home"), n_ctx=512, n_threads=1)
    with pytest.raises(ModelError, match=rf"{path}: llama.cpp could not load this model"):
        llm.chat(MESSAGES, claims_schema(HANDLES), 10)


def test_without_llama_cpp_python_the_message_says_install_the_llm_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    llm = LlamaCppLLM("smollm2-135m", ModelStore(tmp_path), n_ctx=512)
    with pytest.raises(DependencyMissingError, match=r"pip install 'whyrec\[llm\]'"):
        llm.chat(MESSAGES, claims_schema(HANDLES), 10)
