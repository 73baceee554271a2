"""Bad input is a 4xx in the OpenAI error shape, never a 500, and never reaches the backend or the bill."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.gateway.conftest import MODEL, World
from valuechain.gateway.models import UsageRecord

MSG = [{"role": "user", "content": "hi"}]
CASES = [
    ("/v1/chat/completions", {"model": MODEL}),
    ("/v1/chat/completions", {"model": MODEL, "messages": "hi"}),
    ("/v1/chat/completions", {"model": MODEL, "messages": []}),
    ("/v1/chat/completions", {"model": MODEL, "messages": [{"role": "wizard", "content": "x"}]}),
    ("/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user", "content": 5}]}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "n": 0}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "n": 1000}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "max_tokens": -1}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "max_tokens": 10**12}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "temperature": "hot"}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "stop": ["a"] * 10}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "top_logprobs": 5}),
    ("/v1/chat/completions", {"model": MODEL, "messages": MSG, "stream_options": "yes"}),
    ("/v1/chat/completions", {"model": 7, "messages": MSG}),
    ("/v1/completions", {"model": MODEL}),
    ("/v1/completions", {"model": MODEL, "prompt": []}),
    ("/v1/completions", {"model": MODEL, "prompt": [[1, "x"]]}),
    ("/v1/completions", {"model": MODEL, "prompt": "x", "logprobs": 99}),
    ("/v1/completions", {"model": MODEL, "prompt": "x", "max_tokens": 0}),
    ("/v1/completions", {"model": MODEL, "prompt": "x", "suffix": "y"}),
    ("/v1/embeddings", {"model": MODEL, "input": []}),
    ("/v1/embeddings", {"model": MODEL, "input": "x", "encoding_format": "hex"}),
    ("/v1/embeddings", {"model": MODEL, "input": "x", "dimensions": 0}),
    ("/v1/embeddings", {"model": MODEL, "input": {"a": 1}}),
    ("/v1/chat/completions", ["not", "an", "object"]),
    ("/v1/chat/completions", "just a string"),
    ("/tokenize", {"prompt": 5}),
    ("/detokenize", {"tokens": "abc"}),
]


@pytest.mark.parametrize(("path", "body"), CASES)
async def test_bad_input_is_4xx_and_unbilled(world: World, path: str, body: object) -> None:
    async with world.http() as http:
        r = await http.post(path, json=body, headers={"Authorization": f"Bearer {world.dev_key}"})
    assert 400 <= r.status_code < 500, r.text
    error = r.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    assert world.backend.calls == 0
    with world.db.session() as session:
        assert session.execute(select(func.count()).select_from(UsageRecord)).scalar_one() == 0
