"""``valuechain obligations|whatif|neutrality|docs|bom``: the accountability engine from the command line.

With ``--chain FILE`` everything runs on a manifest file (no server, no database); without it, on the
registry configured by the settings.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import typer

from valuechain.cli.context import Format, FormatOption, database, emit, err, fail, out
from valuechain.cli.render import clean, json_safe, plural, say, table
from valuechain.cli.render import markup_safe as escape
from valuechain.compliance.bom import build_bom
from valuechain.compliance.documentation import build_document
from valuechain.compliance.engine import Diff, Engine, Evaluation, Obligation, evaluate, model_entry
from valuechain.compliance.facts import ChainFacts, facts_from_manifest
from valuechain.compliance.neutrality import NeutralityReport, neutrality
from valuechain.compliance.pack import DEFAULT_REGIME, load_regime
from valuechain.compliance.rendering import FORMATS, render
from valuechain.compliance.whatif import whatif
from valuechain.core.errors import AppError, ValidationError
from valuechain.registry.check import load_manifest

F = TypeVar("F", bound=Callable[..., Any])

ChainOption = typer.Option(None, "--chain", "-c", help="A chain manifest file; default: the registry.")
AsOfOption = typer.Option(
    None, "--as-of", help="Evaluation date YYYY-MM-DD (default: manifest as_of or today)."
)
RegimeOption = typer.Option(
    DEFAULT_REGIME, "--regime", help="Regime pack, e.g. eu-ai-act or eu-ai-act@<version>."
)
ModelArg = typer.Argument(..., help="The model: <org>/<name>.")


def _errors(func: F) -> F:
    """Expected errors become a message on stderr and exit code 1."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AppError as exc:
            raise fail(exc) from None

    return wrapper  # type: ignore[return-value]


def _as_of(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"--as-of: `{text}` is not a date (YYYY-MM-DD)") from None


def _facts(chain: Path | None) -> ChainFacts:
    if chain is not None:
        return facts_from_manifest(load_manifest(chain))
    from valuechain.compliance.service import registry_facts

    with database() as db, db.session() as session:
        return registry_facts(session)


def _sentence(ob: Obligation, regime: str) -> str:
    return load_regime(regime).pack.rule(ob.rule).sentence.format(actor=ob.actor, subject=ob.subject)


SHORT = 120  # characters of a reason in the human output; --details prints them whole (issue 13)
_SIGN_OFF = {"A53.1.a": "annex-xi", "A53.1.b": "annex-xii", "A53.1.d": "summary"}


def short(text: str, limit: int = SHORT) -> str:
    """A reason cut at ``limit`` characters (on a word), marked with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _common_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def short_change(text: str, others: list[str], limit: int = SHORT) -> str:
    """``text`` cut to ``limit`` around where it first differs from the closest of ``others``, so a change
    past the cut still shows (issue 13: `whatif` printed the same shortened line as removed and added)."""
    if len(text) <= limit:
        return text
    same = max((_common_prefix(text, o) for o in others), default=0)
    if same < limit - 40:
        return short(text, limit)
    start = text.rfind(" ", 0, same - 30) + 1  # a few words before the change
    return "…" + short(text[start:], limit - 1)


def evidence_hint(ob: Obligation, unfilled: int = 0) -> str | None:
    """What evidence would meet an open obligation, and the command that records it (``unfilled``: the
    fields its document still lacks, which must be recorded before the sign-off)."""
    if ob.status not in ("open", "overdue") and not ob.status.startswith("open:"):
        return None
    if ob.rule in _SIGN_OFF:
        kind = _SIGN_OFF[ob.rule]
        if unfilled:
            fields = plural(unfilled, "missing field")
            return (
                f"missing evidence: a signed-off {kind}; first record its {fields} "
                f"(valuechain docs {ob.subject} --kind {kind} lists them)"
            )
        return f"missing evidence: valuechain evidence sign-off {ob.subject} --kind {kind}"
    return f"missing evidence: valuechain evidence record {ob.subject} {ob.rule} --kind … --sha256 …"


def unfilled_fields(facts: ChainFacts, result: Evaluation, regime: str) -> dict[tuple[str, str], int]:
    """How many fields each open document obligation's document still lacks, by (subject, rule)."""
    wanted = {(o.subject, o.rule) for o in result.obligations if o.rule in _SIGN_OFF and evidence_hint(o)}
    if not wanted:
        return {}
    engine = Engine(facts, regime=regime, as_of=result.as_of)
    engine.evaluate()
    return {
        (subject, rule): len(build_document(facts, subject, _SIGN_OFF[rule], engine=engine).missing)
        for subject, rule in wanted
        if subject in facts.models
    }


