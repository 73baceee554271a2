"""Embedding vector encodings (``encoding_format: base64`` is little-endian float32, as the SDK decodes)."""

from __future__ import annotations

import base64
import struct


def to_base64(vector: list[float]) -> str:
    """Base64 of the vector as little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
