"""Contract tests: the official ``openai`` client against the app (ASGI), every endpoint and error status."""

from __future__ import annotations

import base64
import struct

import openai
import pytest

from tests.gateway.conftest import MODEL, World
from valuechain.runtime.base import BackendTimeoutError, BackendUnavailableError


async def test_models_lists_entitled_model_only(world: World) -> None:
    models = await world.client().models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert (await world.client(world.outsider_key).models.list()).data == []


async def test_chat_with_usage(world: World) -> None:
    r = await world.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=8
    )
    assert r.choices[0].message.content == "Hello world!"
    assert r.model == MODEL
    assert r.usage is not None and r.usage.total_tokens == 10
    two = await world.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], max_tokens=8, n=2
    )
    assert [c.index for c in two.choices] == [0, 1]


async def test_chat_stream_reports_usage_once(world: World) -> None:
    stream = await world.client().chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "hi"}],
        max_tokens=8,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usages = [c.usage for c in chunks if c.usage]
    assert text == "Hello world!"
    assert len(usages) == 1 and usages[0].completion_tokens == 3
    assert chunks[-1].choices == []


async def test_completions_echo_logprobs(world: World) -> None:
    r = await world.client().completions.create(
        model=MODEL, prompt=[[1, 2, 3]], max_tokens=1, echo=True, logprobs=1, temperature=0
    )
    assert r.choices[0].logprobs is not None
    assert r.choices[0].logprobs.token_logprobs == [-0.5, -0.5, -0.5]


async def test_embeddings_base64_by_default(world: World) -> None:
    r = await world.client().embeddings.create(model=MODEL, input=["a", "b"])
    assert len(r.data) == 2 and r.data[0].embedding == [0.5, -0.25, 1.0]
    raw = await world.http().post(
        "/v1/embeddings",
        json={"model": MODEL, "input": "a", "encoding_format": "base64"},
        headers={"Authorization": f"Bearer {world.dev_key}"},
    )
    vec = struct.unpack("<3f", base64.b64decode(raw.json()["data"][0]["embedding"]))
    assert vec == (0.5, -0.25, 1.0)


@pytest.mark.parametrize(
    ("key", "kwargs", "error", "status"),
    [
        ("bad", {}, openai.AuthenticationError, 401),
        ("outsider", {}, openai.PermissionDeniedError, 403),
        ("dev", {"model": "acme/none"}, openai.NotFoundError, 404),
        ("dev", {"max_tokens": 10_000}, openai.BadRequestError, 400),
        ("dev", {"temperature": 9}, openai.BadRequestError, 400),
        ("dev", {"extra_body": {"bogus": 1}}, openai.BadRequestError, 400),
    ],
)
async def test_error_statuses(
    world: World, key: str, kwargs: dict[str, object], error: type, status: int
) -> None:
    secret = {"bad": "vc_0000000000_" + "x" * 40, "outsider": world.outsider_key, "dev": world.dev_key}[key]
    args: dict[str, object] = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 4,
    }
    args.update(kwargs)
    with pytest.raises(error) as info:
        await world.client(secret).chat.completions.create(**args)  # type: ignore[call-overload]
    assert info.value.status_code == status
    assert isinstance(info.value.body, dict) and info.value.body["message"]
    assert world.backend.calls == 0


async def test_malformed_json_and_huge_body(world: World) -> None:
    headers = {"Authorization": f"Bearer {world.dev_key}", "content-type": "application/json"}
    async with world.http() as http:
        bad = await http.post("/v1/chat/completions", content=b"{not json", headers=headers)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_json"
        huge = await http.post(
            "/v1/chat/completions", content=b"x" * (world.gateway.max_body_bytes + 1), headers=headers
        )
        assert huge.status_code == 413 and huge.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("exc", "status"), [(BackendUnavailableError("down"), 503), (BackendTimeoutError("slow"), 502)]
)
async def test_backend_failures(world: World, exc: Exception, status: int) -> None:
    world.backend.fail = exc
    with pytest.raises(openai.InternalServerError) as info:
        await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4
        )
    assert info.value.status_code == status
    world.backend.fail = None
    ok = await world.client().chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4
    )
    assert ok.choices[0].message.content


async def test_quota_exhausted_is_429_without_retry(world: World) -> None:
    from tests.gateway.helpers import drain_wallet

    drain_wallet(world)
    await world.gateway.admission.reservations.invalidate(_dev_org(world))
    with pytest.raises(openai.RateLimitError) as info:
        await world.client().chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=4
        )
    assert info.value.response.headers["x-should-retry"] == "false"
    assert info.value.body["type"] == "insufficient_quota"  # type: ignore[index]


def _dev_org(world: World) -> str:
    from tests.gateway.conftest import _org_id

    return _org_id(world.db, "devco")
