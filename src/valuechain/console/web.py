"""The console's request plumbing: templates, the signed-in visitor, CSRF, security headers, error pages,
and the CSV/JSON twin of every table.

Routes stay thin: they resolve the :class:`Visitor` (a session cookie → ``accounts.sessions``), call domain
services with its :class:`Principal` (the same ``authorize`` as the APIs) and render a template.
"""

from __future__ import annotations

import csv
import hmac
import io
import logging
import secrets
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as day_time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import orjson
import pydantic
from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.responses import HTMLResponse, Response

from valuechain.accounts import sessions
from valuechain.accounts.principal import Principal, anonymous_principal
from valuechain.channels.brands import BrandRecord, brand_for_host
from valuechain.core.db import Database
from valuechain.core.errors import AppError, ForbiddenError, ValidationError, format_path

log = logging.getLogger("valuechain.console")

SESSION_COOKIE = "vc_session"
LOGIN_CSRF_COOKIE = "vc_login_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
STATIC_DIR = Path(__file__).parent / "static"
# Everything from this origin, nothing inline, nothing framed: htmx, Pico and our two scripts are files here.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@dataclass(frozen=True, slots=True)
class Visitor:
    """Who is looking: a signed-in session (with its principal) or an anonymous visitor."""

    principal: Principal
    session: sessions.ConsoleSession | None
    session_id: str | None

    @property
    def signed_in(self) -> bool:
        return self.session is not None

    @property
    def hub_principal(self) -> Principal | None:
        """The hub's convention: None for an anonymous caller."""
        return self.principal if self.session is not None else None


