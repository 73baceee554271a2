"""What the CLI prints from data: escapes made visible, whole ids, readable times and counts."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from rich.console import Console

from valuechain.cli.render import clean, json_safe, plural, table, when


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("acme", "acme"),
        ("Société Générale", "Société Générale"),
        ("evil\x1b[2J\x1b]0;pwned\x07", "evil\\e[2J\\e]0;pwned\\x07"),
        ("two\nlines\r", "two\\nlines\\r"),
        ("\u202eevil", "\\u202eevil"),
        ("csi\x9b31m", "csi\\x9b31m"),
        (None, ""),
    ],
)
def test_clean_escapes_what_a_terminal_would_act_on(raw: str | None, shown: str) -> None:
    assert clean(raw) == shown


def test_json_safe_keeps_json_valid_and_inert() -> None:
    import json

    text = json_safe(json.dumps({"name": "a\x9bb\u2028c"}, ensure_ascii=False))
    assert "\x9b" not in text and "\u2028" not in text
    assert json.loads(text) == {"name": "a\x9bb\u2028c"}


def test_when_prints_minutes_in_utc() -> None:
    at = datetime(2026, 11, 29, 12, 57, 4, 340176, tzinfo=timezone(timedelta(hours=1)))
    assert when(at) == "2026-11-29 11:57 UTC"
    assert when(datetime(2026, 11, 29, 11, 57, tzinfo=UTC)) == "2026-11-29 11:57 UTC"
    assert when(None, empty="never") == "never"


def test_plural() -> None:
    assert [plural(n, "model") for n in (0, 1, 2)] == ["0 models", "1 model", "2 models"]
    assert plural(1, "entity", "entities") == "1 entity" and plural(3, "entity", "entities") == "3 entities"


def test_table_keeps_ids_whole_at_80_columns() -> None:
    long_id = "key_06hzq9x2m4b7c8d9e0f1g2h3j4"
    rows = [(long_id, "a name that is rather long " * 3, "x" * 60, "\x1b[31mred")]
    buffer = io.StringIO()
    Console(file=buffer, width=80).print(table(("id", "name", "notes", "evil"), rows, ids=("id",)))
    text = buffer.getvalue()
    assert long_id in text and "…" not in text
    assert "\x1b" not in text and "\\e[31mred" in text.replace("\n", "").replace(" ", "").replace("│", "")
    assert max(len(line) for line in text.splitlines()) <= 80
