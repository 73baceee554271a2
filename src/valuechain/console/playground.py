"""The playground (``/playground``): chat with a model the organisation is entitled to.

Every message goes through the gateway's own serving path (``OpenAIServingChat``: admission, limits, the
hold on the wallet, the backend, settlement and metering) with the session's playground key, an
inference-only API key of the organisation that ends with the session (``accounts.sessions``): a
playground call is metered, limited and logged exactly like any ``/v1`` call.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
import pydantic
from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from valuechain.accounts import sessions
from valuechain.console.web import ConsoleRoute, SignedIn, check_csrf, get_db, render
from valuechain.core.errors import AppError, ValidationError
from valuechain.gateway.errors import render as render_openai_error
from valuechain.gateway.protocol import ChatCompletionRequest
from valuechain.market.statements import entitlement_rows

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
MAX_TOKENS = 512
BODY_LIMIT = 64 * 1024


def _models(request: Request, visitor: Any) -> list[str]:
    """The models the organisation may call: its approved API entitlements (served by model name)."""
    with get_db(request).session() as session:
        rows = entitlement_rows(session, principal=visitor.principal, side="consumer", status="approved")
    return sorted({r.model.split("@", 1)[0] for r in rows if r.model})


def _secret(request: Request, visitor: Any) -> str:
    with get_db(request).unit_of_work() as session:
        return sessions.playground_secret(session, visitor.session_id, principal=visitor.principal)


def _chat_request(
    model: str, messages: list[dict[str, str]], max_tokens: int, *, stream: bool
) -> tuple[ChatCompletionRequest, dict[str, Any]]:
    body: dict[str, Any] = {"model": model, "messages": messages, "max_tokens": max_tokens, "stream": stream}
    if stream:
        body["stream_options"] = {"include_usage": True}
    try:
        return ChatCompletionRequest.model_validate(body), body
    except pydantic.ValidationError as exc:
        raise ValidationError(f"invalid chat request: {exc.errors(include_url=False)[0]['msg']}") from exc


@router.get("/playground")
def show_playground(request: Request, visitor: SignedIn) -> Response:
    return render(
        request,
        "playground.html",
        visitor,
        models=_models(request, visitor),
        answer=None,
        error=None,
        message="",
        max_tokens=64,
    )


@router.post("/playground", dependencies=[Depends(check_csrf)])
async def chat_form(
    request: Request,
    visitor: SignedIn,
    model: Annotated[str, Form(max_length=200)],
    message: Annotated[str, Form(min_length=1, max_length=8000)],
    max_tokens: Annotated[int, Form(ge=1, le=MAX_TOKENS)] = 64,
) -> Response:
    """Without JavaScript: one whole answer, rendered in the page."""
    chat, body = _chat_request(model, [{"role": "user", "content": message}], max_tokens, stream=False)
    answer, error = None, None
    try:
        response = await request.app.state.gateway.chat.create_chat_completion(
            chat, body, secret=_secret(request, visitor)
        )
        data = orjson.loads(response.body)
        answer = data["choices"][0]["message"]["content"]
    except AppError as exc:
        error = str(exc)
    return render(
        request,
        "playground.html",
        visitor,
        models=_models(request, visitor),
        answer=answer,
        error=error,
        message=message,
        max_tokens=max_tokens,
        chosen=model,
    )


@router.post("/playground/chat", dependencies=[Depends(check_csrf)])
async def chat_stream(request: Request, visitor: SignedIn) -> Response:
    """With JavaScript: ``{model, messages, max_tokens}`` in, the gateway's SSE stream out (OpenAI chunks)."""
    raw = await request.body()
    if len(raw) > BODY_LIMIT:
        raise ValidationError(f"the conversation exceeds {BODY_LIMIT} bytes")
    try:
        data = orjson.loads(raw)
        model, messages = str(data["model"]), list(data["messages"])
        max_tokens = max(1, min(int(data.get("max_tokens") or 64), MAX_TOKENS))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValidationError("send a JSON object with model, messages and max_tokens") from exc
    chat, body = _chat_request(model, messages, max_tokens, stream=True)
    try:
        return await request.app.state.gateway.chat.create_chat_completion(
            chat, body, secret=_secret(request, visitor)
        )  # type: ignore[no-any-return]
    except AppError as exc:  # refused by admission (not entitled, limits, quota): the OpenAI error object
        return render_openai_error(exc)
