"""``valuechain notification`` and ``valuechain webhook``: notices about the models an organisation uses."""

from __future__ import annotations

import typer

from valuechain.cli.context import AsOrgOption, Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import say, table, when

app = typer.Typer(help="Notifications: deprecations and retirements of models you use.", no_args_is_help=True)
webhook_app = typer.Typer(help="Webhooks that receive your notifications, signed.", no_args_is_help=True)


@app.command("list")
def list_notifications(as_org: str = typer.Option(..., "--as", help="Your organisation (slug)."),
                       fmt: Format = FormatOption) -> None:  # fmt: skip
    """Your organisation's notifications, newest first."""
    from valuechain.channels import notices, views

    with database() as db, db.session() as session:
        rows = [
            views.notification(n)
            for n in notices.list_notifications(session, principal=acting(session, as_org))
        ]

    def human(items: list[object]) -> None:
        out.print(table(("when", "kind", "version", "message"),
                        [(when(n.created_at), n.kind, n.subject, n.message) for n in rows]))  # fmt: skip
        say(err, f"{len(rows)} notification(s)")

    emit(rows, fmt, human)


@webhook_app.command("add")
def add_webhook(
    url: str = typer.Argument(..., help="Absolute http(s) URL."),
    as_org: str = typer.Option(..., "--as", help="Your organisation (slug)."),
    fmt: Format = FormatOption,
) -> None:
    """Register a webhook; prints its signing secret once."""
    from valuechain.channels import notices, views
    from valuechain.channels.webhooks import server_key
    from valuechain.core.settings import Settings

    with database() as db, db.unit_of_work() as session:
        settings = Settings()
        hook = notices.create_webhook(
            session,
            url,
            principal=acting(session, as_org),
            key=server_key(settings.home),
            allow_private=settings.channels_webhook_allow_private,
        )
    emit(views.webhook(hook), fmt, lambda h: out.print(f"{h.id} secret (shown once): {h.secret}"))


@webhook_app.command("list")
def list_webhooks(as_org: str = typer.Option(..., "--as", help="Your organisation (slug)."),
                  fmt: Format = FormatOption) -> None:  # fmt: skip
    """Your webhooks with their delivery counts."""
    from valuechain.channels import notices, views

    with database() as db, db.session() as session:
        rows = [views.webhook(w) for w in notices.list_webhooks(session, principal=acting(session, as_org))]
    columns = ("id", "url", "delivered", "failed")
    emit(
        rows,
        fmt,
        lambda items: out.print(table(columns, [(w.id, w.url, w.delivered, w.failed) for w in rows])),
    )


@webhook_app.command("deliver")
def deliver(as_org: str = AsOrgOption) -> None:
    """Send pending deliveries now (each retried with backoff); the server also sends after each commit."""
    from valuechain.channels.webhooks import deliver_pending, server_key
    from valuechain.core.settings import Settings

    del as_org
    with database() as db:
        settings = Settings()
        sent = deliver_pending(
            db, key=server_key(settings.home), allow_private=settings.channels_webhook_allow_private
        )
    say(err, f"{sent} delivery(ies) sent")
