"""Adapter for any OpenAI-compatible server (vLLM, llama-server, another valuechain) by base URL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson

from valuechain.core.observe import current_request_id
from valuechain.runtime.base import (
    Backend,
    BackendError,
    BackendRequestError,
    BackendTimeoutError,
    BackendUnavailableError,
    JsonDict,
)
from valuechain.runtime.http1 import Http1Pool


class RemoteBackend(Backend):
    """Forwards requests to ``base_url`` (ending in ``/v1``) with a bearer credential and timeouts."""

    def __init__(
        self,
        *,
        base_url: str,
        served_name: str,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        connect_timeout_s: float = 5.0,
        max_connections: int = 256,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.root_url = self.base_url.removesuffix("/v1")
        self.served_name = served_name
        self._headers = {"content-type": "application/json"}
        if api_key:
            self._headers["authorization"] = f"Bearer {api_key}"
        self._timeout = aiohttp.ClientTimeout(total=timeout_s, connect=connect_timeout_s)
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout_s, sock_read=timeout_s
        )
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        parts = urlsplit(self.base_url)
        self._origin = f"{parts.scheme}://{parts.netloc}"
        self._http1 = Http1Pool(self._origin, headers=self._headers, max_idle=max_connections)
        self._timeout_s, self._connect_timeout_s = timeout_s, connect_timeout_s
        self.retry_after_s = 1.0
        self._down_until = 0.0

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._max_connections, ttl_dns_cache=300)
            self._session = aiohttp.ClientSession(connector=connector, json_serialize=_dumps)
        return self._session

    async def close(self) -> None:
        self._http1.close()
        if self._session is not None:
            await self._session.close()

    def _down(self) -> BackendUnavailableError:
        """Mark the backend down for ``retry_after_s``: calls meanwhile fail at once instead of each
        waiting for a connect timeout (a down backend must not pile up requests in the gateway)."""
        self._down_until = time.monotonic() + self.retry_after_s
        return BackendUnavailableError(f"backend at {self.base_url} is unreachable")

    def _check_up(self) -> None:
        if self._down_until and time.monotonic() < self._down_until:
            raise BackendUnavailableError(f"backend at {self.base_url} is down (retrying shortly)")

    async def _post(self, url: str, body: JsonDict) -> JsonDict:
        """A whole JSON answer, over the lean keep-alive client (``runtime/http1.py``)."""
        self._check_up()
        try:
            status, raw = await self._http1.post(
                url.removeprefix(self._origin),
                orjson.dumps(body),
                timeout_s=self._timeout_s,
                connect_timeout_s=self._connect_timeout_s,
                request_id=current_request_id(),
            )
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise BackendTimeoutError(f"backend at {self.base_url} timed out") from exc
        except OSError as exc:  # refused, reset, closed before answering
            raise self._down() from exc
        if status >= 400:
            raise _error_from_status(status, raw, self.base_url)
        try:
            result: JsonDict = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise BackendError(f"backend at {self.base_url} sent a non-JSON answer") from exc
        return result

    async def _stream(self, url: str, body: JsonDict) -> AsyncIterator[JsonDict]:
        self._check_up()
        body = {**body, "model": self.served_name, "stream": True}
        body["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        try:
            async with self._client().post(
                url, data=orjson.dumps(body), headers=self._traced(), timeout=self._stream_timeout
            ) as resp:
                if resp.status >= 400:
                    raise _error_from_status(resp.status, await resp.read(), self.base_url)
                async for line in resp.content:
                    if not line.startswith(b"data:"):
                        continue
                    data = line[5:].strip()
                    if data == b"[DONE]":
                        return
                    chunk = orjson.loads(data)
                    if "error" in chunk:
                        message = str(chunk["error"].get("message", "backend error"))
                        raise BackendError(f"backend failed mid-stream: {message}")
                    yield chunk
        except aiohttp.ClientConnectionError as exc:
            raise self._down() from exc
        except TimeoutError as exc:
            raise BackendTimeoutError(f"backend at {self.base_url} timed out") from exc
        except orjson.JSONDecodeError as exc:
            raise BackendError(f"backend at {self.base_url} sent a malformed stream") from exc

    def _traced(self) -> dict[str, str]:
        """The headers of a call, with the request id that the backend's logs can be matched by."""
        request_id = current_request_id()
        return {**self._headers, "x-request-id": request_id} if request_id else self._headers

    async def chat(self, body: JsonDict) -> JsonDict:
        return await self._post(f"{self.base_url}/chat/completions", {**body, "model": self.served_name})

    def chat_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:
        return self._stream(f"{self.base_url}/chat/completions", body)

    async def completion(self, body: JsonDict) -> JsonDict:
        return await self._post(f"{self.base_url}/completions", {**body, "model": self.served_name})

    def completion_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:
        return self._stream(f"{self.base_url}/completions", body)

    async def embeddings(self, body: JsonDict) -> JsonDict:
        body = {**body, "model": self.served_name, "encoding_format": "float"}
        return await self._post(f"{self.base_url}/embeddings", body)

    async def tokenize(self, text: str, *, add_special_tokens: bool) -> list[int]:
        body = {"model": self.served_name, "prompt": text, "add_special_tokens": add_special_tokens}
        result = await self._post(f"{self.root_url}/tokenize", body)
        return [int(t) for t in result.get("tokens", [])]

    async def detokenize(self, tokens: list[int]) -> str:
        result = await self._post(
            f"{self.root_url}/detokenize", {"model": self.served_name, "tokens": tokens}
        )
        return str(result.get("prompt", ""))

    async def tokenizer_info(self) -> JsonDict:
        try:
            async with self._client().get(
                f"{self.root_url}/tokenizer_info", headers=self._headers, timeout=self._timeout
            ) as resp:
                if resp.status >= 400:
                    raise _error_from_status(resp.status, await resp.read(), self.base_url)
                result: JsonDict = orjson.loads(await resp.read())
                return result
        except aiohttp.ClientConnectionError as exc:
            raise self._down() from exc

    async def health(self) -> bool:
        try:
            async with self._client().get(
                f"{self.base_url}/models", headers=self._headers, timeout=aiohttp.ClientTimeout(total=3)
            ) as resp:
                return resp.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False


def _dumps(obj: Any) -> str:
    return orjson.dumps(obj).decode()


def _error_from_status(status: int, raw: bytes, base_url: str) -> BackendError:
    """Map the backend's status to ours; keep its message (never our credential, which it never sees)."""
    try:
        message = str(orjson.loads(raw)["error"]["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        message = raw[:200].decode("utf-8", "replace")
    if status in (400, 422):
        return BackendRequestError(f"backend rejected the request: {message}")
    if status in (408, 504):
        return BackendTimeoutError(f"backend at {base_url} timed out")
    if status in (502, 503):
        return BackendUnavailableError(f"backend at {base_url} is unavailable ({status})")
    return BackendError(f"backend at {base_url} answered {status}: {message}")
