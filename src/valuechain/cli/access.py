"""``valuechain access``: ask for an API offer; a provider's levers on its offers — terms, grants, backends,
suspensions."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from valuechain.cli.context import Format, FormatOption, database, emit, org_principal, out
from valuechain.cli.render import plural, say
from valuechain.core.errors import NotFoundError
from valuechain.market import service as market
from valuechain.market.terms import ApiTerms
from valuechain.oversight import service as oversight
from valuechain.registry import service as registry
from valuechain.registry import views
from valuechain.runtime.service import bind_backend

app = typer.Typer(
    help="API offers: ask for access; provider terms, grants, backends, suspensions.", no_args_is_help=True
)
AsOrg = typer.Option(..., "--as", help="The providing organisation (slug) acting.")


@app.command("terms")
def set_terms(
    offer: str,
    file: Path = typer.Argument(..., help="JSON file with the ApiTerms."),
    as_org: str = AsOrg,
    fmt: Format = FormatOption,
) -> None:
    """Set access, price plan, limits and logging policy of an api offer."""
    terms = ApiTerms.model_validate(json.loads(file.read_text(encoding="utf-8")))
    with database() as db, db.unit_of_work() as session:
        row = market.set_api_terms(session, offer, terms, principal=org_principal(session, as_org))
        data = {"offer": row.id, "api": row.terms["api"]}
    emit(data, fmt, lambda d: out.print(f"terms of {d['offer']} set"))


@app.command("request")
def request(
    offer: str,
    as_org: str = typer.Option(..., "--as", help="Your organisation (slug), asking."),
    fmt: Format = FormatOption,
) -> None:
    """Ask for an api or white-label offer: approved at once if open, else waiting for the provider."""
    with database() as db, db.unit_of_work() as session:
        ent = market.request_access(session, offer, principal=org_principal(session, as_org))
        data = {"id": ent.id, "offer": ent.offer_id, "org": as_org, "status": ent.status}
    emit(data, fmt, lambda d: say(out, f"{as_org} asked for offer {d['offer']} ({d['status']})"))


@app.command("grant")
def grant(offer: str, org: str, as_org: str = AsOrg, fmt: Format = FormatOption) -> None:
    """Entitle an organisation to an api offer (credits of the plan are granted once)."""
    with database() as db, db.unit_of_work() as session:
        principal = org_principal(session, as_org)
        ent = market.grant(session, offer, org, principal=principal)
        row = registry.get_offer(session, ent.offer_id, principal=principal)
        model = views.Names(session).version(row.version_id)
        data = {"id": ent.id, "offer": ent.offer_id, "model": model, "org": org, "status": ent.status}
    emit(
        data,
        fmt,
        lambda d: say(out, f"{org} entitled to {d['model']} via offer {d['offer']} ({d['status']})"),
    )


@app.command("bind")
def bind(
    offer: str,
    kind: str = typer.Option(..., help="embedded or remote"),
    base_url: str | None = typer.Option(None, help="Remote: the server's /v1 URL."),
    served_name: str | None = typer.Option(None, help="The model name the backend expects."),
    api_key_env: str | None = typer.Option(None, help="Remote: env variable holding the credential."),
    model_path: str | None = typer.Option(None, help="Embedded: a GGUF file (default the bundled model)."),
    context_length: int = typer.Option(2048),
    as_org: str = AsOrg,
    fmt: Format = FormatOption,
) -> None:
    """Serve the offer's model version with an embedded GGUF model or a remote OpenAI-compatible server."""
    config = {
        k: v
        for k, v in {
            "base_url": base_url,
            "served_name": served_name,
            "api_key_env": api_key_env,
            "model_path": model_path,
        }.items()
        if v
    }
    with database() as db, db.unit_of_work() as session:
        principal = org_principal(session, as_org)
        try:
            row = registry.get_offer(session, offer, principal=principal)
        except NotFoundError:
            row = None
        if row is None or row.by_org_id != principal.org_id:
            raise NotFoundError(f"offer `{offer}` of {as_org} not found")
        binding = bind_backend(
            session,
            version_id=row.version_id,
            kind=kind,
            config=config,
            context_length=context_length,
            principal=principal,
        )
        data = {"version": binding.version_id, "kind": binding.kind, "config": binding.config}
    emit(data, fmt, lambda d: out.print(f"version {d['version']} served by a {d['kind']} backend"))


@app.command("suspend")
def suspend(
    subject: str = typer.Argument(..., help="org slug, or key id/prefix with --key"),
    reason: str = typer.Option(..., help="Why; recorded in the audit log and told to the caller."),
    key: bool = typer.Option(False, "--key", help="The subject is an API key."),
    throttle_rpm: int | None = typer.Option(None, help="Throttle to this many requests/minute instead."),
    as_org: str = AsOrg,
    fmt: Format = FormatOption,
) -> None:
    """Suspend (or throttle) a key or organisation on your offers."""
    with database() as db, db.unit_of_work() as session:
        row = oversight.suspend(
            session,
            principal=org_principal(session, as_org),
            subject_type="key" if key else "org",
            subject_id=subject,
            reason=reason,
            kind="throttle" if throttle_rpm else "suspend",
            throttle_rpm=throttle_rpm,
        )
        data = {"id": row.id, "subject": row.subject_id, "kind": row.kind}
    emit(data, fmt, lambda d: say(out, f"{d['kind']}: {subject} ({d['id']})"))


@app.command("reinstate")
def reinstate(
    subject: str,
    reason: str = typer.Option(...),
    key: bool = typer.Option(False, "--key"),
    as_org: str = AsOrg,
    fmt: Format = FormatOption,
) -> None:
    """Lift your suspensions and throttles of a key or organisation."""
    with database() as db, db.unit_of_work() as session:
        rows = oversight.reinstate(
            session,
            principal=org_principal(session, as_org),
            subject_type="key" if key else "org",
            subject_id=subject,
            reason=reason,
        )
        data = {"lifted": [r.id for r in rows]}
    emit(
        data, fmt, lambda d: say(out, f"reinstated {subject} ({plural(len(d['lifted']), 'measure')} lifted)")
    )


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="access")
