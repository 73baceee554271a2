"""Sign in, sign out and switch organisation (``/login``, ``/logout``, ``/org/switch``)."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import Response

from valuechain.accounts import sessions
from valuechain.console.web import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    ConsoleRoute,
    CurrentVisitor,
    SignedIn,
    check_csrf,
    get_db,
    new_login_csrf,
    render,
)
from valuechain.core.errors import AppError, AuthenticationError

router = APIRouter(route_class=ConsoleRoute, include_in_schema=False)


class TooManyAttemptsError(AppError):
    status_code = 429
    code = "too_many_attempts"


class LoginThrottle:
    """At most ``limit`` failed sign-ins per e-mail and per client address in ``window_s`` (per process)."""

    def __init__(self, *, limit: int = 10, window_s: float = 300.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def check(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            failures = self._failures[key]
            while failures and now - failures[0] > self.window_s:
                failures.popleft()
            if len(failures) >= self.limit:
                raise TooManyAttemptsError("too many failed sign-ins: wait a few minutes and try again")

    def fail(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures[key].append(now)


def _secure(request: Request) -> bool:
    """Cookies are ``Secure`` when the console is reached over https (directly or behind a proxy)."""
    settings = request.app.state.settings
    forwarded = request.headers.get("x-forwarded-proto", "")
    return (
        request.url.scheme == "https"
        or forwarded == "https"
        or settings.resolved_public_url.startswith("https")
    )


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/login")
def login_page(request: Request, visitor: CurrentVisitor, next: str | None = None) -> Response:
    """The sign-in form (fields ``email`` and ``password``)."""
    token = new_login_csrf()
    response = render(request, "login.html", visitor, login_csrf=token, next=_safe_next(next), error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/login"
    )
    return response


@router.post("/login", dependencies=[Depends(check_csrf)])
def login(
    request: Request,
    visitor: CurrentVisitor,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """Check the password, open a new session (a new id every time) and go on."""
    throttle: LoginThrottle = request.app.state.console_throttle
    client = request.client.host if request.client else "unknown"
    keys = (f"email:{email.strip().lower()}", f"ip:{client}")
    throttle.check(*keys)
    try:
        with get_db(request).unit_of_work() as session:
            session_id = sessions.sign_in(session, email, password)
    except AuthenticationError as exc:
        throttle.fail(*keys)
        token = new_login_csrf()
        response = render(
            request,
            "login.html",
            visitor,
            status_code=401,
            login_csrf=token,
            next=_safe_next(next),
            error=str(exc),
        )
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=_secure(request), path="/login"
        )
        return response
    if visitor.session_id:  # signing in again ends the previous session
        with get_db(request).unit_of_work() as session:
            sessions.sign_out(session, visitor.session_id)
    response = Response(status_code=303, headers={"location": _safe_next(next)})
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=int(sessions.SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[Depends(check_csrf)])
def logout(request: Request, visitor: CurrentVisitor) -> Response:
    """Delete the session (and revoke its playground key); the cookie is cleared."""
    if visitor.session_id:
        with get_db(request).unit_of_work() as session:
            sessions.sign_out(session, visitor.session_id)
    response = Response(status_code=303, headers={"location": "/"})
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/org/switch", dependencies=[Depends(check_csrf)])
def switch_org(request: Request, visitor: SignedIn, org: Annotated[str, Form(max_length=64)]) -> Response:
    """Act for another of the user's organisations."""
    assert visitor.session_id is not None
    with get_db(request).unit_of_work() as session:
        sessions.switch_org(session, visitor.session_id, org)
    return Response(status_code=303, headers={"location": "/org"})
