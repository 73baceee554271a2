"""``valuechain demo``: seed the demo value chain and print what to open and call."""

from __future__ import annotations

import typer

from valuechain.cli.context import Format, FormatOption, database, emit, out
from valuechain.core.settings import Settings
from valuechain.demo import DEVELOPER, seed_demo


def demo(fmt: Format = FormatOption) -> None:
    """Seed the demo chain (idempotent) and issue fresh demo keys."""
    settings = Settings()
    with database(settings) as db:
        result = seed_demo(db, settings)
    data = {"keys": result.keys, "import": result.report, "url": settings.public_url}

    def human(d: dict[str, object]) -> None:
        url = settings.public_url
        out.print(f"[bold]valuechain demo ready[/bold] at {url}")
        out.print(f"  API docs:      {url}/docs")
        out.print(f"  demo key ({DEVELOPER}): {result.keys[DEVELOPER]}", markup=True, highlight=False)
        out.print(
            f'  try:  curl -H "Authorization: Bearer {result.keys[DEVELOPER]}" {url}/api/v1/models',
            highlight=False,
        )
        for slug, key in result.keys.items():
            if slug != DEVELOPER:
                out.print(f"  key ({slug}): {key}", highlight=False)

    emit(data, fmt, human)


def register(app: typer.Typer) -> None:
    app.command()(demo)
