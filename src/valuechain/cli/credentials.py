"""Where the CLI finds a server and its key: flags, then ``VALUECHAIN_URL``/``VALUECHAIN_API_KEY``, then
the credentials ``valuechain login`` stored in the user's config directory (file mode 0600)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuechain.core.errors import AuthenticationError, ValidationError
from valuechain.core.settings import Settings

URL_ENV, KEY_ENV = "VALUECHAIN_URL", "VALUECHAIN_API_KEY"


def config_dir() -> Path:
    """The user's valuechain config directory (``$XDG_CONFIG_HOME/valuechain``, else ``~/.config/…``)."""
    if os.name == "nt" and os.environ.get("APPDATA"):
        return Path(os.environ["APPDATA"]) / "valuechain"
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "valuechain"


def credentials_path() -> Path:
    return config_dir() / "credentials.json"


def normalise_url(url: str) -> str:
    """``http://host:8000/`` → ``http://host:8000``; refuses anything but http(s)."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ValidationError(f"`{url}` is not a server URL (http://… or https://…)")
    return url


@dataclass(frozen=True, slots=True)
class Remote:
    """A server to call and the key to call it with; ``source`` says where the key came from."""

    url: str
    key: str | None
    source: str | None

    def login_hint(self) -> str:
        server = self.url.removesuffix("/hub")
        return f"run `valuechain login --url {server}` or set {KEY_ENV}"

    def unauthenticated(self, detail: str) -> AuthenticationError:
        """The error to raise on a 401: names the key's origin and how to fix it."""
        if self.key is None:
            return AuthenticationError(f"no API key for {self.url}; {self.login_hint()}")
        return AuthenticationError(
            f"{self.url} rejected the key from {self.source} ({detail}); {self.login_hint()}"
        )


def _read() -> dict[str, Any]:
    path = credentials_path()
    if not path.is_file():
        return {"url": None, "servers": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"url": data.get("url"), "servers": dict(data.get("servers") or {})}
    except (ValueError, AttributeError, TypeError):
        raise ValidationError(f"{path} is damaged; delete it and run `valuechain login` again") from None


def _write(data: dict[str, Any]) -> Path:
    """Write atomically, readable by the user only (the key is a secret)."""
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def save(url: str, key: str, *, org: str | None) -> Path:
    """Store ``key`` for ``url`` and make ``url`` the default server."""
    data = _read()
    data["servers"][url] = {"key": key, "org": org}
    data["url"] = url
    return _write(data)


def forget(url: str | None = None) -> str | None:
    """Remove the stored key of ``url`` (default: the current server); returns the URL removed."""
    data = _read()
    url = normalise_url(url) if url else data["url"]
    if url is None or url not in data["servers"]:
        return None
    del data["servers"][url]
    if data["url"] == url:
        data["url"] = next(iter(data["servers"]), None)
    _write(data)
    return url


def resolve(*, url: str | None = None, key: str | None = None, key_source: str = "--token") -> Remote:
    """The server and key to use: explicit values, then environment, then stored credentials."""
    data = _read()
    chosen = url or os.environ.get(URL_ENV) or data["url"] or Settings().resolved_public_url
    chosen = normalise_url(chosen)
    if key:
        return Remote(chosen, key, key_source)
    if os.environ.get(KEY_ENV):
        return Remote(chosen, os.environ[KEY_ENV], KEY_ENV)
    # A stored key goes only to the server it was stored for, never to another URL.
    for server, entry in data["servers"].items():
        if chosen == server or chosen.startswith(server + "/"):
            return Remote(chosen, entry["key"], str(credentials_path()))
    return Remote(chosen, None, None)
