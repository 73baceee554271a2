"""Hub errors and their rendering: the ``X-Error-Code`` / ``X-Error-Message`` headers huggingface_hub maps
to its exceptions (``hf_raise_for_status``), plus a JSON ``{"error": ...}`` body it also reads."""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from valuechain.core.errors import AppError, ConflictError, ForbiddenError, NotFoundError

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
        super().__init__(f"Repository {repo_id} not found")


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


def render_app_error(request: Request, exc: Exception) -> Response:
    """Render any AppError for the hub surface."""
    assert isinstance(exc, AppError)
    status = exc.status_code
    headers = {"X-Error-Message": _header_safe(exc.message)}
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


def render_validation_error(request: Request, exc: Exception) -> Response:
    """Request parsing failures: 400 with the field paths (the client maps 400 to BadRequestError)."""
    assert isinstance(exc, RequestValidationError)
    fields = [
        "/".join(str(p) for p in err.get("loc", ())) + ": " + str(err.get("msg")) for err in exc.errors()
    ]
    message = "invalid request: " + "; ".join(fields)
    return JSONResponse(
        {"error": message}, status_code=400, headers={"X-Error-Message": _header_safe(message)}
    )