def _print_obligation(
    ob: Obligation,
    regime: str,
    marker: str = " ",
    *,
    details: bool = False,
    as_of: date | None = None,
    unfilled: int = 0,
) -> None:
    due = f", due {ob.due.isoformat()}" if ob.due else ""
    scope = " (limited to the modification)" if ob.scope == "modification" else ""
    since = "applies since" if as_of is not None and ob.applies_from <= as_of else "from"
    out.print(
        f" {marker} [bold]{ob.rule}[/bold] {escape(ob.citation)} - {escape(ob.status)}, {since} "
        f"{ob.applies_from.isoformat()}{due}{scope}",
        highlight=False,
    )
    out.print(f"     {escape(_sentence(ob, regime))}", highlight=False)
    reasons = ob.because if details else [short(b) for b in ob.because[:3]]
    for reason in reasons:
        out.print(f"     [dim]because: {escape(reason)}[/dim]", highlight=False)
    if not details and len(ob.because) > 3:
        out.print(f"     [dim](+{len(ob.because) - 3} more: --details)[/dim]", highlight=False)
    hint = evidence_hint(ob, unfilled)
    if hint:
        out.print(f"     [yellow]{escape(hint)}[/yellow]", highlight=False)


def _provider(view: Any) -> str:
    """The decided provider, or why there is none (issue 13: the reason was only in JSON)."""
    if view.provider:
        return str(view.provider)
    maybe = [r.actor for r in view.roles if r.decided is None]
    if maybe:
        return "cannot decide: " + ", ".join(maybe)
    if not view.placed:
        return "none: " + short(view.placing_reason or "not placed on the Union market", 60)
    # e.g. a modifier below one third of the original compute: "…: does not become a provider; the
    # original provider's obligations stay (GL paras 60-61)" — the conclusion is what the reader needs.
    why = next((b for b in view.because if "provider" in b), "no actor places it under its own name")
    return "none: " + short(why.rsplit(": ", 1)[-1], 90)


def _human_evaluation(
    result: Evaluation,
    regime: str,
    *,
    details: bool = False,
    unfilled: dict[tuple[str, str], int] | None = None,
) -> None:
    words = {True: "yes", False: "no", None: "cannot decide"}
    rows = []
    for view in result.models:
        entry = model_entry(view)
        rows.append(
            (entry["id"], words[entry["gpai"]], words[entry["systemic_risk"]],
             words[entry["open_source_exempt"]], _provider(view))
        )  # fmt: skip
    columns = ("model", "GPAI", "systemic risk", "open-source exempt", "provider")
    out.print(table(columns, rows, ids=("model",)))
    by_actor: dict[str, list[Obligation]] = {}
    for ob in result.obligations:
        by_actor.setdefault(ob.actor, []).append(ob)
    for actor, obligations in sorted(by_actor.items()):
        out.print(
            f"\n[bold underline]{escape(actor)}[/bold underline] - {plural(len(obligations), 'obligation')}"
        )
        for ob in obligations:
            missing = (unfilled or {}).get((ob.subject, ob.rule), 0)
            _print_obligation(ob, regime, details=details, as_of=result.as_of, unfilled=missing)
    if not result.obligations:
        out.print("no obligations")
    for note in result.notes:  # claims the named organisation has not confirmed (issue 9)
        out.print(f"[yellow]note[/yellow]: {escape(note.note)}", highlight=False)
    err.print(f"{result.regime} {result.regime_version}, as of {result.as_of.isoformat()}")


