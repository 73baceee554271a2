"""The one JSON error envelope of /api: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from valuechain.core.errors import AppError, format_path


def envelope(
    status: int, code: str, message: str, details: list[dict[str, Any]] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return JSONResponse(status_code=status, content=body, headers=headers)


def _field_details(errors: list[Any]) -> list[dict[str, Any]]:
    return [
        {
            "path": format_path([p for p in err["loc"] if p != "body"]),
            "message": err["msg"],
            "type": err["type"],
        }
        for err in errors
    ]


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of the REST API once, in one shape (other surfaces add their own)."""

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> JSONResponse:
        return envelope(exc.status_code, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    async def _request_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = _field_details(list(exc.errors()))
        return envelope(422, "validation_error", "the request is invalid; see details", details)

    @app.exception_handler(pydantic.ValidationError)
    async def _model_invalid(request: Request, exc: pydantic.ValidationError) -> JSONResponse:
        details = _field_details(exc.errors(include_url=False))
        return envelope(422, "validation_error", "the request is invalid; see details", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        return envelope(exc.status_code, code, str(exc.detail))

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError) -> JSONResponse:
        # A uniqueness race between two requests that both passed the service's own check.
        return envelope(409, "conflict", "the change conflicts with the current state; retry")

    @app.exception_handler(OverflowError)
    async def _overflow(request: Request, exc: OverflowError) -> JSONResponse:
        return envelope(422, "validation_error", "a number in the request is out of range")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return envelope(500, "internal_error", "internal error; the server log has the details")
