"""``valuechain lifecycle`` and ``valuechain support``: version stages, support terms, service levels."""

from __future__ import annotations

from datetime import datetime

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import say, table, when

app = typer.Typer(
    help="Model version lifecycle: preview → active → legacy → deprecated → retired.", no_args_is_help=True
)
support_app = typer.Typer(
    help="Maintenance: support terms of API offers and the service levels measured.", no_args_is_help=True
)


@app.command("set")
def set_stage(
    version: str = typer.Argument(..., help="<org>/<name>@<label>."),
    stage: str = typer.Argument(..., help="preview, active, legacy, deprecated or retired."),
    sunset: datetime = typer.Option(
        None, "--sunset", help="Retirement date (ISO 8601; needed to deprecate)."
    ),
    successor: str = typer.Option(
        None, "--successor", help="The version replacing it, <org>/<name>@<label>."
    ),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Move a version forward; a deprecation or retirement notifies its users (and their webhooks)."""
    from valuechain.channels import lifecycle, views
    from valuechain.channels.webhooks import deliver_pending, server_key
    from valuechain.core.settings import Settings

    if sunset is not None and sunset.tzinfo is None:
        sunset = sunset.astimezone()
    with database() as db:
        with db.unit_of_work() as session:
            change = lifecycle.move_version(
                session,
                version,
                stage,
                principal=acting(session, as_org),
                sunset_at=sunset,
                successor=successor,
            )
            public = views.stage_change(change)
        settings = Settings()
        sent = (
            deliver_pending(
                db, key=server_key(settings.home), allow_private=settings.channels_webhook_allow_private
            )
            if change.notified
            else 0
        )
    emit(
        public,
        fmt,
        lambda c: say(
            err,
            f"{c.after.version}: {c.before.stage} → {c.after.stage}; "
            f"notified {len(c.notified)} organisation(s)"
            f"{', ' + str(sent) + ' webhook delivery(ies) sent' if sent else ''}",
        ),
    )


@app.command("list")
def list_versions(
    model: str = typer.Argument(..., help="<org>/<name>."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Every version of a model with its stage and dates."""
    from valuechain.channels import views
    from valuechain.registry.lifecycle import lifecycles
    from valuechain.registry.service import get_model

    with database() as db, db.session() as session:
        found = get_model(session, model, principal=acting(session, as_org))
        rows = [views.version(v) for v in lifecycles(session, [found.id])]

    def human(items: list[object]) -> None:
        out.print(
            table(
                ("version", "stage", "since", "deprecated", "sunset", "successor"),
                [(v.version, v.stage, when(v.stage_at), when(v.deprecated_at), when(v.sunset_at),  # type: ignore[attr-defined]
                  v.successor or "") for v in items],  # type: ignore[attr-defined]
            )
        )  # fmt: skip

    emit(rows, fmt, human)


@support_app.command("set")
def set_support(
    offer: str = typer.Argument(..., help="Your API offer (off_…)."),
    response_hours: int = typer.Option(
        ..., "--response-hours", help="First answer to a support request within."
    ),
    patch_days: int = typer.Option(..., "--patch-days", help="Fix releases at least every so many days."),
    uptime: float = typer.Option(99.5, "--uptime", help="Uptime target in percent."),
    latency_p95: float = typer.Option(2000, "--latency-p95", help="95th percentile latency target in ms."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """State the support terms of your API offer."""
    from valuechain.channels.lifecycle import SupportTerms, set_support_terms

    terms = SupportTerms(
        response_time_hours=response_hours,
        patch_cadence_days=patch_days,
        uptime_target_pct=uptime,
        latency_p95_ms=latency_p95,
    )
    with database() as db, db.unit_of_work() as session:
        set_support_terms(session, offer, terms, principal=acting(session, as_org))
    emit(terms, fmt, lambda t: say(err, f"support terms of {offer} set"))


@support_app.command("show")
def show_service_level(
    offer: str = typer.Argument(..., help="The offer (off_…)."),
    days: int = typer.Option(30, "--days", help="Window measured, in days."),
    as_org: str = AsOrgOption,
    fmt: Format = FormatOption,
) -> None:
    """Uptime and latency measured from the usage records, against the offer's support terms."""
    from valuechain.channels import views
    from valuechain.channels.lifecycle import service_level

    with database() as db, db.session() as session:
        level = views.service_level(
            service_level(session, offer, principal=acting(session, as_org), days=days)
        )

    def human(v: object) -> None:
        lv = level
        terms = lv.terms or {}
        rows = [
            ("requests", lv.requests, ""),
            ("uptime %", lv.uptime_pct, terms.get("uptime_target_pct", "")),
            ("latency p50 ms", lv.latency_p50_ms, ""),
            ("latency p95 ms", lv.latency_p95_ms, terms.get("latency_p95_ms", "")),
            ("response time h", "", terms.get("response_time_hours", "")),
            ("patch cadence d", "", terms.get("patch_cadence_days", "")),
        ]
        out.print(table(("measure", "measured", "promised"), rows))

    emit(level, fmt, human)
