"""Every /v1 answer, whole or streamed chunk by chunk, against OpenAI's published OpenAPI document.

Realistic requests (each valid against the spec's request schema) go through the ASGI app to the bundled
SmolLM2 model; the pinned cut and its provenance are in ``tests/gateway/openapi``. No client input may
produce a 5xx. Small ``max_tokens``: the machine is shared.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import jsonschema
import orjson
import pytest
from pydantic import BaseModel, Field

from tests.gateway.conftest import MODEL, World
from tests.gateway.fakes import FakeBackend
from tests.gateway.spec import check

pytest.importorskip("llama_cpp")

from valuechain.runtime.llamacpp import LlamaConfig, LlamaCppBackend, bundled_model_path  # noqa: E402

N_CTX = 512
CHAT = "/v1/chat/completions"
MSG = [{"role": "user", "content": "Name a colour."}]
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string", "maxLength": 12}, "age": {"type": "integer"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 16}},
            "required": ["city"],
            "additionalProperties": False,
        },
        "strict": True,
    },
}
TIME = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


class _Shared(LlamaCppBackend):
    """The module's one engine: a test's gateway closing its pool must not unload it."""

    async def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def engine() -> Iterator[LlamaCppBackend]:
    backend = _Shared(LlamaConfig(model_path=bundled_model_path(), n_ctx=N_CTX), served_name="smol")
    yield backend
    asyncio.run(LlamaCppBackend.close(backend))  # the shared engine's workers


@pytest.fixture
async def llm(world: World, engine: LlamaCppBackend, sqlite_only: None) -> AsyncIterator[World]:
    world.gateway.pool.put(world.version_id, engine)
    yield world


async def _call(world: World, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {key or world.dev_key}"}
    async with world.http() as http:
        return await http.request(method, path, json=body, headers=headers)


def _events(text: str) -> list[dict[str, Any]]:
    frames = [f.removeprefix("data: ") for f in text.split("\n\n") if f]
    assert frames[-1] == "[DONE]" and "[DONE]" not in frames[:-1]
    return [orjson.loads(f) for f in frames[:-1]]


# (path, request body, response schema, stream chunk schema)
OK: list[tuple[str, dict[str, Any], str]] = [
    (CHAT, {"model": MODEL, "messages": MSG, "max_tokens": 4, "seed": 1}, "CreateChatCompletionResponse"),
    (
        CHAT,
        {
            "model": MODEL,
            "messages": [{"role": "system", "content": "Be brief."}, *MSG],
            "max_completion_tokens": 3,
            "n": 2,
            "logprobs": True,
            "top_logprobs": 2,
            "stop": ["\n"],
            "temperature": 0.5,
            "logit_bias": {"42": -100},
        },
        "CreateChatCompletionResponse",
    ),
    (
        CHAT,
        {
            "model": MODEL,
            "messages": [{"role": "developer", "content": [{"type": "text", "text": "Answer."}]}, *MSG],
            "max_tokens": 3,
            "prompt_cache_key": "k1",
            "prompt_cache_retention": "in_memory",
            "modalities": ["text"],
            "reasoning_effort": "low",
            "verbosity": "medium",
            "user": "u1",
            "safety_identifier": "s1",
            "metadata": {"run": "1"},
            "store": False,
            "service_tier": "auto",
            "parallel_tool_calls": True,
            "response_format": {"type": "text"},
            "tools": [WEATHER],
            "tool_choice": "none",
        },
        "CreateChatCompletionResponse",
    ),
    ("/v1/completions", {"model": MODEL, "prompt": "Once upon", "max_tokens": 3}, "CreateCompletionResponse"),
    ("/v1/completions", {"model": MODEL, "prompt": "", "max_tokens": 2}, "CreateCompletionResponse"),
    (
        "/v1/completions",
        {"model": MODEL, "prompt": ["One", "Two"], "n": 2, "max_tokens": 2, "logprobs": 2, "suffix": ""},
        "CreateCompletionResponse",
    ),
    (
        "/v1/completions",
        {"model": MODEL, "prompt": [504, 3458], "max_tokens": 0, "echo": True, "logprobs": 1},
        "CreateCompletionResponse",
    ),
    ("/v1/embeddings", {"model": MODEL, "input": "hello"}, "CreateEmbeddingResponse"),
    (
        "/v1/embeddings",
        {"model": MODEL, "input": ["ok", "fine"], "dimensions": 8, "encoding_format": "float"},
        "CreateEmbeddingResponse",
    ),
    ("/v1/embeddings", {"model": MODEL, "input": [0]}, "CreateEmbeddingResponse"),
    ("/v1/embeddings", {"model": MODEL, "input": [[1, 2], [3]], "user": "u"}, "CreateEmbeddingResponse"),
]
ANSWER_SCHEMA = {
    CHAT: "CreateChatCompletionResponse",
    "/v1/completions": "CreateCompletionResponse",
    "/v1/embeddings": "CreateEmbeddingResponse",
}
STREAM_SCHEMA = {CHAT: "CreateChatCompletionStreamResponse", "/v1/completions": "CreateCompletionStreamChunk"}
REQUEST_SCHEMA = {
    CHAT: "CreateChatCompletionRequest",
    "/v1/completions": "CreateCompletionRequest",
    "/v1/embeddings": "CreateEmbeddingRequest",
}


@pytest.mark.parametrize(("path", "body", "schema"), OK)
async def test_whole_answers_conform(llm: World, path: str, body: dict[str, Any], schema: str) -> None:
    check(REQUEST_SCHEMA[path], body)
    r = await _call(llm, "POST", path, body)
    assert r.status_code == 200, r.text
    check(schema, r.json())
    if path == CHAT:
        assert r.json()["system_fingerprint"].startswith("fp_")


STREAMS: list[tuple[str, dict[str, Any], str]] = [
    (CHAT, {"model": MODEL, "messages": MSG, "max_tokens": 3}, "CreateChatCompletionStreamResponse"),
    (
        CHAT,
        {
            "model": MODEL,
            "messages": MSG,
            "max_tokens": 3,
            "n": 2,
            "logprobs": True,
            "top_logprobs": 1,
            "stream_options": {"include_usage": True},
        },
        "CreateChatCompletionStreamResponse",
    ),
    (
        "/v1/completions",
        {"model": MODEL, "prompt": "Once", "max_tokens": 3, "logprobs": 1, "echo": True},
        "CreateCompletionStreamChunk",
    ),
    (
        "/v1/completions",
        {"model": MODEL, "prompt": ["A", "B"], "max_tokens": 2, "stream_options": {"include_usage": True}},
        "CreateCompletionStreamChunk",
    ),
]


@pytest.mark.parametrize(("path", "body", "schema"), STREAMS)
async def test_stream_chunks_conform(llm: World, path: str, body: dict[str, Any], schema: str) -> None:
    body = {**body, "stream": True}
    check(REQUEST_SCHEMA[path], body)
    r = await _call(llm, "POST", path, body)
    assert r.status_code == 200, r.text
    chunks = _events(r.text)
    for chunk in chunks:
        check(schema, chunk)
    with_choices = [c for c in chunks if c["choices"]]
    usage = [c for c in chunks if c.get("usage")]
    assert len(usage) == (1 if "stream_options" in body else 0)
    if body.get("logprobs"):  # each generated piece carries its logprobs, as the whole answer does
        pieces = [
            ch
            for c in with_choices
            for ch in c["choices"]
            if (ch.get("delta") or {}).get("content") or ch.get("text")
        ]
        assert pieces and all(ch["logprobs"] for ch in pieces)


async def test_models_conform(llm: World) -> None:
    r = await _call(llm, "GET", "/v1/models")
    check("ListModelsResponse", r.json())
    r = await _call(llm, "GET", f"/v1/models/{MODEL}")
    check("Model", r.json())


async def test_prompt_of_exactly_the_context_length_is_served(llm: World) -> None:
    body = {"model": MODEL, "prompt": [504] * N_CTX, "max_tokens": 1}
    r = await _call(llm, "POST", "/v1/completions", body)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["finish_reason"] == "length"
    r = await _call(llm, "POST", "/v1/embeddings", {"model": MODEL, "input": [[504] * N_CTX]})
    assert r.status_code == 200, r.text
    r = await _call(llm, "POST", "/v1/completions", {**body, "prompt": [504] * (N_CTX + 1)})
    assert r.status_code == 400, r.text
    r = await _call(llm, "POST", "/v1/embeddings", {"model": MODEL, "input": "word " * (N_CTX + 10)})
    assert r.status_code == 400, r.text  # refused, not silently cut


# --- client mistakes: 4xx in OpenAI's ErrorResponse, never 5xx -----------------------------------

ERRORS: list[tuple[str, str, Any, int, str | None, str | None]] = [
    # method, path, body, status, code, param
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "logit_bias": {"x": 1}},
        400,
        "invalid_request",
        "logit_bias",
    ),
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "logit_bias": {"99999999": 5}},
        400,
        "invalid_request",
        None,
    ),
    (
        "POST",
        "/v1/completions",
        {"model": MODEL, "prompt": "a", "logit_bias": {"1.5": 1}},
        400,
        "invalid_request",
        "logit_bias",
    ),
    ("POST", "/v1/embeddings", {"model": MODEL, "input": ""}, 400, "invalid_request", "input"),
    ("POST", "/v1/embeddings", {"model": MODEL, "input": ["ok", ""]}, 400, "invalid_request", "input"),
    (
        "POST",
        "/v1/embeddings",
        {"model": MODEL, "input": "x", "dimensions": 100000},
        400,
        "invalid_request",
        None,
    ),
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "audio": {"voice": "alloy", "format": "mp3"}},
        400,
        "unsupported_parameter",
        "audio",
    ),
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "prediction": {"type": "content", "content": "x"}},
        400,
        "unsupported_parameter",
        "prediction",
    ),
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "web_search_options": {}},
        400,
        "unsupported_parameter",
        "web_search_options",
    ),
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "modalities": ["text", "audio"]},
        400,
        "unsupported_value",
        "modalities",
    ),
    ("POST", CHAT, {"model": MODEL, "messages": MSG, "store": True}, 400, "unsupported_value", "store"),
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "service_tier": "priority"},
        400,
        "unsupported_value",
        "service_tier",
    ),
    (
        "POST",
        "/v1/completions",
        {"model": MODEL, "prompt": "a", "suffix": "b"},
        400,
        "unsupported_value",
        "suffix",
    ),
    ("POST", CHAT, {"model": MODEL, "messages": MSG, "temprature": 1}, 400, "invalid_request", "temprature"),
    (
        "POST",
        CHAT,
        {"model": MODEL, "messages": MSG, "tool_choice": "required"},
        400,
        "invalid_request",
        None,
    ),
    (
        "POST",
        CHAT,
        {
            "model": MODEL,
            "messages": MSG,
            "tools": [WEATHER],
            "tool_choice": {"type": "function", "function": {"name": "nope"}},
        },
        400,
        "invalid_request",
        None,
    ),
    (
        "POST",
        CHAT,
        {
            "model": MODEL,
            "messages": MSG,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "x",
                    "schema": {"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}},
                },
            },
        },
        400,
        "invalid_request",
        None,
    ),
    (
        "POST",
        "/v1/completions",
        {"model": MODEL, "prompt": [[504] * (N_CTX + 1)]},
        400,
        "invalid_request",
        None,
    ),
    ("POST", CHAT, {"model": "acme/nope", "messages": MSG}, 404, "model_not_found", "model"),
    ("GET", "/v1/responses", None, 404, None, None),
    ("POST", "/v1/moderations", {"input": "x"}, 404, None, None),
    ("DELETE", "/v1/embeddings", None, 404, None, None),
    ("GET", "/v1/chat/completions", None, 404, None, None),
    ("POST", "/v1/models", {}, 404, None, None),
    ("GET", "/v1", None, 404, None, None),
]


@pytest.mark.parametrize(("method", "path", "body", "status", "code", "param"), ERRORS)
async def test_client_mistakes_are_openai_errors(
    llm: World, method: str, path: str, body: Any, status: int, code: str | None, param: str | None
) -> None:
    r = await _call(llm, method, path, body)
    assert r.status_code == status, r.text
    check("ErrorResponse", r.json())
    error = r.json()["error"]
    assert (error["code"], error["type"]) == (code, "invalid_request_error")
    if param is not None:
        assert error["param"] == param and param in error["message"]
    if code is None:
        assert error["message"] == f"Invalid URL ({method} {path})"


async def test_wrong_key_is_invalid_api_key(llm: World) -> None:
    r = await _call(llm, "GET", "/v1/models", key="vc_wrong")
    assert r.status_code == 401
    check("ErrorResponse", r.json())
    assert r.json()["error"]["code"] == "invalid_api_key"


# --- structured outputs and tools: grammar-constrained, so a finished answer always parses -------------


def _json_schema(schema: dict[str, Any]) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "person", "schema": schema, "strict": True}}


@pytest.mark.parametrize(
    "response_format", [{"type": "json_object"}, _json_schema(PERSON)], ids=["json_object", "json_schema"]
)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_response_format_output_parses(
    llm: World, response_format: dict[str, Any], stream: bool
) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Describe a person as JSON."}],
        "response_format": response_format,
        "max_tokens": 48,
        "temperature": 0,
        "stream": stream,
    }
    check("CreateChatCompletionRequest", body)
    r = await _call(llm, "POST", CHAT, body)
    assert r.status_code == 200, r.text
    if stream:
        chunks = _events(r.text)
        for chunk in chunks:
            check("CreateChatCompletionStreamResponse", chunk)
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1]
    else:
        check("CreateChatCompletionResponse", r.json())
        text, finish = r.json()["choices"][0]["message"]["content"], r.json()["choices"][0]["finish_reason"]
    assert finish == "stop", text
    value = orjson.loads(text)
    assert isinstance(value, dict)
    if response_format["type"] == "json_schema":
        jsonschema.validate(value, PERSON)


def _calls_of(r: Any, stream: bool) -> tuple[list[dict[str, Any]], str]:
    if not stream:
        check("CreateChatCompletionResponse", r.json())
        choice = r.json()["choices"][0]
        assert choice["message"]["content"] is None
        return [c["function"] for c in choice["message"]["tool_calls"]], choice["finish_reason"]
    chunks = _events(r.text)
    for chunk in chunks:
        check("CreateChatCompletionStreamResponse", chunk)
    deltas = [d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls") or []]
    finish = [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1]
    return [d["function"] for d in deltas], finish


@pytest.mark.parametrize(
    ("tool_choice", "parallel"),
    [("required", False), ({"type": "function", "function": {"name": "get_weather"}}, True)],
    ids=["required", "named"],
)
@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
async def test_tool_calls_parse_against_parameters(
    llm: World, tool_choice: Any, parallel: bool, stream: bool
) -> None:
    body = {
        "model": MODEL,
        "messages": ASK,
        "tools": [WEATHER, TIME],
        "tool_choice": tool_choice,
        "parallel_tool_calls": parallel,
        "max_tokens": 60,
        "temperature": 0,
        "stream": stream,
    }
    check("CreateChatCompletionRequest", body)
    r = await _call(llm, "POST", CHAT, body)
    assert r.status_code == 200, r.text
    calls, finish = _calls_of(r, stream)
    assert finish in ("tool_calls", "length") and calls  # "length": calls finished before the cut
    assert len(calls) == 1 or parallel
    tools = {t["function"]["name"]: t["function"] for t in (WEATHER, TIME)}
    for call in calls:
        if isinstance(tool_choice, dict):
            assert call["name"] == "get_weather"
        jsonschema.validate(orjson.loads(call["arguments"]), tools[call["name"]]["parameters"])


async def test_tool_results_continue_the_conversation(llm: World) -> None:
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
    }
    messages = [
        *ASK,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "Sunny, 21 C"},
    ]
    body = {"model": MODEL, "messages": messages, "tools": [WEATHER], "tool_choice": "auto", "max_tokens": 24}
    check("CreateChatCompletionRequest", body)
    r = await _call(llm, "POST", CHAT, body)
    assert r.status_code == 200, r.text
    check("CreateChatCompletionResponse", r.json())
    choice = r.json()["choices"][0]
    if choice["message"].get("tool_calls"):  # "auto": a call, which then parses, or text
        for c in choice["message"]["tool_calls"]:
            jsonschema.validate(orjson.loads(c["function"]["arguments"]), WEATHER["function"]["parameters"])
    else:
        assert isinstance(choice["message"]["content"], str)


async def test_official_client_reads_structured_and_tool_answers(llm: World) -> None:
    client = llm.client()
    r = await client.chat.completions.create(
        model=MODEL,
        messages=ASK,
        tools=[WEATHER],
        tool_choice="required",
        max_tokens=60,
        temperature=0,  # type: ignore[list-item]
    )
    call = r.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    jsonschema.validate(orjson.loads(call.function.arguments), WEATHER["function"]["parameters"])  # type: ignore[union-attr]

    class Person(BaseModel):
        name: str = Field(max_length=12)
        age: int

    parsed = await client.chat.completions.parse(
        model=MODEL,
        messages=[{"role": "user", "content": "A person as JSON."}],
        response_format=Person,
        max_tokens=48,
        temperature=0,
    )
    assert isinstance(parsed.choices[0].message.parsed, Person)


ODD: list[tuple[str, dict[str, Any]]] = [
    (CHAT, {"model": MODEL, "messages": MSG, "max_tokens": 2, "seed": 2**63 - 1, "stop": [""]}),
    (CHAT, {"model": MODEL, "messages": [{"role": "user", "content": []}], "max_tokens": 2}),
    (CHAT, {"model": MODEL, "messages": MSG, "max_tokens": 2, "logit_bias": {"2": -100, "0": 100}}),
    (CHAT, {"model": MODEL, "messages": [{"role": "user", "content": "x " * 3000}], "max_tokens": 2}),
    (CHAT, {"model": MODEL, "messages": MSG, "max_tokens": 2, "tools": [TIME], "n": 2, "stream": True}),
    (
        CHAT,
        {
            "model": MODEL,
            "messages": MSG,
            "max_tokens": 2,
            "response_format": {"type": "json_object"},
            "logprobs": True,
            "stream": True,
        },
    ),
    (
        CHAT,
        {
            "model": MODEL,
            "messages": MSG,
            "max_tokens": 2,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "x", "schema": {"type": "string", "pattern": "^[a-"}},
            },
        },
    ),
    (
        CHAT,
        {
            "model": MODEL,
            "messages": MSG,
            "max_tokens": 2,
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "x",
                    "schema": {"$ref": "#/$defs/a", "$defs": {"a": {"$ref": "#/$defs/a"}}},
                },
            },
        },
    ),
    ("/v1/completions", {"model": MODEL, "prompt": [-1], "max_tokens": 2}),
    ("/v1/completions", {"model": MODEL, "prompt": [[]], "max_tokens": 2}),
    (
        "/v1/completions",
        {"model": MODEL, "prompt": [""], "max_tokens": 2, "echo": True, "logprobs": 3, "stream": True},
    ),
    ("/v1/completions", {"model": MODEL, "prompt": "", "max_tokens": 0, "echo": True, "logprobs": 0}),
    ("/v1/completions", {"model": MODEL, "prompt": "a", "max_tokens": 2, "seed": 4294967296}),
    ("/v1/embeddings", {"model": MODEL, "input": [[]]}),
    (
        "/v1/embeddings",
        {"model": MODEL, "input": ["\u0000", " "], "dimensions": 1, "encoding_format": "base64"},
    ),
]


@pytest.mark.parametrize(("path", "body"), ODD)
async def test_odd_inputs_are_never_5xx(llm: World, path: str, body: dict[str, Any]) -> None:
    r = await _call(llm, "POST", path, body)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        check("ErrorResponse", r.json())
    elif body.get("stream"):
        for chunk in _events(r.text):
            check(STREAM_SCHEMA[path], chunk)
    else:
        check(ANSWER_SCHEMA[path], r.json())


class _NullFingerprint(FakeBackend):
    """A backend that sends ``system_fingerprint: null`` and no ``refusal``, as some OpenAI-compatible
    servers do."""

    async def chat(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**await super().chat(body), "system_fingerprint": None}


async def test_a_backends_answer_is_mended_to_the_document(world: World, sqlite_only: None) -> None:
    world.gateway.pool.put(world.version_id, _NullFingerprint())
    r = await _call(world, "POST", CHAT, {"model": MODEL, "messages": MSG})
    assert r.status_code == 200 and "system_fingerprint" not in r.json()
    check("CreateChatCompletionResponse", r.json())
