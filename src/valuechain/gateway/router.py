"""The /v1 surface (OpenAI wire format) and the tokenizer routes lm-evaluation-harness probes.

Each route parses its body (orjson + the pydantic model of ``protocol.py``), takes the bearer secret, and
hands both to its serving class (``serving_*.py``, held on ``app.state.gateway``). Routes take the raw
``Request``: the hot path avoids FastAPI's per-request dependency machinery, and every failure is
rendered once, as an OpenAI error object, by ``guard``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import orjson
import pydantic
from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from valuechain.accounts.tokens import parse_bearer
from valuechain.core.errors import AppError
from valuechain.core.openapi import SECURITY, json_body
from valuechain.gateway import protocol as p
from valuechain.gateway.errors import GatewayError, bad_request, invalid_url, render
from valuechain.gateway.state import GatewayState, build_gateway
from valuechain.runtime.base import JsonDict

M = TypeVar("M", bound=pydantic.BaseModel)
log = logging.getLogger("valuechain.gateway")


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def guard(handler: Handler) -> Handler:
    """Render every expected exception of a /v1 handler as the OpenAI error object."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except (AppError, pydantic.ValidationError) as exc:  # BackendError is an AppError
            return render(exc)
        except Exception as exc:  # a bug: logged with its trace, answered as an OpenAI-shaped 500
            log.exception("unexpected error on %s", request.url.path)
            return render(exc)

    return guarded


class OpenAIRoute(APIRoute):
    """A FastAPI route whose errors are OpenAI error objects."""

    def get_route_handler(self) -> Handler:
        return guard(super().get_route_handler())


router = APIRouter(route_class=OpenAIRoute, tags=["openai"])
# OpenAPI metadata: the handlers read the key and the body themselves (the hot path skips FastAPI's
# dependency machinery), so the document learns both from here.
KEYED: dict[str, Any] = {"security": SECURITY}


def keyed_body(model: type[pydantic.BaseModel]) -> dict[str, Any]:
    """OpenAPI metadata of a keyed route whose JSON body is ``model``."""
    return {**KEYED, **json_body(model)}


def _state(request: Request) -> GatewayState:
    state = getattr(request.app.state, "gateway", None)
    if state is None:  # an app used without its lifespan (some tests): build on first use
        state = request.app.state.gateway = build_gateway(request.app.state.settings, request.app.state.db)
    return state  # type: ignore[no-any-return]


def bearer_secret(request: Request) -> str:
    """The bearer secret of a /v1 request; 401 in OpenAI's words when there is none."""
    secret = parse_bearer(request.headers.get("authorization"))
    if secret is None:
        raise GatewayError(
            "missing API key: send `Authorization: Bearer <key>`", status_code=401, code="invalid_api_key"
        )
    return secret


async def _parse(request: Request, model: type[M], limit: int) -> tuple[M, JsonDict]:
    if int(request.headers.get("content-length") or 0) > limit:
        raise GatewayError(f"request body exceeds {limit} bytes", status_code=413, code="request_too_large")
    raw = await request.body()
    if len(raw) > limit:
        raise GatewayError(f"request body exceeds {limit} bytes", status_code=413, code="request_too_large")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc.msg}", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise bad_request("the body must be a JSON object")
    try:
        return model.model_validate(data), data
    except pydantic.ValidationError as exc:
        raise _invalid(exc) from exc


def _invalid(exc: pydantic.ValidationError) -> GatewayError:
    """The first validation error as OpenAI words it: a typo, an unsupported parameter, or a bad value."""
    err = exc.errors(include_url=False)[0]
    param = ".".join(str(x) for x in err["loc"]) or None
    if err["type"] in ("unsupported_parameter", "unsupported_value"):
        return bad_request(str(err["msg"]), param=param, code=err["type"])
    if err["type"] == "extra_forbidden":
        return bad_request(f"Unrecognized request argument supplied: {param}", param=param)
    return bad_request(f"{param}: {err['msg']}" if param else str(err["msg"]), param=param)


@router.get("/v1/models", openapi_extra=KEYED)
async def list_models(request: Request) -> Response:
    """Models this key may call."""
    return _state(request).models.list_models(secret=bearer_secret(request))


@router.get("/v1/models/{model_id:path}", openapi_extra=KEYED)
async def retrieve_model(model_id: str, request: Request) -> Response:
    """One model this key may call."""
    return _state(request).models.retrieve_model(model_id, secret=bearer_secret(request))


