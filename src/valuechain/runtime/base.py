"""The backend interface: every inference engine speaks OpenAI-shaped JSON dicts to the gateway.

The gateway validates requests against ``valuechain.gateway.protocol`` and hands the backend a plain dict
(``model`` already rewritten to the backend's served name). Backends return response dicts, or async
iterators of chunk dicts for streams, and always report ``usage`` (the last chunk of a stream carries it;
content chunks may carry the running usage, as vLLM's ``continuous_usage_stats`` does, which the gateway
uses to bill a stream cut short and strips before relaying).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import Any

from valuechain.core.errors import UpstreamError

JsonDict = dict[str, Any]


class BackendError(UpstreamError):
    """A backend failed; ``status_code`` is what the gateway answers (502 bad answer, 503 down, 504 slow)."""

    status_code = 502
    code = "backend_error"

    def __init__(self, message: str, *, status_code: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code


class BackendUnavailableError(BackendError):
    """The backend is down, unreachable or not loaded."""

    status_code = 503
    code = "backend_unavailable"


class BackendTimeoutError(BackendError):
    """The backend did not answer in time."""

    status_code = 504
    code = "backend_timeout"


class BackendRequestError(BackendError):
    """The backend rejected the request as invalid (e.g. a token id outside the vocabulary)."""

    status_code = 400
    code = "invalid_request"


class Backend(ABC):
    """One loaded model behind one engine; safe to call from many concurrent requests."""

    #: the model name the engine itself expects in requests
    served_name: str = "model"

    @abstractmethod
    async def chat(self, body: JsonDict) -> JsonDict:
        """A non-streamed ``chat.completion`` with ``usage``."""

    @abstractmethod
    def chat_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:
        """``chat.completion.chunk`` dicts; the last one has ``usage`` and empty ``choices``."""

    @abstractmethod
    async def completion(self, body: JsonDict) -> JsonDict:
        """A non-streamed ``text_completion`` with ``usage``."""

    @abstractmethod
    def completion_stream(self, body: JsonDict) -> AsyncIterator[JsonDict]:
        """``text_completion`` chunk dicts; the last one has ``usage`` and empty ``choices``."""

    @abstractmethod
    async def embeddings(self, body: JsonDict) -> JsonDict:
        """An embeddings ``list`` with float vectors and ``usage``."""

    @abstractmethod
    async def tokenize(self, text: str, *, add_special_tokens: bool) -> list[int]:
        """Token ids of ``text``."""

    @abstractmethod
    async def detokenize(self, tokens: list[int]) -> str:
        """Text of ``tokens``."""

    @abstractmethod
    async def tokenizer_info(self) -> JsonDict:
        """``eos_token``, ``bos_token`` and ``chat_template`` as lm-evaluation-harness reads them."""

    @abstractmethod
    async def health(self) -> bool:
        """True when the backend can serve now."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release engine resources."""
