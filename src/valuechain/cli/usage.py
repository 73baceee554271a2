"""``valuechain usage``: usage reports of the API channel, ledger check and request-log retention."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer

from valuechain.accounts.service import display_names
from valuechain.cli.context import Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import markup_safe, plural, say, table
from valuechain.core.clock import utcnow
from valuechain.gateway.logs import purge_expired
from valuechain.gateway.usage import usage_report
from valuechain.market.ledger import verify

app = typer.Typer(
    help="Usage of the release channels: API reports, downloads, ledger check, log retention.",
    no_args_is_help=True,
)


@app.command("downloads")
def downloads(
    org: str | None = typer.Option(None, help="Report as this organisation (default: everything)."),
    view: str = typer.Option("provider", help="provider: downloads of the org's repos; consumer: its own."),
    since: str | None = typer.Option(None, help="First day (YYYY-MM-DD); default 30 days ago."),
    until: str | None = typer.Option(None, help="Last day (YYYY-MM-DD); default today."),
    fmt: Format = FormatOption,
) -> None:
    """Open-weights downloads by day × model × version × organisation."""
    from valuechain.hub.reports import downloads_report

    with database() as db, db.session() as session:
        rows = downloads_report(
            session,
            principal=acting(session, org),
            view=view,
            since=date.fromisoformat(since) if since else None,
            until=date.fromisoformat(until) if until else None,
        )

    def human(data: list[dict[str, Any]]) -> None:
        rows = [(r["day"], r["model"], r["version"] or "", r["org"], r["downloads"]) for r in data]
        out.print(table(("day", "model", "version", "org", "downloads"), rows, ids=("model",)))

    emit(rows, fmt, human)


@app.command("report")
def report(
    org: str | None = typer.Option(None, help="Report as this organisation (default: everything)."),
    view: str = typer.Option(
        "consumer", help="consumer: the org's own calls; provider: its offers' traffic."
    ),
    since: str | None = typer.Option(None, help="First day (YYYY-MM-DD); default 30 days ago."),
    until: str | None = typer.Option(None, help="Last day (YYYY-MM-DD); default today."),
    fmt: Format = FormatOption,
) -> None:
    """Requests, tokens, cost, errors and latency by day × model × org × key."""
    with database() as db, db.session() as session:
        rows = usage_report(
            session,
            principal=acting(session, org),
            view=view,
            since=date.fromisoformat(since) if since else None,
            until=date.fromisoformat(until) if until else None,
        )
        names = display_names(session, org_ids={r["org"] for r in rows}, key_ids={r["key"] for r in rows})
        # People read slugs and key names; the ids stay for machines.
        rows = [r | {"org_slug": names.get(r["org"]), "key_name": names.get(r["key"])} for r in rows]

    def human(data: list[dict[str, Any]]) -> None:
        columns = ("day", "model", "org", "key", "requests", "tokens in/out", "cost", "ms p50/p99")
        out.print(table(columns, [_usage_row(r) for r in data], ids=("day", "model", "key")))
        say(err, plural(sum(r["requests"] for r in data), "request"))

    emit(rows, fmt, human)


def _usage_row(r: dict[str, Any]) -> tuple[Any, ...]:
    return (
        r["day"], r["model"], r["org_slug"] or r["org"], r["key_name"] or r["key"] or "",
        f"{r['requests']} ({r['errors']} failed)" if r["errors"] else r["requests"],
        f"{r['prompt_tokens']}/{r['completion_tokens']}", f"{r['cost'] / 1e6:.6f} {r['currency']}",
        f"{r['latency_ms_p50']:.0f}/{r['latency_ms_p99']:.0f}",
    )  # fmt: skip


@app.command("ledger-check")
def ledger_check(fmt: Format = FormatOption) -> None:
    """Check that every transaction sums to zero and every balance matches its entries; exit 1 if not."""
    with database() as db, db.session() as session:
        result = verify(session)

    def human(data: dict[str, Any]) -> None:
        if data["ok"]:
            out.print(f"ledger balanced: {plural(data['transactions'], 'transaction')}")
        for problem in data["problems"]:
            err.print(f"[red]unbalanced[/red]: {markup_safe(problem)}", highlight=False)

    emit(
        {"ok": not result.problems, "transactions": result.transactions, "problems": result.problems},
        fmt,
        human,
    )
    if result.problems:
        raise typer.Exit(code=1)


@app.command("purge-logs")
def purge_logs(fmt: Format = FormatOption) -> None:
    """Delete request logs past their offer's retention period."""
    with database() as db, db.unit_of_work() as session:
        count = purge_expired(session, now=utcnow())
    emit(
        {"deleted": count}, fmt, lambda d: out.print(f"deleted {plural(d['deleted'], 'expired request log')}")
    )


@app.command("renew-subscriptions")
def renew_subscriptions(fmt: Format = FormatOption) -> None:
    """Charge this month's subscription fees and reset included tokens (idempotent; hourly in the server)."""
    from valuechain.market.subscriptions import renew_all

    with database() as db, db.unit_of_work() as session:
        count = renew_all(session)
    emit({"renewed": count}, fmt, lambda d: out.print(f"renewed {plural(d['renewed'], 'subscription')}"))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="usage")
