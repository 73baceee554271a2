"""Typed, sortable, random identifiers: ``<prefix>_<26 chars>`` (time-ordered like ULID)."""

from __future__ import annotations

import base64
import os
import time

# An organisation's slug (the actor id of manifests and URLs): lower-case letters, digits, '.', '_', '-'.
SLUG = r"^[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?$"

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def new_id(prefix: str) -> str:
    """A new id such as ``org_01j…``: 48-bit millisecond time then 80 random bits, base32, sortable."""
    raw = int(time.time() * 1000).to_bytes(6, "big") + os.urandom(10)
    return f"{prefix}_{base64.b32encode(raw)[:26].translate(_FROM_RFC4648).decode()}"
