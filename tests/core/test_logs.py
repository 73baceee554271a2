"""Access logs keep paths but drop query strings, which may carry signed-URL capabilities."""

from __future__ import annotations

import logging

from valuechain.core.logs import DropQueryStrings


def test_query_string_is_dropped_from_access_log_lines() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "PUT", "/hub/api/lfs/upload/abc?repo=a/b&sig=deadbeef", "1.1", 200), None,
    )  # fmt: skip
    assert DropQueryStrings().filter(record)
    message = record.getMessage()
    assert "deadbeef" not in message and "/hub/api/lfs/upload/abc?…" in message
