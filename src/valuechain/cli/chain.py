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
from valuechain.registry.manifest import V2_FIELDS, ChainManifest

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


def split_documentation(manifest: ChainManifest) -> tuple[dict[str, dict[str, str]], ChainManifest]:
    """The Annex XI/XII and training-content fields by model, and the manifest without them."""
    names = set(V2_FIELDS["models"])
    found = {
        m.id: {n: v for n in names if (v := getattr(m, n)) is not None}
        for m in manifest.models
        if names & m.model_fields_set
    }
    if not found:
        return {}, manifest
    data = manifest.model_dump(exclude_unset=True, exclude={"models": {"__all__": names}})
    return found, ChainManifest.model_validate(data)


@app.command("import")
def import_(file: Path, fmt: Format = FormatOption) -> None:
    """Load a manifest into the registry: all or nothing, and again changes nothing."""
    from valuechain.compliance.records import documentation_fields
    from valuechain.compliance.service import record_documentation

    manifest = load_manifest(file)
    documentation, manifest = split_documentation(manifest)
    with database() as db, db.unit_of_work() as session:
        report = import_manifest(session, manifest, principal=system_principal()).as_dict()
        before = documentation_fields(session)
        for model_id, values in documentation.items():  # format 2: the accountability records hold them
            had = before.get(model_id, {})
            same = all(had.get(k) == v for k, v in values.items())
            if not same:
                record_documentation(session, model_id, dict(values), principal=system_principal())
            kind = "unchanged" if same else "updated"
            report[kind]["documentation"] = report[kind].get("documentation", 0) + 1

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
