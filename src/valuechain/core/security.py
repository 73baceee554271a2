"""API-key secrets: generation and hashing. Only the hash is ever stored or compared."""

from __future__ import annotations

import hashlib
import secrets

from valuechain.core.ids import _ALPHABET

SECRET_PREFIX = "vc"


def generate_secret() -> tuple[str, str]:
    """A new (visible prefix, secret) pair; the secret is ``vc_<prefix>_<43 random chars>``."""
    prefix = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return prefix, f"{SECRET_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def hash_secret(secret: str) -> str:
    """SHA-256 hex of a high-entropy secret (a slow KDF adds nothing for 256-bit random keys)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def looks_like_secret(value: str) -> bool:
    """Cheap shape check before touching the database."""
    parts = value.split("_", 2)
    return len(parts) == 3 and parts[0] == SECRET_PREFIX and len(parts[1]) == 10 and len(parts[2]) >= 20


def redact(secret: str) -> str:
    """What may be shown of a secret in messages: its visible prefix only."""
    parts = secret.split("_", 2)
    return f"{parts[0]}_{parts[1]}_…" if len(parts) == 3 else "…"
