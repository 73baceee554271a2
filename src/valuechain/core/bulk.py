"""Pre-written INSERT/UPDATE statements for group commits on a raw DBAPI cursor.

The gateway's metering batch writes a few rows per request; SQLAlchemy's per-statement overhead cost
several times the SQLite commit itself, so each owning domain states its rows of the batch as plain SQL in
the driver's parameter style through this helper (``Statements``), which the batch writer executes in the
one transaction it holds. The statements are built on the event loop and only executed on the writer's
thread, so that thread holds the interpreter lock as little as possible.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, Table

Statements = list[tuple[str, list[dict[str, Any]] | tuple[Any, ...]]]
"""SQL statements in order, each with a list of rows to execute it for (``cursor.executemany``) or one
tuple of positional parameters (``cursor.execute``, a multi-row insert)."""

MAX_PARAMS = 30_000  # parameters of one multi-row insert (SQLite allows 32,766 since 3.32)


class BulkSql:
    """Statements and row values in the style of one driver (SQLite ``?`` and ``:name``, psycopg ``%s`` and
    ``%(name)s``)."""

    def __init__(self, *, sqlite: bool) -> None:
        self.sqlite = sqlite
        self._converters: dict[str, dict[str, Any]] = {}

    def param(self, name: str) -> str:
        """A named parameter placeholder."""
        return f":{name}" if self.sqlite else f"%({name})s"

    def insert_values(
        self, table: Table, rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None
    ) -> Statements:
        """Multi-row ``INSERT … VALUES (…), (…)`` statements for ``rows`` (as many as the parameter limit
        needs): the driver steps each once, where ``executemany`` steps, and hands the interpreter lock
        over, once per row."""
        if not rows:
            return []
        cols = columns or tuple(c.name for c in table.columns)
        one = "(" + ", ".join(["?" if self.sqlite else "%s"] * len(cols)) + ")"
        head = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES "
        per = max(1, MAX_PARAMS // len(cols))
        statements: Statements = []
        for start in range(0, len(rows), per):
            chunk = rows[start : start + per]
            params = tuple([row[c] for row in chunk for c in cols])
            statements.append((head + ", ".join([one] * len(chunk)), params))
        return statements

    def insert_records(self, table: Table, records: list[Any]) -> Statements:
        """``insert_values`` for slotted dataclasses whose fields are the table's columns, converted column by
        column without an intermediate dict (the hot path of the metering batch)."""
        if not records:
            return []
        converters = self._converters_of(table).items()
        return self.insert_values(
            table, [{name: convert(getattr(r, name)) for name, convert in converters} for r in records]
        )

    def row(self, table: Table, values: dict[str, Any]) -> dict[str, Any]:
        """Values as the driver takes them: JSON as text, UTC datetimes as SQLAlchemy stores them."""
        converters = self._converters_of(table)
        return {k: converters.get(k, _same)(v) for k, v in values.items()}

    def _converters_of(self, table: Table) -> dict[str, Any]:
        """Column name → the function that makes a value driver-ready, built once per table."""
        converters = self._converters.get(table.name)
        if converters is None:
            converters = self._converters[table.name] = {
                c.name: self._converter(c.type) for c in table.columns
            }
        return converters

    def _converter(self, column_type: Any) -> Any:
        if isinstance(column_type, JSON):
            return _json_text
        if isinstance(column_type, DateTime) or isinstance(getattr(column_type, "impl", None), DateTime):
            return _sqlite_datetime if self.sqlite else _utc
        return _same


def _same(value: Any) -> Any:
    return value


def _json_text(value: Any) -> Any:
    return None if value is None else orjson.dumps(value, default=str).decode()


def _utc(value: Any) -> Any:
    return None if value is None else value.astimezone(UTC)


def _sqlite_datetime(value: Any) -> Any:
    """A datetime as SQLAlchemy stores it in SQLite: naive UTC text with microseconds."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
