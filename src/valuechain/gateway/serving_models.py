"""GET /v1/models and the tokenizer routes lm-evaluation-harness probes (vLLM's ``serving_models.py`` and
``serving_tokenization.py``): answered from the caller's cached access, no admission or metering."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from valuechain.gateway.access import AccessResolver, Route
from valuechain.gateway.errors import GatewayError
from valuechain.gateway.protocol import DetokenizeRequest, TokenizeRequest
from valuechain.gateway.serving import json_response
from valuechain.runtime.base import Backend
from valuechain.runtime.pool import BackendPool


class OpenAIServingModels:
    """The models a key may call."""

    def __init__(self, *, access: AccessResolver) -> None:
        self.access = access

    def list_models(self, *, secret: str) -> Response:
        """https://platform.openai.com/docs/api-reference/models/list"""
        data: dict[str, Any] = {}
        for name, route in self.access.caller(secret).routes.items():
            if "@" not in name:
                data[name] = _card(name, route)
        return json_response({"object": "list", "data": list(data.values())})

    def retrieve_model(self, model_id: str, *, secret: str) -> Response:
        """https://platform.openai.com/docs/api-reference/models/retrieve"""
        route = self.access.caller(secret).route(model_id)
        return json_response(_card(model_id, route))


def _card(name: str, route: Route) -> dict[str, Any]:
    card: dict[str, Any] = {
        "id": name,
        "object": "model",
        "created": route.created,
        "owned_by": route.provider_slug,
    }
    if route.deprecated_at is not None:  # our extension (issue 11): the lifecycle dates, Unix seconds
        card["deprecated_at"] = route.deprecated_at
        card["sunset_at"] = route.sunset_at
    return card


class OpenAIServingTokenization:
    """Tokenizer facts, tokenize and detokenize with the backend of a model the key may call."""

    def __init__(self, *, access: AccessResolver, pool: BackendPool) -> None:
        self.access = access
        self.pool = pool

    def _backend(self, model: str | None, *, secret: str) -> Backend:
        caller = self.access.caller(secret)
        if model is None:
            if not caller.routes:
                raise GatewayError(
                    "no model is available to this key", status_code=404, code="model_not_found"
                )
            route = next(iter(caller.routes.values()))
        else:
            route = caller.route(model)
        return self.pool.get(route.version_id)

    async def tokenizer_info(self, model: str | None, *, secret: str) -> Response:
        """Tokenizer facts for lm-evaluation-harness's remote tokenizer."""
        return json_response(await self._backend(model, secret=secret).tokenizer_info())

    async def tokenize(self, request: TokenizeRequest, *, secret: str) -> Response:
        """``{"prompt", "add_special_tokens"}`` → ``{"tokens", "count"}`` (vLLM's shape)."""
        backend = self._backend(request.model, secret=secret)
        tokens = await backend.tokenize(request.prompt, add_special_tokens=request.add_special_tokens)
        return json_response({"tokens": tokens, "count": len(tokens)})

    async def detokenize(self, request: DetokenizeRequest, *, secret: str) -> Response:
        """``{"tokens"}`` → ``{"prompt"}``."""
        backend = self._backend(request.model, secret=secret)
        return json_response({"prompt": await backend.detokenize(request.tokens)})
