"""Generated references (settings, audit events, CLI, OpenAPI); ``python -m valuechain.docgen`` rewrites them.

A test fails when a committed reference differs from what this module generates.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer

from valuechain.core.settings import Settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def settings_reference() -> str:
    lines = [
        "# Settings reference",
        "",
        "Generated from `valuechain.core.settings.Settings` by `make docs`; do not edit by hand.",
        "Every setting is read once, at start-up, from the environment variable shown.",
        "",
        "| variable | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        annotation = str(field.annotation).replace("typing.", "").replace("<class '", "").replace("'>", "")
        annotation = annotation.replace("pathlib.", "").replace(" | ", " or ")
        shown = "(unset)" if default is None else f"`{default}`"
        description = (field.description or "").replace("|", "\\|")
        lines.append(f"| `VALUECHAIN_{name.upper()}` | {annotation} | {shown} | {description} |")
    return "\n".join(lines) + "\n"


def cli_reference() -> str:
    from valuechain.cli.main import app

    root = typer.main.get_command(app)
    lines = ["# CLI reference", "", "Generated from the Typer app by `make docs`; do not edit by hand.", ""]

    def walk(command: Any, path: list[str]) -> None:
        ctx = command.context_class(
            command, info_name=" ".join(path), terminal_width=100, max_content_width=100
        )
        # Plain formatting: Typer's rich help writes to the terminal instead of returning text.
        command.rich_markup_mode = None  # type: ignore[attr-defined]
        lines.extend([f"## `{' '.join(path)}`", "", "```text", command.get_help(ctx).rstrip(), "```", ""])
        if hasattr(command, "list_commands"):
            for name in sorted(command.list_commands(ctx)):
                sub = command.get_command(ctx, name)
                if sub is not None:
                    walk(sub, [*path, name])

    walk(root, ["valuechain"])
    return "\n".join(lines)


def openapi_reference() -> str:
    from valuechain.app import create_app

    schema = create_app(Settings(_env_file=None)).openapi()  # type: ignore[call-arg]
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def events_reference() -> str:
    from valuechain.core.events import EVENTS

    lines = [
        "# Audit event types",
        "",
        "Generated from the domains' `events.py` by `make docs`; do not edit by hand.",
        "Every action in the audit log is one of these; `record_event` refuses any other, and any event",
        "about another kind of subject or with a payload missing a listed field.",
        "",
        "| action | subject | payload fields | declared by | meaning |",
        "|---|---|---|---|---|",
    ]
    for event in EVENTS:
        fields = ", ".join(f"`{name}`" for name in (event.payload.model_fields if event.payload else {}))
        lines.append(
            f"| `{event.name}` | {event.subject} | {fields or '—'} | {event.domain} | {event.description} |"
        )
    return "\n".join(lines) + "\n"


REFERENCES = {
    "settings.md": settings_reference,
    "events.md": events_reference,
    "cli.md": cli_reference,
    "openapi.json": openapi_reference,
}


def main() -> None:
    for name, render in REFERENCES.items():
        (DOCS / name).write_text(render(), encoding="utf-8")
        print(f"wrote docs/{name}", file=sys.stderr)


if __name__ == "__main__":
    main()
