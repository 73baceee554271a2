"""``valuechain evidence|incident|complaint``: accountability records (issue 13) from the command line."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import plural, say, table
from valuechain.compliance import records, service
from valuechain.core.errors import ValidationError
from valuechain.registry.manifest import ModelDocumentation
from valuechain.runtime.base import Backend

evidence_app = typer.Typer(help="Evidence that meets obligations: sign-offs, evaluations, notifications.")
incident_app = typer.Typer(help="Serious incidents: register, report, reminders, export for the authority.")
complaint_app = typer.Typer(help="Complaints of affected persons routed to your organisation; answer them.")


def _rows(items: list[Any], columns: tuple[str, ...], noun: str) -> None:
    out.print(table(columns, [tuple(str(getattr(i, c)) for c in columns) for i in items], ids=("id",)))
    say(err, plural(len(items), noun))


@evidence_app.command("list")
def evidence_list(as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """List evidence (stale when the facts it covers changed)."""
    with database() as db, db.session() as session:
        rows = service.list_evidence(session, principal=acting(session, as_org))
    emit(
        [asdict(r) for r in rows],
        fmt,
        lambda _: _rows(rows, ("id", "subject", "rule", "kind", "stale"), "item"),
    )


@evidence_app.command("record")
def evidence_record(
    subject: str = typer.Argument(..., help="Model or system id."),
    rule: str = typer.Argument(..., help="Rule id, e.g. A53.1.c."),
    kind: str = typer.Option(..., "--kind", help="evaluation, notification, summary or document."),
    sha256: str = typer.Option(..., "--sha256", help="SHA-256 of the exact file that is the evidence."),
    note: str = typer.Option("", "--note"),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Record evidence for one of your organisation's obligations."""
    with database() as db, db.unit_of_work() as session:
        principal = acting(session, as_org)
        key = (principal.org_slug, subject, rule)
        rec = service.record_evidence(session, principal=principal, obligation=key, kind=kind, sha256=sha256,
                                      note=note)  # fmt: skip
    emit(asdict(rec), fmt, lambda r: say(err, f"recorded {r['id']} for {subject} {rule}"))


