"""``valuechain kit``: a starter project for an API offer, as a deterministic zip (issue 11)."""

from __future__ import annotations

from pathlib import Path

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err
from valuechain.cli.render import say


def kit(
    offer: str = typer.Argument(..., help="The API offer (off_…)."),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write the zip."),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000/v1", "--base-url", help="The API base URL the kit presets."
    ),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Write a starter kit (openai client app, README, a test) for an API offer, as a zip."""
    from valuechain.channels.kits import build_kit, kit_spec

    with database() as db, db.session() as session:
        spec = kit_spec(session, offer, principal=acting(session, as_org), base_url=base_url)
    built = build_kit(spec)
    output.write_bytes(built.data)
    result = {"path": str(output), "sha256": built.sha256, "bytes": len(built.data), "model": spec.model}
    emit(result, fmt, lambda r: say(err, f"wrote {r['path']} ({r['bytes']} bytes, sha256 {r['sha256']})"))
