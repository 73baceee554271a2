"""``valuechain demo``: seed the demo value chain and print what to open and call."""

from __future__ import annotations

import typer

from valuechain.cli.context import Format, FormatOption, database, emit, out
from valuechain.core.settings import Settings
from valuechain.demo import BUNDLED_MODEL, DEVELOPER, seed_demo


def demo(fmt: Format = FormatOption) -> None:
    """Seed the demo chain (idempotent) and issue fresh demo keys."""
    settings = Settings()
    with database(settings) as db:
        result = seed_demo(db, settings)
    data = {"keys": result.keys, "import": result.report, "url": settings.public_url}

    def human(d: dict[str, object]) -> None:
        url, key = settings.public_url, result.keys[DEVELOPER]
        lines = [
            f"[bold]valuechain demo ready[/bold] at {url}",
            f"  API docs:       {url}/docs",
            f"  demo key ({DEVELOPER}): {key}",
            f'  REST:           curl -H "Authorization: Bearer {key}" {url}/api/v1/models',
            f'  OpenAI client:  OpenAI(base_url="{url}/v1", api_key="{key}")',
            f"                  model={BUNDLED_MODEL!r}",
            f"  Hugging Face:   HF_ENDPOINT={url}/hub HF_TOKEN={key} hf download {BUNDLED_MODEL}",
            f'  Obligations:    curl -H "Authorization: Bearer {key}" {url}/api/v1/obligations',
        ]
        for line in lines:
            out.print(line, highlight=False)
        for slug, other in result.keys.items():
            if slug != DEVELOPER:
                out.print(f"  key ({slug}): {other}", highlight=False)

    emit(data, fmt, human)


def register(app: typer.Typer) -> None:
    app.command()(demo)