@evidence_app.command("sign-off")
def evidence_sign_off(
    model: str = typer.Argument(..., help="<org>/<name>"),
    kind: str = typer.Option(..., "--kind", help="annex-xi, annex-xii or summary."),
    note: str = typer.Option("", "--note"),
    signer: str = typer.Option(
        "", "--signer", help="Who signs off, e.g. 'Jane Roe, Head of Compliance' (default: your login name)."
    ),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Sign off a document whose fields are all recorded; its sha256 and who signed are kept."""
    import getpass

    who = signer or f"{getpass.getuser()} (local CLI)"
    with database() as db, db.unit_of_work() as session:
        rec = service.sign_document(
            session, model, kind, principal=acting(session, as_org), note=note, signer=who
        )
    emit(asdict(rec), fmt, lambda r: say(err, f"signed off {kind} of {model}: sha256 {r['sha256']}"))


@evidence_app.command("set-field")
def evidence_set_field(
    model: str = typer.Argument(..., help="<org>/<name>"),
    assignments: list[str] = typer.Argument(..., help="FIELD=TEXT (FIELD= clears it), e.g. architecture=..."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Record Annex XI/XII or training-content fields of a model."""
    values: dict[str, str | None] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        if not sep or name not in ModelDocumentation.model_fields:
            known = ", ".join(ModelDocumentation.model_fields)
            raise ValidationError(f"`{item}`: use FIELD=TEXT with FIELD one of {known}")
        values[name] = text or None
    with database() as db, db.unit_of_work() as session:
        recorded = service.record_documentation(session, model, values, principal=acting(session, as_org))
    emit(recorded, fmt, lambda r: say(err, f"{model}: {plural(len(r), 'field')} recorded"))


_INCIDENT_COLUMNS = ("id", "subject", "category", "next_report", "due", "overdue")


@incident_app.command("open")
def incident_open(
    subject: str = typer.Argument(..., help="Model or system id."),
    category: str = typer.Option(..., "--category", help="death, health, critical_infrastructure, ..."),
    aware_on: str = typer.Option(..., "--aware-on", help="Day you became aware (YYYY-MM-DD)."),
    description: str = typer.Option(..., "--description"),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Register a serious incident; prints the report due and by when."""
    day = date.fromisoformat(aware_on)
    with database() as db, db.unit_of_work() as session:
        rec = service.open_incident(session, principal=acting(session, as_org), subject=subject,
                                    category=category, aware_on=day, description=description)  # fmt: skip
    emit(asdict(rec), fmt, lambda r: say(err, f"{r['id']}: {r['next_report']} report due {r['due']}"))


@incident_app.command("report")
def incident_report(
    incident_id: str = typer.Argument(...),
    kind: str = typer.Option(..., "--kind", help="initial, intermediate, complete or final."),
    text: str = typer.Option(..., "--text"),
    resolved_on: str = typer.Option(None, "--resolved-on", help="Resolution day (YYYY-MM-DD)."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """File a report on an incident."""
    resolved = date.fromisoformat(resolved_on) if resolved_on else None
    with database() as db, db.unit_of_work() as session:
        rec = service.report_incident(session, principal=acting(session, as_org), incident_id=incident_id,
                                      kind=kind, text=text, resolved_on=resolved)  # fmt: skip
    emit(asdict(rec), fmt, lambda r: say(err, f"next: {r['next_report']} report due {r['due']}"))


@incident_app.command("list")
def incident_list(
    due_within: int = typer.Option(None, "--due-within", help="Only reports due within N days (reminders)."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """List incidents with the next report owed."""
    with database() as db, db.session() as session:
        rows = service.list_incidents(session, principal=acting(session, as_org), due_within=due_within)
    emit([asdict(r) for r in rows], fmt, lambda _: _rows(rows, _INCIDENT_COLUMNS, "incident"))


@incident_app.command("export")
def incident_export(incident_id: str = typer.Argument(...), as_org: str = AsOrgOption) -> None:
    """The incident as a JSON report for the authority."""
    with database() as db, db.session() as session:
        data = service.export_incident(session, principal=acting(session, as_org), incident_id=incident_id)
    emit(data, Format.json)


@complaint_app.command("list")
def complaint_list(as_org: str = AsOrgOption, fmt: Format = FormatOption) -> None:
    """Complaints routed to your organisation."""
    with database() as db, db.session() as session:
        rows = records.list_complaints(session, principal=acting(session, as_org))
    emit(
        [asdict(r) for r in rows],
        fmt,
        lambda _: _rows(rows, ("id", "subject", "status", "text"), "complaint"),
    )


@complaint_app.command("answer")
def complaint_answer(
    complaint_id: str = typer.Argument(...),
    text: str = typer.Option(..., "--text"),
    close: bool = typer.Option(False, "--close", help="Close the complaint with this answer."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Answer a complaint; the person sees it with their tracking id."""
    with database() as db, db.unit_of_work() as session:
        rec = records.answer_complaint(session, principal=acting(session, as_org), complaint_id=complaint_id,
                                       text=text, close=close)  # fmt: skip
    emit(asdict(rec), fmt, lambda r: say(err, f"{r['id']}: {r['status']}"))


eval_app = typer.Typer(help="Evaluation runs over a model's channels (API, open weights): evidence.")


@eval_app.command("run")
def eval_run(
    model: str = typer.Argument(..., help="<org>/<name> of the model."),
    suite: str = typer.Option(
        "builtin-mc",
        "--suite",
        help="A shipped suite: builtin-mc, or builtin-mc-short (a quick channel check, not evidence).",
    ),
    channel: str = typer.Option("weights", "--channel", help="api (a served /v1) or weights (hub GGUF)."),
    base_url: str = typer.Option(
        "http://127.0.0.1:8000/v1", "--base-url", help="api: the served /v1 (the run is metered there)."
    ),
    api_key: str = typer.Option(
        "", "--api-key", envvar="VALUECHAIN_API_KEY", help="api: a key of your organisation."
    ),
    served_name: str = typer.Option("", "--served-name", help="api: the model name on /v1 (default MODEL)."),
    repo: str = typer.Option("", "--repo", help="weights: the hub repo with the GGUF (default MODEL)."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Run a suite over one channel of a model (as its provider, or as an inspector with a grant)."""
    from valuechain.compliance import channels
    from valuechain.core.settings import Settings

    settings = Settings()
    with database(settings) as db:
        with db.session() as session:
            principal = acting(session, as_org)

        def open_backend() -> Backend:
            if channel == "api":
                return channels.api_backend(
                    base_url=base_url, api_key=api_key, served_name=served_name or model
                )
            return channels.weights_backend(db, settings, principal=principal, repo_id=repo or model)

        rec = service.run_evaluation(
            db, model, principal=principal, suite=suite, channel=channel, open_backend=open_backend
        )
    emit(
        asdict(rec),
        fmt,
        lambda r: say(err, f"{r['id']}: {model} over {channel}: {r['correct']}/{r['total']} "
                           f"(suite sha256 {r['suite_sha256'][:12]}, result sha256 {r['sha256'][:12]})"),
    )  # fmt: skip


@eval_app.command("list")
def eval_list(
    model: str = typer.Option("", "--model", help="Only this model's runs."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Your runs and the runs of your models (an inspector's included), newest first."""
    with database() as db, db.session() as session:
        rows = service.list_evaluations(session, principal=acting(session, as_org), model=model or None)
    emit(
        [asdict(r) for r in rows],
        fmt,
        lambda _: _rows(rows, ("id", "model", "channel", "role", "suite", "correct", "total"), "run"),
    )


@eval_app.command("neutrality")
def eval_neutrality(
    model: str = typer.Argument(..., help="<org>/<name> of the model."),
    suite: str = typer.Option("builtin-mc", "--suite"),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """The same suite's latest score per channel: equal scores are the channel-neutrality evidence."""
    with database() as db, db.session() as session:
        report = service.channel_neutrality(session, model, principal=acting(session, as_org), suite=suite)
    emit(report, fmt, lambda r: say(err, f"{model}: {r['channels']} neutral={r['neutral']}"))