@_errors
def obligations(
    chain: Path = ChainOption,
    fmt: Format = FormatOption,
    as_of: str = AsOfOption,
    regime: str = RegimeOption,
    rule: list[str] = typer.Option(None, "--rule", help="Only these rule ids (repeatable)."),
    actor: str = typer.Option(None, "--actor", help="Only this actor's obligations and models."),
    details: bool = typer.Option(False, "--details", help="Every reason in full (default: short reasons)."),
) -> None:
    """Derive every actor's obligations from the chain, each with its citation, dates and reasons."""
    day = _as_of(as_of)
    if chain is None:
        from valuechain.compliance.service import list_obligations, registry_facts

        with database() as db, db.session() as session:
            result = list_obligations(session, principal=None, as_of=day, regime=regime, rules=rule or None)
            facts = registry_facts(session)
    else:
        facts = _facts(chain)
        result = evaluate(facts, regime=regime, as_of=day, rules=rule or None)
    if actor:
        result = result.for_actor(actor)

    def human(_: Any) -> None:
        _human_evaluation(result, regime, details=details, unfilled=unfilled_fields(facts, result, regime))

    emit(result.as_dict(), fmt, human)


def _human_diff(diff: Diff, regime: str) -> None:
    for before, after in diff.models:
        what = (after or before or {}).get("id")
        changes = [
            f"{k}: {(before or {}).get(k)} -> {(after or {}).get(k)}"
            for k in ("gpai", "systemic_risk", "open_source_exempt", "provider")
            if (before or {}).get(k) != (after or {}).get(k)
        ]
        if changes:
            out.print(f"[bold]{escape(str(what))}[/bold]: {escape(', '.join(changes))}", highlight=False)
    for ob in diff.added:
        _print_obligation(ob, regime, "[green]+[/green]")
    for ob in diff.removed:
        _print_obligation(ob, regime, "[red]-[/red]")
    for old, new in diff.changed:
        fields = [
            f"{k} {getattr(old, k)} -> {getattr(new, k)}"
            for k in ("status", "scope", "applies_from", "due")
            if getattr(old, k) != getattr(new, k)
        ]
        out.print(
            f" [yellow]~[/yellow] {escape(new.actor)} {new.rule} {escape(new.subject)}: "
            f"{escape(', '.join(fields) or 'reasons changed')}",
            highlight=False,
        )
        gone = [b for b in old.because if b not in new.because]  # issue 13: show the change itself
        came = [b for b in new.because if b not in old.because]
        for reason in gone:
            out.print(f"     [red]- {escape(short_change(reason, came))}[/red]", highlight=False)
        for reason in came:
            out.print(f"     [green]+ {escape(short_change(reason, gone))}[/green]", highlight=False)
    if not (diff.added or diff.removed or diff.changed):
        out.print("no change in obligations")
    models, systems = plural(diff.recomputed_models, "model"), plural(diff.recomputed_systems, "system")
    err.print(f"re-evaluated {models} and {systems}")


@_errors
def whatif_command(
    changes: list[str] = typer.Option(
        ...,
        "--set",
        "-s",
        help="A change, e.g. 'models[org/m].weights_public=true' "
        "or '+offers={model: org/m, by: org, channel: api}' (repeatable).",
    ),
    chain: Path = ChainOption,
    fmt: Format = FormatOption,
    as_of: str = AsOfOption,
    regime: str = RegimeOption,
    actor: str = typer.Option(None, "--actor", help="Only this actor's obligations."),
) -> None:
    """Re-evaluate with changed facts (nothing is written) and print the difference in obligations."""
    day = _as_of(as_of)
    if chain is None:
        from valuechain.compliance.service import whatif_obligations

        with database() as db, db.session() as session:
            diff = whatif_obligations(session, changes, principal=None, as_of=day, regime=regime)
    else:
        diff = whatif(_facts(chain), changes, regime=regime, as_of=day)
    if actor:
        diff.added = [o for o in diff.added if o.actor == actor]
        diff.removed = [o for o in diff.removed if o.actor == actor]
        diff.changed = [(a, b) for a, b in diff.changed if b.actor == actor]
        mine = {o.subject for o in diff.added + diff.removed} | {b.subject for _, b in diff.changed}
        diff.models = [
            (a, b)
            for a, b in diff.models
            if (b or a or {}).get("id") in mine
            or actor in ((a or {}).get("provider"), (b or {}).get("provider"))
        ]
    emit(diff.as_dict(), fmt, lambda _: _human_diff(diff, regime))


