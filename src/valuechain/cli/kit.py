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
        None,
        "--base-url",
        help="The API base URL the kit presets (default: this server's /v1, from VALUECHAIN_PUBLIC_URL, "
        "or VALUECHAIN_HOST and VALUECHAIN_PORT).",
    ),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Write a starter kit (openai client app, README, a test) for an API offer, as a zip."""
    from valuechain.channels.kits import build_kit, kit_spec
    from valuechain.core.settings import Settings

    settings = Settings()
    base_url = base_url or settings.resolved_public_url + "/v1"  # where `valuechain serve` answers
    with database(settings) as db, db.session() as session:
        spec = kit_spec(session, offer, principal=acting(session, as_org), base_url=base_url)
    built = build_kit(spec)
    output.write_bytes(built.data)
    result = {"path": str(output), "sha256": built.sha256, "bytes": len(built.data), "model": spec.model}
    emit(result, fmt, lambda r: say(err, f"wrote {r['path']} ({r['bytes']} bytes, sha256 {r['sha256']})"))
