"""``valuechain login``, ``logout`` and ``whoami``: act as a remote client of a valuechain server."""

from __future__ import annotations

import sys
from typing import Any

import typer

from valuechain.cli import credentials
from valuechain.cli.context import Format, FormatOption, emit, err, out
from valuechain.cli.render import say
from valuechain.core.errors import AppError, UpstreamError, ValidationError

UrlOption = typer.Option(
    None, "--url", help="Server URL, e.g. http://127.0.0.1:8000 (default VALUECHAIN_URL or the last login)."
)


def whoami_at(remote: credentials.Remote) -> dict[str, Any]:
    """Ask the server who the key belongs to (``GET /api/v1/me``)."""
    import httpx

    if remote.key is None:
        raise remote.unauthenticated("no key")
    try:
        response = httpx.get(
            f"{remote.url}/api/v1/me", headers={"authorization": f"Bearer {remote.key}"}, timeout=15
        )
    except httpx.HTTPError as exc:
        raise UpstreamError(f"cannot reach {remote.url}: {exc}") from None
    if response.status_code == 401:
        raise remote.unauthenticated(f"401 {_message(response)}")
    if response.status_code >= 400:
        raise AppError(f"{remote.url}/api/v1/me answered {response.status_code} {_message(response)}")
    return {**response.json(), "url": remote.url, "key_source": remote.source}


def _message(response: Any) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


def _read_key() -> str:
    if sys.stdin.isatty():
        return str(typer.prompt("API key (input hidden)", hide_input=True, err=True))
    return sys.stdin.readline()


def login(url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """Store an API key for a server (read from stdin or a hidden prompt; checked against the server)."""
    remote = credentials.resolve(url=url)
    key = _read_key().strip()
    if not key:
        raise ValidationError("no key given (paste it at the prompt, or pipe it on stdin)")
    me = whoami_at(credentials.Remote(remote.url, key, "the key given"))
    path = credentials.save(remote.url, key, org=me.get("org"))
    me["key_source"] = str(path)
    emit(
        me,
        fmt,
        lambda m: say(err, f"logged in to {m['url']} as {m['org']} ({m['role']}); key stored in {path}"),
    )


def logout(url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """Forget the stored key of a server (default: the current one)."""
    removed = credentials.forget(url)
    emit(
        {"logged_out": removed},
        fmt,
        lambda d: say(err, f"logged out of {removed}" if removed else "not logged in; nothing to forget"),
    )


def whoami(url: str = UrlOption, fmt: Format = FormatOption) -> None:
    """Show the server, organisation, role and scopes of the key the CLI would use."""
    me = whoami_at(credentials.resolve(url=url))

    def human(m: dict[str, Any]) -> None:
        say(out, f"{m['org']} at {m['url']}")
        say(out, f"  key:    {m['key_id'] or '(operator)'} ({m['role']}), from {m['key_source']}")
        say(out, f"  scopes: {', '.join(m['scopes'])}")

    emit(me, fmt, human)


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
    app.command()(whoami)
