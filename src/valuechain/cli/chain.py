"""``valuechain chain``: check, import and export chain manifests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from valuechain.accounts.principal import system_principal
from valuechain.cli.context import Format, FormatOption, database, emit, err, out
from valuechain.cli.render import plural, say
from valuechain.registry.chain import import_manifest
from valuechain.registry.check import ManifestError, load_manifest
from valuechain.registry.export import export_manifest, manifest_to_yaml

app = typer.Typer(help="Chain manifests: a whole value chain as a YAML file.", no_args_is_help=True)


@app.command("check")
def check(file: Path, fmt: Format = FormatOption) -> None:
    """Validate a manifest; report every problem with its line, field and what is wrong."""
    try:
        manifest = load_manifest(file)
    except ManifestError as exc:
        _report_problems(file, exc, fmt)
        raise typer.Exit(code=1) from None
    counts = {k: len(getattr(manifest, k)) for k in ("actors", "models", "derivations", "offers", "systems")}
    ok = {"file": str(file), "valid": True, "problems": [], "counts": counts}
    summary = ", ".join(plural(n, noun[:-1], noun) for noun, n in counts.items())
    emit(ok, fmt, lambda r: say(out, f"{file}: valid ({summary})"))


def _report_problems(file: Path, exc: ManifestError, fmt: Format) -> None:
    result: dict[str, Any] = {
        "file": str(file),
        "valid": False,
        "problems": [p.as_dict() for p in exc.problems],
    }

    def human(r: dict[str, Any]) -> None:
        for p in exc.problems:
            say(out, f"{file}:{p.line or '?'}: {p.path or '(root)'}: {p.message}")
        say(err, plural(len(exc.problems), "problem"))

    emit(result, fmt, human)


@app.command("import")
def import_(file: Path, fmt: Format = FormatOption) -> None:
    """Load a manifest into the registry: all or nothing, and again changes nothing."""
    manifest = load_manifest(file)
    with database() as db, db.unit_of_work() as session:
        report = import_manifest(session, manifest, principal=system_principal()).as_dict()

    def human(r: dict[str, dict[str, int]]) -> None:
        for what in ("created", "updated", "unchanged"):
            if r[what]:
                say(out, f"{what}: " + ", ".join(plural(n, k) for k, n in sorted(r[what].items())))
        if not r["created"] and not r["updated"]:
            out.print("nothing to change")

    emit(report, fmt, human)


@app.command("export")
def export(
    output: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    org: str = typer.Option(None, help="Only what this organisation may see."),
) -> None:
    """Write the registry out as a manifest (YAML)."""
    with database() as db, db.session() as session:
        org_id = None
        if org is not None:
            from valuechain.accounts.service import get_org

            org_id = get_org(session, org, principal=system_principal()).id
        text = manifest_to_yaml(export_manifest(session, org_id=org_id))
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        say(err, f"wrote {output}")
