"""Inference backends behind one interface: embedded llama.cpp (GGUF) or any OpenAI-compatible server."""

from valuechain.runtime.base import (
    Backend,
    BackendError,
    BackendRequestError,
    BackendTimeoutError,
    BackendUnavailableError,
)
from valuechain.runtime.pool import BackendPool, build_backend

__all__ = [
    "Backend",
    "BackendError",
    "BackendPool",
    "BackendRequestError",
    "BackendTimeoutError",
    "BackendUnavailableError",
    "build_backend",
]
