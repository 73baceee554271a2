"""Server-sent events framing of OpenAI streams: ``data: <json>\\n\\n`` … ``data: [DONE]\\n\\n``."""

from __future__ import annotations

from typing import Any

import orjson

DONE = b"data: [DONE]\n\n"


def event(payload: dict[str, Any]) -> bytes:
    """One SSE event carrying a JSON object."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"
