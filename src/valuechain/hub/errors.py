"""Hub errors and their rendering: the ``X-Error-Code`` / ``X-Error-Message`` headers huggingface_hub maps
to its exceptions (``hf_raise_for_status``), plus a JSON ``{"error": ...}`` body it also reads."""

from __future__ import annotations

import uuid
from http import HTTPStatus

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from valuechain.core.errors import AppError, ConflictError, ForbiddenError, NotFoundError
from valuechain.core.observe import current_request_id

XET_MESSAGE = (
    "valuechain does not support Xet uploads. Set HF_HUB_DISABLE_XET=1 in the environment of the "
    "uploading client; files then go through the Git LFS API."
)

# The path hf_xet shows in its error message (it prints only the failing URL).
XET_UNSUPPORTED_PATH = "xet-unsupported/set-HF_HUB_DISABLE_XET=1-to-upload-through-LFS"


class HubError(AppError):
    """An error carrying the Hub's error code and extra response headers."""

    hub_code: str | None = None

    def __init__(self, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class RepoNotFoundError(HubError, NotFoundError):
    """Unknown repo, or one the caller may not see (same answer: no existence leak)."""

    hub_code = "RepoNotFound"

    def __init__(self, repo_id: str) -> None:
        # The Hub's wording; the client's own message already names the URL, so it adds nothing to it.
        super().__init__("Repository not found")
        self.repo_id = repo_id


class RevisionNotFoundError(HubError, NotFoundError):
    """Unknown branch, tag or commit."""

    hub_code = "RevisionNotFound"

    def __init__(self, revision: str) -> None:
        super().__init__(f"Invalid rev id: {revision}")


class EntryNotFoundError(HubError, NotFoundError):
    """Unknown file at a known commit."""

    hub_code = "EntryNotFound"

    def __init__(self, path: str, *, commit: str | None = None) -> None:
        headers = {"X-Repo-Commit": commit} if commit else {}
        super().__init__(f"{path} does not exist on this revision", headers=headers)


class GatedRepoError(HubError, ForbiddenError):
    """Files of a gated repo before its licence terms are accepted or access is granted."""

    hub_code = "GatedRepo"


class StaleParentError(HubError, ConflictError):
    """A commit whose parent is no longer the branch head: the loser of a concurrent commit."""

    status_code = 412


class RepoExistsError(HubError, ConflictError):
    """``create_repo`` on an existing repo; the body carries ``url`` because the client reads it."""

    def __init__(self, repo_id: str, *, url: str) -> None:
        super().__init__(f"You already created this model repo: {repo_id}")
        self.url = url


class XetNotSupportedError(HubError):
    """The client tried the Xet protocol."""

    status_code = 400
    code = "xet_not_supported"

    def __init__(self) -> None:
        super().__init__(XET_MESSAGE)


def _header_safe(message: str) -> str:
    return " ".join(message.split()).encode("ascii", "replace").decode("ascii")[:1000]


def _camel(code: str) -> str:
    """``validation_error`` → ``ValidationError``: the Hub spells its error codes this way."""
    return "".join(part[:1].upper() + part[1:] for part in code.replace(" ", "_").split("_"))


def _status_code(status: int) -> str:
    try:
        return _camel(HTTPStatus(status).phrase)
    except ValueError:
        return f"Http{status}"


def render_app_error(request: Request, exc: Exception) -> Response:
    """Render any AppError for the hub surface: every error carries an ``X-Error-Code`` (the Hub's own
    codes where the client acts on them, else ours) and ``X-Error-Message``."""
    assert isinstance(exc, AppError)
    status = exc.status_code
    headers = {"X-Error-Code": _camel(exc.code), "X-Error-Message": _header_safe(exc.message)}
    body: dict[str, object] = {"error": exc.message}
    if isinstance(exc, HubError):
        headers.update(exc.headers)
        if exc.hub_code:
            headers["X-Error-Code"] = exc.hub_code
        if isinstance(exc, GatedRepoError) and not request.headers.get("authorization"):
            status = 401
        if isinstance(exc, RepoExistsError):
            body["url"] = exc.url
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def render_http_error(request: Request, exc: Exception) -> Response:
    """Routing errors: a path that names no route is an unknown repo (``RepoNotFound``), whatever its shape
    (``/api/models/<name without org>``, ``/<name>/resolve/...``), so ``repo_exists``/``file_exists`` answer
    False instead of raising; other statuses keep their code."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return render_app_error(request, RepoNotFoundError(_repo_label(request.url.path)))
    message = str(exc.detail)
    headers = {
        "X-Error-Code": _status_code(exc.status_code),
        "X-Error-Message": _header_safe(message),
        **(exc.headers or {}),
    }
    if request.method == "HEAD":
        return Response(status_code=exc.status_code, headers=headers)
    return JSONResponse({"error": message}, status_code=exc.status_code, headers=headers)


def _repo_label(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["hub"]:
        parts = parts[1:]
    if parts[:2] == ["api", "models"]:
        parts = parts[2:]
    return "/".join(parts[:2])[:200] or "?"


REQUEST_ID = "valuechain.hub.request_id"


class RequestIdMiddleware:
    """Every hub answer carries ``X-Request-Id`` (the client prints it as "(Request ID: ...)" in errors)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = current_request_id() or f"vc-{uuid.uuid4().hex}"  # core.observe's, when mounted
        scope[REQUEST_ID] = request_id  # for the catch-all, rendered outside this middleware

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        await self.app(scope, receive, send_with_id)


def render_validation_error(request: Request, exc: Exception) -> Response:
    """Request parsing failures: 400 with the field paths (the client maps 400 to BadRequestError)."""
    assert isinstance(exc, RequestValidationError)
    fields = [
        "/".join(str(p) for p in err.get("loc", ())) + ": " + str(err.get("msg")) for err in exc.errors()
    ]
    message = "invalid request: " + "; ".join(fields)
    headers = {"X-Error-Code": "BadRequest", "X-Error-Message": _header_safe(message)}
    return JSONResponse({"error": message}, status_code=400, headers=headers)


def render_unexpected_error(request: Request, exc: Exception) -> Response:
    """The catch-all: a failure nobody turned into an ``AppError`` is a 500 in the hub's shape, with the
    request id the client prints; the details stay in the server log (Starlette logs and re-raises)."""
    headers = {"X-Error-Code": "InternalError", "X-Error-Message": "internal error"}
    request_id = request.scope.get(REQUEST_ID)
    if request_id:
        headers["X-Request-Id"] = request_id
    if request.method == "HEAD":
        return Response(status_code=500, headers=headers)
    return JSONResponse({"error": "internal error"}, status_code=500, headers=headers)