@router.post("/v1/chat/completions", openapi_extra=keyed_body(p.ChatCompletionRequest))
async def create_chat_completion(request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/chat/create"""
    state = _state(request)
    req, body = await _parse(request, p.ChatCompletionRequest, state.max_body_bytes)
    return await state.chat.create_chat_completion(req, body, secret=bearer_secret(request))


@router.post("/v1/completions", openapi_extra=keyed_body(p.CompletionRequest))
async def create_completion(request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/completions/create"""
    state = _state(request)
    req, body = await _parse(request, p.CompletionRequest, state.max_body_bytes)
    return await state.completion.create_completion(req, body, secret=bearer_secret(request))


@router.post("/v1/embeddings", openapi_extra=keyed_body(p.EmbeddingRequest))
async def create_embedding(request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/embeddings/create"""
    state = _state(request)
    req, body = await _parse(request, p.EmbeddingRequest, state.max_body_bytes)
    return await state.embedding.create_embedding(req, body, secret=bearer_secret(request))


@router.get("/tokenizer_info", openapi_extra=KEYED)
async def tokenizer_info(request: Request) -> Response:
    """Tokenizer facts for lm-evaluation-harness's remote tokenizer (``?model=`` picks the model)."""
    model = request.query_params.get("model")
    return await _state(request).tokenization.tokenizer_info(model, secret=bearer_secret(request))


@router.post("/tokenize", openapi_extra=keyed_body(p.TokenizeRequest))
async def tokenize(request: Request) -> Response:
    """``{"prompt", "add_special_tokens"}`` → ``{"tokens", "count", "max_model_len"}`` (vLLM's shape)."""
    state = _state(request)
    req, _ = await _parse(request, p.TokenizeRequest, state.max_body_bytes)
    return await state.tokenization.tokenize(req, secret=bearer_secret(request))


@router.post("/detokenize", openapi_extra=keyed_body(p.DetokenizeRequest))
async def detokenize(request: Request) -> Response:
    """``{"tokens"}`` → ``{"prompt"}``."""
    state = _state(request)
    req, _ = await _parse(request, p.DetokenizeRequest, state.max_body_bytes)
    return await state.tokenization.detokenize(req, secret=bearer_secret(request))


def _is_unknown_v1(method: str, path: str, served: tuple[str, ...] = ()) -> bool:
    """A /v1 request no route serves (the hot routes are looked up before; ``served`` are the prefixes of
    other domains' /v1 routes, such as fine-tuning's)."""
    if path != "/v1" and not path.startswith("/v1/"):
        return False
    if served and path.startswith(served):
        return False
    return not (method == "GET" and path.startswith("/v1/models/"))


# The hot routes, answered by ``FastPath`` without FastAPI's route table (also their metrics' templates).
FAST_PATHS = (
    "/v1/models",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/tokenizer_info",
    "/tokenize",
    "/detokenize",
)


class FastPath:
    """ASGI middleware sending the hot /v1 routes straight to their handlers.

    Measured: walking FastAPI's route table cost more per request than the rest of the app stack
    (~60 µs of ~95 µs on /v1/models). The routes stay registered on ``router`` for OpenAPI and for paths
    not listed here.
    """

    def __init__(self, app: Any, *, served: tuple[str, ...] = ()) -> None:
        self.app = app
        self.served = served  # /v1 prefixes routed by the app (fine-tuning), not answered with a 404 here
        self.routes: dict[tuple[str, str], Handler] = {
            ("GET", "/v1/models"): guard(list_models),
            ("POST", "/v1/chat/completions"): guard(create_chat_completion),
            ("POST", "/v1/completions"): guard(create_completion),
            ("POST", "/v1/embeddings"): guard(create_embedding),
            ("GET", "/tokenizer_info"): guard(tokenizer_info),
            ("POST", "/tokenize"): guard(tokenize),
            ("POST", "/detokenize"): guard(detokenize),
        }

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        handler = (
            self.routes.get((scope.get("method", ""), scope.get("path", "")))
            if scope["type"] == "http"
            else None
        )
        if handler is None:
            path = scope.get("path", "") if scope["type"] == "http" else ""
            if _is_unknown_v1(scope.get("method", ""), path, self.served):
                await render(invalid_url(scope["method"], path))(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        response = await handler(Request(scope, receive))
        await response(scope, receive, send)
