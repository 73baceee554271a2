"""API-key secrets: generation and hashing. Only the hash is ever stored or compared."""

from __future__ import annotations

import hashlib
import re
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


# The shape of a secret: ``vc_<10-char prefix>_<random>``; log scrubbing finds secrets by it too, so the
# prefix class is wider than the alphabet generate_secret uses (scrub anything that looks like a key).
SECRET_PATTERN = rf"{SECRET_PREFIX}_[a-z0-9]{{10}}_[A-Za-z0-9_\-]{{20,}}"
_SECRET = re.compile(SECRET_PATTERN)


def looks_like_secret(value: str) -> bool:
    """Cheap shape check before touching the database."""
    return _SECRET.fullmatch(value) is not None
