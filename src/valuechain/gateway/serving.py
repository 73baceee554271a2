"""Serving of admitted requests: the backend call, stream relay and settlement on every exit path."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio

from valuechain.gateway import sse
from valuechain.gateway.admission import Admission, Outcome, Ticket
from valuechain.gateway.errors import sse_error
from valuechain.runtime.base import BackendError, JsonDict


def _status_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, BackendError):
        return exc.status_code, exc.code
    if isinstance(exc, asyncio.CancelledError):
        return 499, "client_closed"
    return 500, "internal_error"


async def settle_shielded(admission: Admission, ticket: Ticket, outcome: Outcome) -> None:
    """Settle even when the surrounding task is being cancelled (client disconnect)."""
    with anyio.CancelScope(shield=True):
        await admission.settle(ticket, outcome)


async def run_once(
    admission: Admission,
    ticket: Ticket,
    call: Callable[[], Awaitable[JsonDict]],
    *,
    body: Any,
    text_of: Callable[[JsonDict], str],
) -> JsonDict:
    """A non-streamed call; the usage is durable before this returns."""
    outcome = Outcome(request_body=body)
    try:
        result = await call()
        usage = result.get("usage") or {}
        outcome.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        outcome.completion_tokens = int(usage.get("completion_tokens") or 0)
        outcome.response_text = text_of(result)
        result["model"] = ticket.route.model
        return result
    except BaseException as exc:
        outcome.status, outcome.error_code = _status_of(exc)
        raise
    finally:
        await settle_shielded(admission, ticket, outcome)


async def relay_stream(
    admission: Admission,
    ticket: Ticket,
    chunks: AsyncIterator[JsonDict],
    *,
    body: Any,
    include_usage: bool,
    delta_text: Callable[[JsonDict], str],
) -> AsyncIterator[bytes]:
    """Relay backend chunks as SSE; settle before ``[DONE]``; on disconnect bill what was generated."""
    outcome = Outcome(request_body=body)
    pieces: list[str] = []
    usage_chunk: JsonDict | None = None
    model = ticket.route.model
    try:
        try:
            async for chunk in chunks:
                if chunk.get("usage"):
                    usage_chunk = chunk
                    if not chunk.get("choices"):
                        continue
                    chunk = {**chunk, "usage": None}
                chunk["model"] = model
                piece = delta_text(chunk)
                if piece:
                    pieces.append(piece)
                yield sse.event(chunk)
        except BackendError as exc:
            outcome.status, outcome.error_code = exc.status_code, exc.code
            yield sse_error(exc)
        _fill_usage(outcome, usage_chunk, ticket, len(pieces))
        outcome.response_text = "".join(pieces)
        await settle_shielded(admission, ticket, outcome)
        if include_usage and usage_chunk is not None:
            yield sse.event({**usage_chunk, "model": model, "choices": []})
        yield sse.DONE
    except BaseException as exc:
        if not ticket.settled:
            if outcome.status == 200:
                outcome.status, outcome.error_code = _status_of(exc)
            _fill_usage(outcome, usage_chunk, ticket, len(pieces))
            outcome.response_text = "".join(pieces)
            await settle_shielded(admission, ticket, outcome)
        raise
    finally:
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            with anyio.CancelScope(shield=True):
                await aclose()


def _fill_usage(outcome: Outcome, usage_chunk: JsonDict | None, ticket: Ticket, observed: int) -> None:
    """Usage from the backend's final chunk, else an estimate: prompt estimate + chunks seen."""
    if usage_chunk is not None:
        usage = usage_chunk["usage"]
        outcome.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        outcome.completion_tokens = int(usage.get("completion_tokens") or 0)
    else:
        outcome.prompt_tokens = ticket.prompt_estimate if observed else 0
        outcome.completion_tokens = observed