def _human_neutrality(report: NeutralityReport) -> None:
    out.print(f"[bold]{escape(report.model)}[/bold]: duties under each release channel")
    out.print("\n[bold]Identical whatever the channel[/bold]")
    for line in report.identical or []:
        out.print(f"  {line.rule} {escape(line.citation)} - {escape(line.title)}", highlight=False)
    if not report.identical:
        out.print("  none")
    out.print("\n[bold]Differ only because of an exemption[/bold]")
    for line in report.differing:
        out.print(
            f"  {line.rule} {escape(line.citation)} - applies under {', '.join(line.channels)}",
            highlight=False,
        )
        out.print(f"     [dim]{escape(line.why)}[/dim]", highlight=False)
    if not report.differing:
        out.print("  none")
    for note in report.notes:
        say(err, f"note: {note}")


@_errors
def neutrality_command(
    model: str = ModelArg,
    chain: Path = ChainOption,
    fmt: Format = FormatOption,
    as_of: str = AsOfOption,
    regime: str = RegimeOption,
) -> None:
    """Show which duties of a model are identical whatever the channel, and which differ and why."""
    report = neutrality(_facts(chain), model, regime=regime, as_of=_as_of(as_of))
    emit(report.as_dict(), fmt, lambda _: _human_neutrality(report))


def _write(data: bytes, out_path: Path | None, what: str) -> None:
    if out_path is None:
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
        sys.stdout.flush()
        return
    out_path.write_bytes(data)
    err.print(f"wrote {what} to {out_path}", markup=False, highlight=False)


@_errors
def docs(
    model: str = ModelArg,
    kind: str = typer.Option("annex-xi", "--kind", "-k", help="annex-xi, annex-xii or summary."),
    doc_format: str = typer.Option("md", "--format", "-f", help=f"One of {', '.join(FORMATS)}."),
    out_path: Path = typer.Option(
        None, "--out", "-o", help="Write to this file (needed for pdf on a terminal)."
    ),
    chain: Path = ChainOption,
    as_of: str = AsOfOption,
) -> None:
    """Generate the Annex XI, Annex XII or training-content summary document, listing unfilled fields."""
    day = _as_of(as_of)
    approval = None
    if chain is None:
        from valuechain.compliance.service import document_approval, model_document

        with database() as db, db.unit_of_work() as session:
            doc = model_document(session, model, kind, principal=None, as_of=day)
            approval = document_approval(session, doc)
    else:
        doc = build_document(_facts(chain), model, kind, as_of=day)
    data = render(doc, doc_format, approval=approval)
    if doc_format == "json":
        data = json_safe(data.decode()).encode()
    elif doc_format == "md":  # names from the registry: escapes made visible, the document's lines kept
        data = "\n".join(clean(line) for line in data.decode().split("\n")).encode()
    if doc_format == "pdf" and out_path is None and sys.stdout.isatty():
        raise ValidationError("a PDF needs --out PATH (or redirect stdout)")
    _write(data, out_path, f"{kind} ({plural(len(doc.missing), 'field')} not yet recorded)")


@_errors
def bom(
    model: str = ModelArg,
    out_path: Path = typer.Option(None, "--out", "-o", help="Write to this file instead of stdout."),
    chain: Path = ChainOption,
    as_of: str = AsOfOption,
) -> None:
    """Export the model's lineage as a CycloneDX 1.6 ML-BOM (JSON)."""
    day = _as_of(as_of)
    if chain is None:
        from valuechain.compliance.service import model_bom

        with database() as db, db.session() as session:
            data = model_bom(session, model, principal=None, as_of=day)
    else:
        data = build_bom(_facts(chain), model, as_of=day)
    text = json_safe(json.dumps(data, indent=2, ensure_ascii=False))  # valid JSON, inert in a terminal
    _write((text + "\n").encode(), out_path, "CycloneDX 1.6 ML-BOM")


def register(app: typer.Typer) -> None:
    """Add the accountability commands to the root CLI."""
    app.command("obligations")(obligations)
    app.command("whatif")(whatif_command)
    app.command("neutrality")(neutrality_command)
    app.command("docs")(docs)
    app.command("bom")(bom)
