"""How the CLI shows data to a person: safe text, whole ids, readable times and counts."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape as _escape_markup
from rich.table import Table
from rich.text import Text

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x1b": "\\e"}
# Characters a terminal may act on: C0/C1 controls, DEL, line/paragraph separators, bidi overrides.
_UNSAFE_IN_JSON = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def clean(value: Any) -> str:
    """``value`` as text with control and other non-printing characters escaped (never raw escapes)."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else _NAMED.get(ch) or _escape(ch) for ch in text)


def markup_safe(value: Any) -> str:
    """User data inside Rich markup: control characters and markup both made inert."""
    return _escape_markup(clean(value))


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def json_safe(text: str) -> str:
    """Escape, inside JSON text, the characters ``json.dumps(ensure_ascii=False)`` leaves raw."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def when(value: datetime | None, *, empty: str = "") -> str:
    """A time as a person reads it: ``2026-11-29 11:57 UTC``."""
    if value is None:
        return empty
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 model``, ``2 models``, ``0 models``."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], *, ids: Sequence[str] = ()) -> Table:
    """A table whose ``ids`` columns never wrap or shrink (so an id can be copied); others fold."""
    rows = [[clean(cell) for cell in row] for row in rows]
    # Plain columns two spaces apart, as `gh` and `kubectl` print them: no width spent on borders.
    grid = Table(box=None, padding=(0, 2, 0, 0), pad_edge=False, header_style="bold")
    for i, name in enumerate(columns):
        if name in ids:
            width = max([len(name), *(len(row[i]) for row in rows)])
            grid.add_column(name, no_wrap=True, min_width=width, overflow="ignore")
        else:
            grid.add_column(name, overflow="fold")
    for row in rows:
        grid.add_row(*(Text(cell) for cell in row))
    return grid


def say(console: Console, text: Any) -> None:
    """Print one line that may hold user data: no markup, no highlighting, escapes made visible."""
    console.print(clean(text), markup=False, highlight=False, soft_wrap=True)
