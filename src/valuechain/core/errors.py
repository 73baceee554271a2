"""One error hierarchy for every surface; each surface renders it once (REST envelope, OpenAI, hub)."""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    """Base of all expected errors; carries an HTTP status and a stable machine code."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class ValidationError(AppError):
    """Input that is well-formed but wrong (bad value, dangling reference)."""

    status_code = 422
    code = "validation_error"


class AuthenticationError(AppError):
    """Missing, malformed, unknown, expired or revoked credential."""

    status_code = 401
    code = "unauthenticated"


class ForbiddenError(AppError):
    """Authenticated, but the role or scope does not allow this."""

    status_code = 403
    code = "forbidden"


class NotFoundError(AppError):
    """The record does not exist, or is not visible to the caller (no existence leak)."""

    status_code = 404
    code = "not_found"


class ConflictError(AppError):
    """The change conflicts with the current state (duplicate id, immutable record)."""

    status_code = 409
    code = "conflict"


class PayloadTooLargeError(AppError):
    """The request body exceeds the configured limit."""

    status_code = 413
    code = "payload_too_large"


class QuotaExceededError(AppError):
    """A rate limit or budget is exhausted."""

    status_code = 429
    code = "quota_exceeded"


class UpstreamError(AppError):
    """A backend the platform depends on failed."""

    status_code = 502
    code = "upstream_error"


def format_path(loc: tuple[Any, ...] | list[Any]) -> str:
    """A validation error's location as a path: ``('models', 0, 'licence')`` → ``models[0].licence``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
