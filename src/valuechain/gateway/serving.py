"""What every /v1 endpoint that calls a model shares (vLLM's ``serving_engine.py``): admission, the
backend call, the stream relay, and settlement in one place.

``Settlement`` is the only caller of ``Admission.settle``: every admitted request passes through exactly
one, on success, backend error, timeout and client disconnect alike. Settling journals the request's
metering entry; its database commit follows the response (a background task of the response, so the
request ends with it), except on error paths, which await it before answering.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Any

import anyio
import orjson
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from valuechain.core.errors import AppError
from valuechain.gateway import sse
from valuechain.gateway.admission import Admission
from valuechain.gateway.errors import GatewayError, sse_error
from valuechain.gateway.records import AdmissionRequest, Outcome, Ticket
from valuechain.runtime.base import Backend, BackendError, JsonDict
from valuechain.runtime.fair import tenant
from valuechain.runtime.pool import BackendPool


def json_response(
    payload: Any, headers: dict[str, str] | None = None, *, after: asyncio.Future[None] | None = None
) -> Response:
    """A JSON response serialised with orjson; ``after`` (a metering commit) is awaited once it is sent."""
    background = BackgroundTask(_wait, after) if after is not None and not after.done() else None
    body = orjson.dumps(payload)
    return Response(body, media_type="application/json", headers=headers, background=background)


async def _wait(future: asyncio.Future[None]) -> None:
    await asyncio.shield(future)


def prompt_size(prompts: list[Any]) -> int:
    """An upper bound of the prompt's tokens: byte-level tokenizers never make more tokens than bytes."""
    return sum(len(x) if isinstance(x, list) else len(x.encode()) + 2 for x in prompts)


class Settlement:
    """``async with``: the outcome of one admitted request, settled however the block is left."""

    __slots__ = ("_admission", "_ticket", "committed", "outcome")

    def __init__(self, admission: Admission, ticket: Ticket, body: Any) -> None:
        self._admission = admission
        self._ticket = ticket
        self.outcome = Outcome(request_body=body)
        self.committed: asyncio.Future[None] | None = None  # the metering commit, once settled

    async def __aenter__(self) -> Outcome:
        return self.outcome

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is not None and self.outcome.status == 200:
            self.outcome.status, self.outcome.error_code = _status_of(exc)
        with anyio.CancelScope(shield=True):  # a client disconnect must not cancel the metering
            self.committed = await self._admission.settle(self._ticket, self.outcome)
            if exc is not None and self.committed is not None:  # error paths answer after the commit
                await self.committed


class OpenAIServing:
    """Base of the serving classes: admits, calls the backend once or as a stream, and settles."""

    def __init__(self, *, admission: Admission, pool: BackendPool) -> None:
        self.admission = admission
        self.pool = pool

    def text_of(self, result: JsonDict) -> str:
        """The generated text of a whole response (for output rules and full request logs)."""
        return ""

    def delta_text(self, chunk: JsonDict) -> str:
        """The generated text of one streamed chunk."""
        return ""

    def conform(self, result: JsonDict) -> None:
        """Mend what OpenAI-compatible backends commonly send against OpenAI's document (in place)."""
        if result.get("system_fingerprint", "") is None:  # the document types it a string, or absent
            del result["system_fingerprint"]

    async def admit(self, request: AdmissionRequest) -> tuple[Ticket, Backend]:
        """Admission, then the backend that serves the admitted route."""
        ticket = await self.admission.admit(request)
        tenant.set(ticket.caller.principal.org_id)  # embedded models take turns by organisation
        try:
            return ticket, self.pool.get(ticket.route.version_id)
        except BaseException:
            async with Settlement(self.admission, ticket, None):  # release the hold and the counters
                raise

    async def once(
        self, ticket: Ticket, body: JsonDict, backend_call: Any
    ) -> tuple[JsonDict, asyncio.Future[None] | None]:
        """Await a non-streamed backend call; the usage is journaled before this returns, with the commit
        to await after the response."""
        settlement = Settlement(self.admission, ticket, body)
        async with settlement as outcome:
            result: JsonDict = await backend_call
            usage = result.get("usage") or {}
            outcome.prompt_tokens = int(usage.get("prompt_tokens") or 0)
            outcome.completion_tokens = int(usage.get("completion_tokens") or 0)
            outcome.response_text = self.text_of(result)
            result["model"] = ticket.route.model
            self.conform(result)
        return result, settlement.committed

    async def stream(
        self, ticket: Ticket, body: JsonDict, chunks: AsyncIterator[JsonDict], *, include_usage: bool
    ) -> StreamingResponse:
        """Relay a backend stream as SSE; a failure before its first chunk is answered as an HTTP error."""
        events = self._relay(ticket, body, chunks, include_usage=include_usage)
        first = await events.__anext__()

        async def body_events() -> AsyncIterator[bytes]:
            yield first
            async for event in events:
                yield event

        headers = {**ticket.headers, "cache-control": "no-cache"}
        return StreamingResponse(body_events(), media_type="text/event-stream", headers=headers)

    async def _relay(
        self, ticket: Ticket, body: JsonDict, chunks: AsyncIterator[JsonDict], *, include_usage: bool
    ) -> AsyncIterator[bytes]:
        """SSE events of the chunks; settled before the usage chunk and ``[DONE]``; a disconnect bills
        what was generated."""
        model = ticket.route.model
        usage_chunk: JsonDict | None = None
        pieces: list[str] = []
        started = False
        settlement = Settlement(self.admission, ticket, body)
        try:
            async with settlement as outcome:
                try:
                    async for chunk in chunks:
                        usage = chunk.pop("usage", None)  # reported once, at the end (running usage too)
                        if usage:
                            usage_chunk = {**chunk, "usage": usage}
                            if not chunk.get("choices"):
                                continue
                        chunk["model"] = model
                        piece = self.delta_text(chunk)
                        if piece:
                            pieces.append(piece)
                        started = True
                        yield sse.event(chunk)
                    if not started and usage_chunk is None:
                        raise GatewayError(
                            "the backend sent an empty stream", status_code=502, code="backend_error"
                        )
                except BackendError as exc:
                    if not started:
                        raise
                    outcome.status, outcome.error_code = exc.status_code, exc.code
                    yield sse_error(exc)
                finally:
                    _fill_usage(outcome, usage_chunk, ticket, pieces)
            if include_usage and usage_chunk is not None:
                yield sse.event({**usage_chunk, "model": model, "choices": []})
            yield sse.DONE
            if settlement.committed is not None:  # the stream ends with its metering commit
                await asyncio.shield(settlement.committed)
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                with anyio.CancelScope(shield=True):
                    await aclose()


def _status_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, AppError):  # BackendError included
        return exc.status_code, exc.code
    if isinstance(exc, asyncio.CancelledError | GeneratorExit):
        return 499, "client_closed"
    return 500, "internal_error"


def _fill_usage(outcome: Outcome, usage_chunk: JsonDict | None, ticket: Ticket, pieces: list[str]) -> None:
    """Usage from the backend's final chunk, else an estimate: prompt estimate + chunks seen."""
    outcome.response_text = "".join(pieces)
    if usage_chunk is not None:
        usage = usage_chunk["usage"]
        outcome.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        outcome.completion_tokens = int(usage.get("completion_tokens") or 0)
    else:
        outcome.prompt_tokens = ticket.prompt_estimate if pieces else 0
        outcome.completion_tokens = len(pieces)
