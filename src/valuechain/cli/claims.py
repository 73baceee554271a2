"""``valuechain claim`` and ``valuechain agreement``: consent along the chain from the command line.

Without ``--as`` the local operator acts, who sees every claim and confirms on everyone's behalf (audited);
with ``--as ORG`` the command acts as that organisation.
"""

from __future__ import annotations

from typing import Any

import typer
from sqlalchemy.orm import Session

from valuechain.accounts.principal import Principal, system_principal
from valuechain.cli.context import Format, FormatOption, database, emit, org_principal, out
from valuechain.cli.render import markup_safe, table, when
from valuechain.registry import claims
from valuechain.registry.manifest import Channel
from valuechain.registry.schemas import AgreementCreate, AgreementPublic, ClaimPublic, ClaimStatus
from valuechain.registry.views import Names

claim_app = typer.Typer(
    help="Claims naming another organisation; the named one confirms or rejects.", no_args_is_help=True
)
agreement_app = typer.Typer(
    help="Agreements letting another organisation offer your models.", no_args_is_help=True
)
AsOption = typer.Option(None, "--as", help="Act as this organisation (slug); default the local operator.")
OwnerOption = typer.Option(..., "--as", help="The model owner (slug) acting.")
ReasonOption = typer.Option(None, "--reason", help="Kept in the audit log.")


def _principal(session: Session, as_org: str | None) -> Principal:
    return system_principal() if as_org is None else org_principal(session, as_org)


def _claims_table(rows: list[ClaimPublic]) -> None:
    cells = [(c.id, c.status.value, c.field.value, c.subject, c.claimant, c.named) for c in rows]
    out.print(table(("id", "status", "field", "subject", "claimant", "named"), cells, ids=("id",)))
    if not rows:
        out.print("no claims")


@claim_app.command("list")
def list_claims(
    as_org: str = AsOption,
    direction: str = typer.Option(None, "--direction", help="incoming (naming you) or outgoing (yours)."),
    status: ClaimStatus = typer.Option(None, "--status", help="pending, confirmed or rejected."),
    fmt: Format = FormatOption,
) -> None:
    """List claims naming the organisation or made by it (all of them for the operator)."""
    with database() as db, db.session() as session:
        principal = _principal(session, as_org)
        names = Names(session)
        found = claims.list_claims(session, principal=principal, direction=direction, status=status)
        names.prefetch_orgs([c.claimant_org_id for c in found] + [c.named_org_id for c in found])
        rows = [claims.claim_public(c, names) for c in found]
    emit(rows, fmt, _claims_table)


def _answer(claim_id: str, status: ClaimStatus, as_org: str | None, reason: str | None, fmt: Format) -> None:
    with database() as db, db.unit_of_work() as session:
        principal = _principal(session, as_org)
        claim = claims.answer_claim(session, claim_id, status, principal=principal, reason=reason)
        row = claims.claim_public(claim, Names(session))
    emit(row, fmt, lambda c: out.print(f"{c.id} {c.status.value}: {markup_safe(c.note)}", highlight=False))


@claim_app.command("confirm")
def confirm(
    claim_id: str, as_org: str = AsOption, reason: str = ReasonOption, fmt: Format = FormatOption
) -> None:
    """Confirm a claim naming the organisation: from now on it counts, obligations included."""
    _answer(claim_id, ClaimStatus.confirmed, as_org, reason, fmt)


@claim_app.command("reject")
def reject(
    claim_id: str, as_org: str = AsOption, reason: str = ReasonOption, fmt: Format = FormatOption
) -> None:
    """Reject a claim naming the organisation: it attaches nothing to it."""
    _answer(claim_id, ClaimStatus.rejected, as_org, reason, fmt)


def _agreements_table(rows: list[AgreementPublic]) -> None:
    cells = [
        (a.id, a.owner, a.agent, a.model or "(all models)", ", ".join(c.value for c in a.channels),
         when(a.revoked_at))
        for a in rows
    ]  # fmt: skip
    out.print(table(("id", "owner", "agent", "model", "channels", "revoked"), cells, ids=("id",)))
    if not rows:
        out.print("no agreements")


@agreement_app.command("create")
def create(
    agent: str = typer.Option(..., "--agent", help="The organisation allowed to offer the model(s)."),
    channels: list[Channel] = typer.Option(..., "--channel", help="An allowed kind of offer (repeatable)."),
    model: str = typer.Option(None, "--model", help="One of the owner's models, <org>/<name>; default all."),
    as_org: str = OwnerOption,
    fmt: Format = FormatOption,
) -> None:
    """Let another organisation offer the owner's model (or all its models) through some channels."""
    data = AgreementCreate(agent=agent, model=model, channels=channels)
    with database() as db, db.unit_of_work() as session:
        agreement = claims.create_agreement(session, data, principal=org_principal(session, as_org))
        row = claims.agreement_public(agreement, Names(session))
    emit(row, fmt, lambda a: _agreements_table([a]))


@agreement_app.command("list")
def list_agreements(as_org: str = AsOption, fmt: Format = FormatOption) -> None:
    """List agreements the organisation gave or holds (all of them for the operator)."""
    with database() as db, db.session() as session:
        names = Names(session)
        found = claims.list_agreements(session, principal=_principal(session, as_org))
        names.prefetch_orgs([a.owner_org_id for a in found] + [a.agent_org_id for a in found])
        rows = [claims.agreement_public(a, names) for a in found]
    emit(rows, fmt, _agreements_table)


@agreement_app.command("revoke")
def revoke(agreement_id: str, as_org: str = OwnerOption, fmt: Format = FormatOption) -> None:
    """End an agreement (its owner): no new offers under it; white-label offers made under it stop on /v1."""
    with database() as db, db.unit_of_work() as session:
        agreement = claims.revoke_agreement(session, agreement_id, principal=org_principal(session, as_org))
        row = claims.agreement_public(agreement, Names(session))

    def human(a: Any) -> None:
        out.print(f"agreement {a.id} revoked")

    emit(row, fmt, human)
