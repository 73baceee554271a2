"""Bearer credentials: the one parser of an ``Authorization`` header, for every surface."""

from __future__ import annotations


def parse_bearer(header: str | None) -> str | None:
    """The secret of ``Authorization: Bearer <secret>`` (scheme case-insensitive), else None."""
    if not header:
        return None
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return None
    return secret
