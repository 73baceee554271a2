"""``valuechain audit``: verify the hash-chained audit log."""

from __future__ import annotations

import typer

from valuechain.cli.context import Format, FormatOption, database, emit, err, out
from valuechain.core.audit import verify_chain

app = typer.Typer(help="The append-only audit log.", no_args_is_help=True)


@app.command("verify")
def verify(fmt: Format = FormatOption) -> None:
    """Recompute every event's hash; exit 1 if anything was edited, inserted or deleted."""
    with database() as db, db.session() as session:
        result = verify_chain(session)
    data = {"ok": result.ok, "events": result.events, "problems": result.problems}

    def human(r: dict[str, object]) -> None:
        if result.ok:
            out.print(f"audit log intact: {result.events} events")
        else:
            for problem in result.problems:
                err.print(f"[red]tampered[/red]: {problem}")

    emit(data, fmt, human)
    if not result.ok:
        raise typer.Exit(code=1)
