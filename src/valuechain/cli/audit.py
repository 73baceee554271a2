"""``valuechain audit``: read, export and verify the hash-chained audit log."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import typer

from valuechain.accounts.service import display_names, get_org
from valuechain.cli.context import Format, FormatOption, acting, database, emit, err, out
from valuechain.cli.render import json_safe, markup_safe, plural, say, when
from valuechain.core.anchor import Anchor
from valuechain.core.audit import AuditEvent, list_events, verify_chain
from valuechain.core.errors import ValidationError
from valuechain.core.settings import Settings

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)

OrgFilter = typer.Option(None, "--org", help="Only events of this organisation (slug).")
ActionFilter = typer.Option(
    None, "--action", help="Only this action, e.g. key.create, or a prefix such as key.*"
)
SinceFilter = typer.Option(None, "--since", help="From this day or time (ISO 8601, UTC unless given).")
UntilFilter = typer.Option(None, "--until", help="Up to and including this day, or before this time.")


def _moment(text: str | None, *, option: str, end: bool = False) -> datetime | None:
    """``2026-11-29`` (a whole day) or ``2026-11-29T11:57[+01:00]`` → an aware datetime."""
    if text is None:
        return None
    try:
        if len(text) == 10:
            day = date.fromisoformat(text) + timedelta(days=1 if end else 0)
            return datetime.combine(day, time.min, tzinfo=UTC)
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(
            f"{option}: `{text}` is not a date or time (e.g. 2026-11-29 or 2026-11-29T11:57)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _events(
    session: Any, org: str | None, action: str | None, since: str | None, until: str | None
) -> tuple[list[AuditEvent], dict[str, str]]:
    org_id = get_org(session, org, principal=acting(session, None)).id if org else None
    events = list(
        list_events(
            session,
            org_id=org_id,
            action=action,
            since=_moment(since, option="--since"),
            until=_moment(until, option="--until", end=True),
        )
    )
    keys = {e.actor.removeprefix("key:") for e in events if e.actor.startswith("key:")}
    orgs = {e.org_id for e in events if e.org_id} | {e.subject_id for e in events if e.subject_type == "org"}
    keys |= {e.subject_id for e in events if e.subject_type == "key"}
    names = display_names(session, org_ids=orgs, key_ids=keys)
    return events, names


def _record(event: AuditEvent, names: dict[str, str]) -> dict[str, Any]:
    key = event.actor.removeprefix("key:") if event.actor.startswith("key:") else None
    return {
        "seq": event.seq,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "actor_name": f"key {names[key]}" if key in names else event.actor,
        "org_id": event.org_id,
        "org": names.get(event.org_id or ""),
        "action": event.action,
        "subject_type": event.subject_type,
        "subject_id": event.subject_id,
        "subject_name": names.get(event.subject_id, event.subject_id),
        "before": event.before,
        "after": event.after,
        "reason": event.reason,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


@app.command("list")
def list_(
    org: str = OrgFilter,
    action: str = ActionFilter,
    since: str = SinceFilter,
    until: str = UntilFilter,
    fmt: Format = FormatOption,
) -> None:
    """List events, oldest first: when, who, which organisation, what, to which record."""
    with database() as db, db.session() as session:
        events, names = _events(session, org, action, since, until)
        records = [_record(e, names) for e in events]

    def human(rows: list[dict[str, Any]]) -> None:
        # One line per event, like a log: nothing is cut, whatever the terminal width.
        for r in rows:
            subject = f"{r['subject_type']} {r['subject_name']}"
            reason = f"  ({r['reason']})" if r["reason"] else ""
            at = when(datetime.fromisoformat(r["at"]))
            say(
                out,
                f"#{r['seq']}  {at}  {r['org'] or '-'}  {r['actor_name']}  {r['action']}  {subject}{reason}",
            )
        say(err, plural(len(rows), "event"))

    emit(records, fmt, human)


@app.command("export")
def export(
    org: str = OrgFilter,
    action: str = ActionFilter,
    since: str = SinceFilter,
    until: str = UntilFilter,
    output: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Write events as JSON lines (one event per line, with its hashes), for archives and SIEMs."""
    with database() as db, db.session() as session:
        events, names = _events(session, org, action, since, until)
        lines = [json_safe(json.dumps(_record(e, names), ensure_ascii=False)) + "\n" for e in events]
    if output is None:
        sys.stdout.write("".join(lines))
        return
    output.write_text("".join(lines), encoding="utf-8")
    say(err, f"wrote {plural(len(lines), 'event')} to {output}")


@app.command("verify")
def verify(fmt: Format = FormatOption) -> None:
    """Recompute every event's hash and check the chain against its signed checkpoints (HOME/audit);
    exit 1 if anything was edited, inserted, deleted or rewound."""
    settings = Settings()
    with database(settings) as db, db.session() as session:
        result = verify_chain(session, anchor=Anchor.of_home(settings.home))
    data = {
        "ok": result.ok,
        "events": result.events,
        "checkpoints": result.checkpoints,
        "problems": result.problems,
    }

    def human(r: dict[str, object]) -> None:
        if result.ok:
            anchored = plural(result.checkpoints, "signed checkpoint")
            out.print(f"audit log intact: {plural(result.events, 'event')}, {anchored}")
        else:
            for problem in result.problems:
                err.print(f"[red]tampered[/red]: {markup_safe(problem)}", highlight=False)

    emit(data, fmt, human)
    if not result.ok:
        raise typer.Exit(code=1)