def get_db(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def visitor(request: Request) -> Visitor:
    """The session of the cookie, if live; else an anonymous visitor (who sees public records only)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    if session_id:
        with get_db(request).session() as session:
            found = sessions.resolve(session, session_id)
        if found is not None:
            return Visitor(found.principal, found, session_id)
    return Visitor(anonymous_principal(), None, None)


CurrentVisitor = Annotated[Visitor, Depends(visitor)]


class SignInRequired(AppError):
    """A page that needs a session, opened without one: answered with a redirect to /login."""

    status_code = 401
    code = "sign_in_required"


def signed_in(request: Request) -> Visitor:
    """The visitor, who must be signed in."""
    found = visitor(request)
    if not found.signed_in:
        raise SignInRequired("sign in to see this page")
    return found


SignedIn = Annotated[Visitor, Depends(signed_in)]


async def check_csrf(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token (form field or htmx header)."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = (await request.form()).get(CSRF_FIELD)  # starlette caches the parsed form for the route
    session_id = request.cookies.get(SESSION_COOKIE)
    if request.url.path == "/login" or not session_id:  # a double-submit cookie set with the login form
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    else:
        expected = sessions.csrf_token(session_id)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise ForbiddenError("missing or wrong CSRF token: reload the page and try again")


def build_templates() -> Environment:
    env = Environment(
        loader=PackageLoader("valuechain.console", "templates"),
        autoescape=select_autoescape(default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["when"] = when
    env.filters["flop"] = lambda v: f"{v:.2e}" if v else "—"
    env.filters["size"] = human_size
    env.globals["query"] = with_query
    return env


def money(micro: int | None, currency: str = "EUR") -> str:
    """Integer micro-units as an amount with the currency code (``1_500_000`` → ``1.50 EUR``)."""
    value = (micro or 0) / 1_000_000
    return f"{value:,.2f} {currency}" if abs(value) >= 0.01 or value == 0 else f"{value:.6f} {currency}"


def when(value: datetime | date | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def micro_units(text: str, *, field: str) -> int:
    """An amount typed in currency units (``2.50``) as integer micro-units; anything else is a 422 page."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        value = Decimal("NaN")
    scaled = value * 1_000_000 if value.is_finite() and 0 <= value <= 10**9 else Decimal("NaN")
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValidationError(f"{field}: give an amount like 2.50 (at most 6 decimals, not negative)")
    return int(scaled)


def day_start(day: date | None) -> datetime | None:
    """A date picked in a form as the start of that day in UTC (expiries and sunsets are instants)."""
    return datetime.combine(day, day_time(), tzinfo=UTC) if day is not None else None


def human_size(size: int) -> str:
    units = ("B", "KiB", "MiB", "GiB", "TiB")
    value, unit = float(size), 0
    while value >= 1024 and unit < len(units) - 1:
        value, unit = value / 1024, unit + 1
    return f"{value:.0f} {units[unit]}" if unit == 0 else f"{value:.1f} {units[unit]}"


def with_query(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters changed (None removes one): filters live in the URL."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return request.url.path + ("?" + urlencode(params) if params else "")


def render(
    request: Request,
    template: str,
    visitor: Visitor | None,
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    env: Environment = request.app.state.console_templates
    token = visitor.session.csrf_token if visitor is not None and visitor.session is not None else ""
    brand = host_brand(request)
    body = env.get_template(template).render(
        request=request, visitor=visitor, csrf_token=token, brand=brand, **context
    )
    return HTMLResponse(body, status_code=status_code)


_BRAND_TTL_S = 5.0


def host_brand(request: Request) -> BrandRecord | None:
    """The white-label branding of the request's host name (issue 11), cached a few seconds per host."""
    host = (request.headers.get("host") or "").lower()
    cache: dict[str, tuple[float, BrandRecord | None]] = request.app.state.__dict__.setdefault(
        "console_brands", {}
    )
    now = time.monotonic()
    hit = cache.get(host)
    if hit is not None and hit[0] > now:
        return hit[1]
    with get_db(request).session() as session:
        found = brand_for_host(session, host) if host else None
    if len(cache) > 1000:
        cache.clear()
    cache[host] = (now + _BRAND_TTL_S, found)
    return found


@dataclass(frozen=True, slots=True)
class Table:
    """A table as the page shows it and as its CSV/JSON twin serves it (the same rows)."""

    name: str
    columns: Sequence[str]
    rows: list[Sequence[Any]]


def twin(request: Request, tables: Iterable[Table]) -> Response | None:
    """``?format=csv|json&table=NAME``: the named table (default: the first) instead of the page."""
    fmt = request.query_params.get("format")
    if fmt not in ("csv", "json"):
        return None
    tables = list(tables)
    wanted = request.query_params.get("table") or (tables[0].name if tables else "")
    table = next((t for t in tables if t.name == wanted), None)
    if table is None:
        return Response(f"no table `{wanted}` on this page\n", status_code=404, media_type="text/plain")
    if fmt == "json":
        data = [dict(zip(table.columns, row, strict=True)) for row in table.rows]
        return Response(orjson.dumps(data, default=str), media_type="application/json")
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    headers = {"content-disposition": f'attachment; filename="{table.name}.csv"'}
    return Response(buffer.getvalue(), media_type="text/csv; charset=utf-8", headers=headers)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):  # no formula injection in spreadsheets
        return "'" + value
    return value


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class ConsoleRoute(APIRoute):
    """A console route: errors become HTML pages (404 exactly as for a missing record; a form field out of
    range a 422 page naming it, nothing changed), and every answer carries the security headers."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired:
                response = Response(status_code=303, headers={"location": "/login?next=" + request.url.path})
            except AppError as exc:
                response = error_page(request, exc)
            except (RequestValidationError, pydantic.ValidationError) as exc:
                response = error_page(request, ValidationError(invalid_fields(exc)))
            response.headers.update(SECURITY_HEADERS)
            return response

        return guarded


def invalid_fields(exc: RequestValidationError | pydantic.ValidationError) -> str:
    """A form's invalid fields as one line a person reads: ``price: Input should be …; stock: …``."""
    errors = exc.errors(include_url=False) if isinstance(exc, pydantic.ValidationError) else exc.errors()
    parts = []
    for err in list(errors)[:5]:
        where = format_path([p for p in err.get("loc", ()) if p not in ("body", "form")])
        parts.append(f"{where}: {err.get('msg', 'invalid')}" if where else str(err.get("msg", "invalid")))
    return "invalid input: " + "; ".join(parts)


def error_page(request: Request, exc: AppError) -> HTMLResponse:
    who = visitor(request)
    return render(request, "error.html", who, status_code=exc.status_code, message=str(exc), code=exc.code)


def new_login_csrf() -> str:
    return secrets.token_urlsafe(32)
