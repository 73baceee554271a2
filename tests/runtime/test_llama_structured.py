"""Structured outputs and tool calls of the embedded adapter: plans, grammars and call parsing."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("llama_cpp")

from llama_cpp.llama_grammar import LlamaGrammar  # noqa: E402

from valuechain.runtime import _llama_structured as structured  # noqa: E402
from valuechain.runtime.base import BackendRequestError  # noqa: E402
from valuechain.runtime.llamacpp import LlamaConfig, LlamaCppBackend, bundled_model_path  # noqa: E402

TOOL = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}


def test_plain_requests_get_no_grammar() -> None:
    assert structured.decoding_plan({"messages": []}) is None
    assert structured.decoding_plan({"response_format": {"type": "text"}}) is None
    assert structured.decoding_plan({"tools": [TOOL], "tool_choice": "none"}) is None


def test_grammars_are_built_once_per_schema() -> None:
    body = {
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": {"type": "integer"}},
        }
    }
    first, again = structured.decoding_plan(body), structured.decoding_plan(body)
    assert first is not None and again is not None and first.grammar is again.grammar


def test_a_schema_the_converter_cannot_express_is_a_request_error() -> None:
    body = {
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "foo"}}}
    }
    with pytest.raises(BackendRequestError, match="response_format"):
        structured.decoding_plan(body)


def test_a_grammar_llama_cpp_cannot_parse_is_refused_not_a_crash() -> None:
    backend = LlamaCppBackend(LlamaConfig(model_path=bundled_model_path(), n_ctx=64), served_name="s")
    vocab = backend._llm()._model.vocab
    with pytest.raises(BackendRequestError):
        structured.check_grammar(LlamaGrammar.from_string('root ::= ( "a"', verbose=False), vocab)
    good = LlamaGrammar.from_string('root ::= "a"', verbose=False)
    structured.check_grammar(good, vocab)
    assert good.checked


def test_tool_calls_keep_finished_calls_once() -> None:
    call = {"name": "f", "arguments": {"x": 1}}
    text = f'[{json.dumps(call)}, {json.dumps(call)}, {{"name": "f", "argu'
    calls = structured.tool_calls_of(text)
    assert calls is not None and len(calls) == 1
    assert calls[0]["type"] == "function" and calls[0]["id"].startswith("call_")
    assert json.loads(calls[0]["function"]["arguments"]) == {"x": 1}
    assert structured.tool_calls_of("Hello") is None
    assert structured.tool_calls_of('[{"na') is None


def test_tool_history_is_rendered_as_text_with_the_tool_note() -> None:
    messages = [
        {"role": "system", "content": "Be brief."},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}
            ],
        },
        {"role": "tool", "tool_call_id": "c", "content": [{"type": "text", "text": "42"}]},
    ]
    plain = structured.prompt_messages(messages, "NOTE")
    assert plain[0] == {"role": "system", "content": "Be brief.\n\nNOTE"}
    assert json.loads(plain[1]["content"]) == [{"name": "f", "arguments": {"x": 1}}]
    assert plain[2] == {"role": "tool", "content": "42"}
