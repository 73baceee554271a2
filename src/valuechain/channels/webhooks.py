"""Webhooks: notifications POSTed with an HMAC-SHA256 signature, retried with backoff.

The signing secret of a webhook is ``HMAC(server key, webhook id)``: shown once when the webhook is
created and never stored; the server key lives in ``HOME/channels/webhook.key`` (0600).
Signature header (Stripe's scheme): ``X-Valuechain-Signature: t=<unix seconds>,v1=<hex HMAC of "t.body">``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import os
import secrets
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import select

from valuechain.channels.models import Delivery, Notification, Webhook
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.errors import ValidationError

SIGNATURE_HEADER = "X-Valuechain-Signature"
log = logging.getLogger("valuechain.channels")


def is_private_host(host: str) -> bool:
    """Whether ``host`` names or resolves to a loopback, private, link-local or reserved address."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, ValueError, UnicodeError):
        return False  # unresolvable now: checked again at delivery
    for info in infos:
        try:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        except ValueError:
            return True  # not an address we can judge: refuse
        if not address.is_global:
            return True
    return False


def check_destination(url: str, *, allow_private: bool) -> None:
    """Refuse a webhook URL that would make the server call its own network (unless allowed)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError as exc:
        raise ValidationError(f"not a valid URL: {exc}") from exc
    if not allow_private and is_private_host(host):
        raise ValidationError(
            "a webhook URL may not reach a loopback, private or link-local address "
            "(the operator may allow it: channels_webhook_allow_private)"
        )


def server_key(home: Path) -> bytes:
    """The key webhook secrets derive from, created on first use."""
    path = home / "channels" / "webhook.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(secrets.token_bytes(32))
    return path.read_bytes()


def signing_secret(key: bytes, webhook_id: str) -> str:
    """The secret a receiver verifies signatures with."""
    return "whsec_" + hmac.new(key, webhook_id.encode(), hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, *, timestamp: int) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, *, tolerance_s: int = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within the tolerance (for receivers and tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign(secret, body, timestamp=timestamp), header)


def deliver_pending(
    db: Database,
    *,
    key: bytes,
    attempts: int = 3,
    backoff_s: float = 0.5,
    timeout_s: float = 5.0,
    allow_private: bool = False,
) -> int:
    """POST every pending delivery, each up to ``attempts`` times with doubling backoff; returns how many
    were delivered. Failures stay ``pending`` (or ``failed`` after the attempts) with the last error."""
    with db.session() as session:
        rows = session.execute(
            select(Delivery.id, Webhook.id, Webhook.url, Notification.payload, Notification.id)
            .join(Webhook, Webhook.id == Delivery.webhook_id)
            .join(Notification, Notification.id == Delivery.notification_id)
            .where(Delivery.status == "pending", Webhook.revoked_at.is_(None))
            .order_by(Delivery.id)
        ).all()
    delivered = 0
    with httpx.Client(timeout=timeout_s, follow_redirects=False) as client:
        for delivery_id, webhook_id, url, payload, notification_id in rows:
            body = orjson.dumps({"id": notification_id, **payload}, option=orjson.OPT_SORT_KEYS)
            if not allow_private and is_private_host(_host(url)):
                ok, tries, error = False, 0, "refused: the URL reaches a private address"
            else:
                ok, tries, error = _post(
                    client, url, body, signing_secret(key, webhook_id), attempts, backoff_s
                )
            delivered += ok
            with db.unit_of_work() as session:
                row = session.get(Delivery, delivery_id)
                if row is None:
                    continue
                row.attempts += tries
                row.status = "delivered" if ok else "failed"
                row.last_error = None if ok else error
                row.delivered_at = utcnow() if ok else None
    return delivered


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return "localhost"  # unparseable now: treated as private, never sent


def _post(
    client: httpx.Client, url: str, body: bytes, secret: str, attempts: int, backoff_s: float
) -> tuple[bool, int, str | None]:
    error: str | None = None
    for attempt in range(1, attempts + 1):
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(secret, body, timestamp=int(time.time())),
        }
        try:
            response = client.post(url, content=body, headers=headers)
            if 200 <= response.status_code < 300:
                return True, attempt, None
            error = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        if attempt < attempts:
            time.sleep(backoff_s * 2 ** (attempt - 1))
    return False, attempts, error


class Dispatcher:
    """Sends pending deliveries in a background thread after each commit that queued some."""

    def __init__(
        self, db: Database, *, key: bytes, backoff_s: float = 0.5, allow_private: bool = False
    ) -> None:
        self._db, self.key, self._backoff_s, self.allow_private = db, key, backoff_s, allow_private
        self._lock = threading.Lock()
        self._again = threading.Event()
        self.close = db.on_commit(self._after_commit)

    def _after_commit(self, tables: frozenset[str]) -> None:
        if "channel_deliveries" in tables:
            self._again.set()
            threading.Thread(target=self._run, name="webhooks", daemon=True).start()

    def _run(self) -> None:
        if not self._lock.acquire(blocking=False):
            return  # the running sender picks the new deliveries up: it loops while ``_again`` is set
        try:
            while self._again.is_set():
                self._again.clear()
                deliver_pending(
                    self._db, key=self.key, backoff_s=self._backoff_s, allow_private=self.allow_private
                )
        except Exception:  # a background sender must not die silently: log, the rows stay pending
            log.exception("webhook delivery failed")
        finally:
            self._lock.release()
