"""Logging: access logs never carry query strings (signed upload URLs carry capabilities); text or JSON
lines (``VALUECHAIN_LOG_FORMAT``), the JSON ones with the request id of ``core.observe``."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import orjson

ACCESS_LOGGER = "uvicorn.access"


class DropQueryStrings(logging.Filter):
    """Rewrites uvicorn's access-log path argument to its path alone."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def install_log_filters() -> None:
    """Idempotently attach the filters to the server's loggers."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, DropQueryStrings) for f in logger.filters):
        logger.addFilter(DropQueryStrings())


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        from valuechain.core.observe import current_request_id

        data: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = current_request_id()
        if request_id is not None:
            data["request_id"] = request_id
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(data, default=str).decode()


def log_config(*, level: str, fmt: str) -> dict[str, object]:
    """``logging.config.dictConfig`` of a served process (uvicorn's loggers and ours), text or JSON."""
    formatter: dict[str, object] = (
        {"()": f"{__name__}.JsonFormatter"}
        if fmt == "json"
        else {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}
    )
    handler = {"class": "logging.StreamHandler", "formatter": "main", "stream": "ext://sys.stderr"}
    loggers = {name: {"level": level.upper()} for name in ("uvicorn", "uvicorn.error", "uvicorn.access")}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"main": formatter},
        "handlers": {"main": handler},
        "root": {"level": level.upper(), "handlers": ["main"]},
        "loggers": {**loggers, "uvicorn.access": {"level": level.upper(), "propagate": True}},
    }
