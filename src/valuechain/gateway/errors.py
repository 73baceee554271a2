"""The OpenAI error object for every /v1 failure, rendered in one place.

Shape and status per https://platform.openai.com/docs/guides/error-codes and the official client's
mapping (400 BadRequest, 401 Authentication, 403 PermissionDenied, 404 NotFound, 413, 429 RateLimit,
5xx InternalServer). Quota-exhausted 429s carry ``x-should-retry: false`` so clients stop retrying.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from valuechain.core.errors import AppError
from valuechain.runtime.base import BackendError

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
}


class GatewayError(AppError):
    """An /v1 error with an OpenAI ``type``, ``param`` and extra response headers."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None,
        param: str | None = None,
        error_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code  # type: ignore[assignment]  # OpenAI leaves it null for an unknown URL
        self.param = param
        self.error_type = error_type or _TYPES.get(status_code, "api_error")
        self.headers = headers or {}


def bad_request(message: str, *, param: str | None = None, code: str = "invalid_request") -> GatewayError:
    return GatewayError(message, status_code=400, code=code, param=param)


def invalid_url(method: str, path: str) -> GatewayError:
    """OpenAI's answer to a /v1 path or method it does not serve."""
    return GatewayError(f"Invalid URL ({method} {path})", status_code=404, code=None)


def error_body(
    status: int, message: str, *, code: str | None, param: str | None = None, error_type: str | None = None
) -> dict[str, Any]:
    """The ``{"error": {...}}`` body."""
    return {
        "error": {
            "message": message,
            "type": error_type or _TYPES.get(status, "api_error"),
            "param": param,
            "code": code,
        }
    }


def render(exc: BaseException) -> Response:
    """Turn any exception raised while serving /v1 into an OpenAI-shaped response."""
    headers: dict[str, str] = {}
    if isinstance(exc, GatewayError):
        status, body = (
            exc.status_code,
            error_body(
                exc.status_code, exc.message, code=exc.code, param=exc.param, error_type=exc.error_type
            ),
        )
        headers.update(exc.headers)
    elif isinstance(exc, BackendError):  # before AppError: backend errors are UpstreamErrors
        status = 502 if exc.status_code == 504 else exc.status_code  # OpenAI clients retry 502, not 504
        body = error_body(status, exc.message, code=exc.code)
    elif isinstance(exc, AppError):  # every 401 on /v1 is about the key: OpenAI's code for it
        status = exc.status_code
        body = error_body(status, exc.message, code="invalid_api_key" if status == 401 else exc.code)
    else:
        status, body = (
            500,
            error_body(500, "internal error; the server log has the details", code="internal_error"),
        )
    if status == 401:
        headers["www-authenticate"] = "Bearer"
    return Response(orjson.dumps(body), status_code=status, media_type="application/json", headers=headers)


def sse_error(exc: BaseException) -> bytes:
    """An error event after the 200 headers were sent (the client raises APIError on it)."""
    response = render(exc)
    return b"data: " + bytes(response.body) + b"\n\n"
