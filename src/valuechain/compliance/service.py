"""Registry-backed use cases of the accountability engine (the engine itself stays database-free).

Obligations depend on lineage across organisations, so the chain is always evaluated whole; what a caller
gets back is limited to its own obligations and the models it may see. Documents and AI-BOMs check access:
Annex XI for the provider, Annex XII also for entitled downstream organisations (a derivation from the model
or a system using it, an approved entitlement to an offer of it, or accepted hub access), the public
summary and the BOM for anyone who may see the model.

Only registry-backed facts carry claim status (issue 9): a naming of another organisation that it has not
confirmed is left out of the facts and reported as a note ("claimed by X, not confirmed"). A manifest file
evaluated directly is taken as given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from valuechain.accounts import directory
from valuechain.accounts.authz import Action, Resource, authorize, not_found
from valuechain.accounts.principal import Principal
from valuechain.compliance import events, records
from valuechain.compliance.bom import build_bom
from valuechain.compliance.documentation import EVALUATION_REF, KINDS, Document, build_document, with_value
from valuechain.compliance.engine import Diff, Evaluation, EvidenceKey, evaluate
from valuechain.compliance.evaluation import RunResult, compare, is_complete, load_suite, run_suite
from valuechain.compliance.facts import ChainFacts, facts_from_manifest
from valuechain.compliance.neutrality import NeutralityReport, neutrality
from valuechain.compliance.rendering import Approval
from valuechain.compliance.results import ClaimNote
from valuechain.compliance.whatif import Edit, parse_edit, whatif
from valuechain.core.audit import record_event
from valuechain.core.db import Database
from valuechain.core.errors import ValidationError
from valuechain.hub.access import has_accepted_access
from valuechain.market.service import is_entitled
from valuechain.registry.claims import Consent, consent
from valuechain.registry.export import export_manifest, resale_entries
from valuechain.registry.manifest import ChainManifest, ManifestResale
from valuechain.registry.service import ModelRef, model_ref, offer_ids_of_model
from valuechain.runtime.base import Backend

DOC_RULES = {"annex-xi": "A53.1.a", "annex-xii": "A53.1.b", "summary": "A53.1.d"}
#: the obligation a provider's completed evaluation run meets (Art. 55(1)(a)); its current runs also fill
#: Annex XI §2 point 1 of the technical documentation (A53.1.a)
EVALUATION_RULE = "A55.1.a"


def registry_manifest(session: Session, *, principal: Principal | None = None) -> ChainManifest:
    """The whole registry as a manifest of what counts: unconfirmed namings left out (obligations read)."""
    return _registry_chain(session, principal)[0]


def _registry_chain(session: Session, principal: Principal | None) -> tuple[ChainManifest, Consent]:
    if principal is not None:
        authorize(principal, Action.compliance_read)
    agreed = consent(session)
    manifest = export_manifest(session, org_id=None, consent=agreed)
    manifest = with_resale(manifest, resale_entries(session, consent=agreed))
    return with_documentation(manifest, records.documentation_fields(session)), agreed


def with_resale(manifest: ChainManifest, resale: list[ManifestResale]) -> ChainManifest:
    """The manifest with the registry's resale agreements (format 2): every one is recorded there, so a
    white-label offer none covers is resold without authorisation (issue 13 point 2)."""
    return manifest.model_copy(update={"valuechain": 2, "resale": resale})


def with_documentation(manifest: ChainManifest, recorded: dict[str, dict[str, str]]) -> ChainManifest:
    """The manifest with the documentation fields recorded through REST or CLI (format 2)."""
    if not recorded:
        return manifest
    models = [m.model_copy(update=recorded[m.id]) if m.id in recorded else m for m in manifest.models]
    return manifest.model_copy(update={"valuechain": 2, "models": models})


def record_documentation(
    session: Session, model_id: str, values: dict[str, str | None], *, principal: Principal
) -> dict[str, str]:
    """Record Annex XI/XII or training-content fields of a model (its provider's organisation)."""
    ref = model_ref(session, model_id)
    if ref is None:
        raise not_found("model", model_id)
    return records.record_documentation(
        session, principal=principal, model=model_id, owner_org_id=ref.owner_org_id, values=values
    )


@dataclass(frozen=True, slots=True)
class DocumentationStatus:
    """A model's recorded documentation fields and, per document, what is missing and who signed it."""

    model: str
    recorded: dict[str, str]  # documentation fields (records), then two of the model's facts (registry)
    facts: dict[str, str | None]
    documents: dict[str, Document]
    approvals: dict[str, Approval | None]


def documentation_status(session: Session, model_id: str, *, principal: Principal) -> DocumentationStatus:
    """What the provider has recorded for its documents and what each still lacks (provider only)."""
    manifest = registry_manifest(session, principal=principal)
    facts = facts_from_manifest(manifest)
    _check_access(manifest, facts, model_id, "annex-xi", principal, session)  # the provider's own
    docs = {
        kind: _signed_version(session, facts, build_document(facts, model_id, kind)) for kind in DOC_RULES
    }
    return DocumentationStatus(
        model=model_id,
        recorded=dict(facts.models[model_id].documentation),
        facts={
            "description": facts.models[model_id].description,
            "training_data_summary": facts.models[model_id].training_data_summary,
        },
        documents=docs,
        approvals={kind: document_approval(session, doc) for kind, doc in docs.items()},
    )


def claim_notes(agreed: Consent, principal: Principal | None) -> list[ClaimNote]:
    """Unconfirmed claims as notes; an organisation sees those it made and those naming it."""
    me = None if principal is None or principal.is_operator else principal.org_slug
    return [
        ClaimNote(n.named, n.subject, n.field.value, n.claimant, n.status.value, n.note)
        for n in agreed.unconfirmed
        if me is None or me in (n.named, n.claimant)
    ]


def registry_facts(session: Session, *, principal: Principal | None = None) -> ChainFacts:
    """The whole registry as facts."""
    return facts_from_manifest(registry_manifest(session, principal=principal))


def evidence(session: Session, facts: ChainFacts) -> dict[EvidenceKey, str]:
    """Evidence the registry holds: signed-off documents, evaluations, summaries, notifications (issue 13).

    Generating a document is not evidence: only a sign-off of a document with every field filled is.
    """
    return records.evidence_statuses(session, facts)


def _visible_models(manifest: ChainManifest, principal: Principal | None) -> set[str] | None:
    if principal is None or principal.is_operator:
        return None
    return {m.id for m in manifest.models if m.public or m.owner == principal.org_slug}


def restrict(result: Evaluation, manifest: ChainManifest, principal: Principal | None) -> Evaluation:
    """Keep the caller's own obligations and the classification of models it may see."""
    visible = _visible_models(manifest, principal)
    if visible is None or principal is None:
        return result
    me = principal.org_slug
    return Evaluation(
        regime=result.regime,
        regime_version=result.regime_version,
        as_of=result.as_of,
        models=[v for v in result.models if v.fact.id in visible],
        obligations=[o for o in result.obligations if o.actor == me or o.subject.split("/", 1)[0] == me],
        notes=result.notes,
    )


def list_obligations(
    session: Session,
    *,
    principal: Principal | None,
    as_of: date | None = None,
    regime: str = "eu-ai-act",
    rules: list[str] | None = None,
    actor: str | None = None,
) -> Evaluation:
    """Evaluate the registry; a non-operator sees its own obligations, the models it may see, its claims.

    ``actor`` keeps one actor's obligations and the models it has a duty for or a role in."""
    manifest, agreed = _registry_chain(session, principal)
    facts = facts_from_manifest(manifest)
    result = evaluate(facts, regime=regime, as_of=as_of, evidence=evidence(session, facts), rules=rules)
    result.notes = claim_notes(agreed, principal)
    result = restrict(result, manifest, principal)
    return result.for_actor(actor) if actor else result


def whatif_obligations(
    session: Session,
    changes: list[str],
    *,
    principal: Principal | None,
    as_of: date | None = None,
    regime: str = "eu-ai-act",
) -> Diff:
    """Apply changes in memory only and return the difference (nothing is written)."""
    if not changes:
        raise ValidationError("what-if needs at least one change")
    manifest = registry_manifest(session, principal=principal)
    edits = [parse_edit(c) for c in changes]
    _check_edits(manifest, edits, principal)
    diff = whatif(facts_from_manifest(manifest), edits, regime=regime, as_of=as_of)
    if principal is None or principal.is_operator:
        return diff
    me = principal.org_slug

    def mine(o: Any) -> bool:
        return bool(o.actor == me or o.subject.split("/", 1)[0] == me)

    diff.added = [o for o in diff.added if mine(o)]
    diff.removed = [o for o in diff.removed if mine(o)]
    diff.changed = [(a, b) for a, b in diff.changed if mine(b)]
    visible = _visible_models(manifest, principal) or set()
    diff.models = [(a, b) for a, b in diff.models if (b or a or {}).get("id") in visible]
    return diff


def _check_edits(manifest: ChainManifest, edits: list[Edit], principal: Principal | None) -> None:
    """A non-operator may only change records it may see (no existence leak through what-if)."""
    visible = _visible_models(manifest, principal)
    if visible is None or principal is None:
        return
    me = principal.org_slug
    systems = {s.id for s in manifest.systems if s.provider == me or me in s.deployers}
    for edit in edits:
        if edit.key is None:
            continue
        allowed = {
            "models": edit.key in visible,
            "systems": edit.key in systems,
            "actors": edit.key == me,
            "derivations": edit.key.rsplit(">", 1)[-1] in visible,
            "offers": edit.key.split(",")[0] in visible,
        }[edit.section]
        if not allowed:
            raise not_found(edit.section[:-1], edit.key)


def _entitled(facts: ChainFacts, model_id: str, org: str) -> bool:
    """A derivation from the model, or a system using it."""
    if any(d.parent == model_id and org in (d.by, d.on_behalf_of) for d in facts.derivations):
        return True
    return any(
        model_id in s.models and (s.provider == org or org in s.deployers) for s in facts.systems.values()
    )


def _uses_through_a_channel(session: Session, model: ModelRef | None, org_id: str) -> bool:
    """An approved entitlement to an offer of the model (API channel), or accepted hub access (weights)."""
    if model is None:
        return False
    offers = offer_ids_of_model(session, model.id)
    return is_entitled(session, org_id, offers) or has_accepted_access(session, model.id, org_id)


def _check_access(
    manifest: ChainManifest,
    facts: ChainFacts,
    model_id: str,
    kind: str,
    principal: Principal | None,
    session: Session,
) -> None:
    if model_id not in facts.models:
        raise not_found("model", model_id)
    if principal is None:
        return
    me = principal.org_slug
    model = next(m for m in manifest.models if m.id == model_id)
    ref = model_ref(session, model_id)
    is_provider = me in (model.owner, model.releaser)
    visible = model.public or is_provider
    entitled = _entitled(facts, model_id, me) or _uses_through_a_channel(session, ref, principal.org_id)
    allowed = {
        "annex-xi": is_provider,
        "annex-xii": is_provider or entitled,
        "summary": visible or entitled,
        "bom": visible,
    }[kind]
    # Not entitled: the same answer as for a model that does not exist (issue 9, no oracles).
    owner = ref.owner_org_id if ref is not None else None
    authorize(principal, Action.compliance_read, Resource("model", model_id, owner, is_visible=allowed))


def model_document(
    session: Session, model_id: str, kind: str, *, principal: Principal | None, as_of: date | None = None
) -> Document:
    """Build a document; when its provider generates it, record that as evidence (audit event)."""
    if kind not in KINDS:
        raise ValidationError(f"unknown document kind `{kind}` (known: {', '.join(KINDS)})")
    manifest = registry_manifest(session, principal=principal)
    if (
        kind == "annex-xii"
        and principal is not None
        and model_id not in {m.id for m in manifest.models}
        and _uses_through_a_channel(session, model_ref(session, model_id), principal.org_id)
    ):
        # A private model that the caller uses through a channel: its Annex XII pack is owed to them.
        manifest = registry_manifest(session, principal=None)
    facts = facts_from_manifest(manifest)
    _check_access(manifest, facts, model_id, kind, principal, session)
    doc = _document(session, facts, model_id, kind, as_of=as_of)
    if as_of is None:
        doc = _signed_version(session, facts, doc)
    # Evidence only when the provider itself draws it up (the local CLI acts for the installation's owner).
    if doc.provider is not None and (principal is None or principal.org_slug == doc.provider):
        record_event(
            session,
            actor=principal.actor if principal else "cli",
            org_id=principal.org_id if principal and principal.org_id else None,
            action=events.document_generated,
            subject_type="model",
            subject_id=model_id,
            after={"kind": kind, "provider": doc.provider, "missing": len(doc.missing)},
        )
    return doc


def _document(
    session: Session, facts: ChainFacts, model_id: str, kind: str, *, as_of: date | None
) -> Document:
    """A document, its Annex XI §2 point 1 (evaluation results) filled from the model's current runs."""
    doc = build_document(facts, model_id, kind, as_of=as_of)
    runs = records.current_runs(session, facts, model_id, EVALUATION_RULE) if kind == "annex-xi" else []
    if not runs:
        return doc
    text = "; ".join(f"{records.run_text(r)}, on {r['on']}" for r in runs)
    return with_value(doc, EVALUATION_REF, text, "evaluation runs")


def _signed_version(session: Session, facts: ChainFacts, doc: Document) -> Document:
    """The signed-off document itself while the facts it shows are unchanged.

    A document states the day it was drawn up ("As of"), so today's rendering of unchanged facts differs
    from the one signed last week by that line alone; the signed one is served (its sha256 still verifies)."""
    if doc.provider is None or doc.kind not in DOC_RULES:
        return doc
    signed = records.latest_sign_off(session, actor=doc.provider, model=doc.model, rule=DOC_RULES[doc.kind])
    if signed is None or signed.as_of == doc.as_of:
        return doc
    earlier = _document(session, facts, doc.model, doc.kind, as_of=signed.as_of)
    return earlier if records.document_sha256(earlier) == signed.sha256 else doc


def model_bom(
    session: Session, model_id: str, *, principal: Principal | None, as_of: date | None = None
) -> dict[str, Any]:
    """The model's CycloneDX ML-BOM, built only from what the caller may see."""
    principal_org = None if principal is None or principal.is_operator else principal.org_id
    if principal is not None:
        authorize(principal, Action.compliance_read)
    manifest = export_manifest(session, org_id=principal_org)
    facts = facts_from_manifest(manifest)
    if model_id not in facts.models:
        raise not_found("model", model_id)
    return build_bom(facts, model_id, as_of=as_of)


def model_neutrality(
    session: Session, model_id: str, *, principal: Principal, as_of: date | None = None
) -> NeutralityReport:
    """Channel neutrality of a model the caller may see (another: not found, as a missing one)."""
    authorize(principal, Action.compliance_read)
    manifest = registry_manifest(session, principal=principal)
    visible = _visible_models(manifest, principal)
    if visible is not None and model_id not in visible:
        raise not_found("model", model_id)
    return neutrality(facts_from_manifest(manifest), model_id, as_of=as_of)


# -- accountability records (issue 13) -------------------------------------------------------------------


def sign_document(
    session: Session, model_id: str, kind: str, *, principal: Principal, note: str = "", signer: str = ""
) -> records.EvidenceRecord:
    """Sign off a document as evidence: only when every field is filled, with the exact document's hash.

    ``signer`` names the person (a key or the local CLI is not one); the caller's key or user is kept."""
    authorize(principal, Action.evidence_write)
    doc = model_document(session, model_id, kind, principal=principal)
    if doc.provider != principal.org_slug:
        raise not_found("obligation", f"{principal.org_slug} {model_id} {DOC_RULES[kind]}")
    if doc.missing:
        fields = "; ".join(f"{f.ref} {f.label} ({f.source})" for f in doc.missing[:6])
        more = f"; and {len(doc.missing) - 6} more" if len(doc.missing) > 6 else ""
        raise ValidationError(
            f"{len(doc.missing)} field(s) not recorded, record them first: {fields}{more} "
            f"(`valuechain docs {model_id} --kind {kind}` lists them; documentation fields with "
            "`valuechain evidence set-field`, model facts with `valuechain model update`)"
        )
    facts = registry_facts(session)
    runs = [r["run"] for r in records.current_runs(session, facts, model_id, EVALUATION_RULE)]
    runs = runs if kind == "annex-xi" else []
    return records.record_evidence(
        session,
        principal=principal,
        facts=facts,
        obligation=(principal.org_slug, model_id, DOC_RULES[kind]),
        kind="summary" if kind == "summary" else "document",
        sha256=records.document_sha256(doc),
        note=note,
        details={"document": kind, "as_of": doc.as_of.isoformat(), **({"evaluations": runs} if runs else {})},
        signer=signer,
    )


def document_approval(session: Session, doc: Document) -> Approval | None:
    """The approval block's sign-off of ``doc`` (its provider's latest; ``current`` if it covers this
    exact document), for the PDF."""
    return records.document_approval(session, doc, DOC_RULES[doc.kind]) if doc.kind in DOC_RULES else None


def record_evidence(
    session: Session,
    *,
    principal: Principal,
    obligation: EvidenceKey,
    kind: str,
    sha256: str,
    note: str = "",
) -> records.EvidenceRecord:
    """Record evidence (an evaluation, a notification sent, ...) for one of the caller's obligations.

    Annex XI, Annex XII and the training-content summary are met only by signing off the generated
    document (every field filled, its exact sha256): a hash alone cannot show the fields are filled."""
    authorize(principal, Action.evidence_write)
    signed = {rule: kind for kind, rule in DOC_RULES.items()}
    if obligation[2] in signed:
        model, kind = obligation[1], signed[obligation[2]]
        raise ValidationError(
            f"{obligation[2]} is met by signing off the {kind} document once every field is recorded: "
            f"`valuechain evidence sign-off {model} --kind {kind}` "
            f"(POST /api/v1/models/{model}/docs/{kind}/sign-off)"
        )
    facts = registry_facts(session, principal=principal)
    held = evaluate(facts).obligations
    if not any(o.key == obligation for o in held):
        raise not_found("obligation", " ".join(obligation))
    return records.record_evidence(
        session, principal=principal, facts=facts, obligation=obligation, kind=kind, sha256=sha256, note=note
    )


def list_evidence(session: Session, *, principal: Principal) -> list[records.EvidenceRecord]:
    """The caller's evidence, marked stale where the facts changed."""
    return records.list_evidence(session, principal=principal, facts=registry_facts(session))


def open_incident(
    session: Session,
    *,
    principal: Principal,
    subject: str,
    category: str,
    aware_on: date,
    description: str,
) -> records.IncidentRecord:
    """Register a serious incident; a systemic-risk model follows the Code of Practice tiers."""
    authorize(principal, Action.incident_write)
    facts = registry_facts(session)
    systemic = False
    if subject in facts.models:
        result = evaluate(facts)
        systemic = any(v.fact.id == subject and v.systemic is True for v in result.models)
    return records.open_incident(
        session,
        principal=principal,
        facts=facts,
        subject=subject,
        category=category,
        aware_on=aware_on,
        description=description,
        systemic_model=systemic,
    )


def answered_for(session: Session, principal: Principal) -> frozenset[str]:
    """The models and systems the caller's organisation answers for (owner, releaser, provider, deployer)."""
    facts = registry_facts(session)
    me = principal.org_slug
    return frozenset(s for s in [*facts.models, *facts.systems] if me in records.responsible_for(facts, s))


def list_incidents(
    session: Session, *, principal: Principal, due_within: int | None = None
) -> list[records.IncidentRecord]:
    """Incidents the caller registered and those of its models and systems (a deployer's reaches the
    provider, who reports under Art. 73; Art. 26(5))."""
    subjects = answered_for(session, principal)
    return records.list_incidents(session, principal=principal, due_within=due_within, subjects=subjects)


def report_incident(
    session: Session,
    *,
    principal: Principal,
    incident_id: str,
    kind: str,
    text: str,
    resolved_on: date | None = None,
) -> records.IncidentRecord:
    """File a report on an incident the caller registered or answers for (a deployer informed provider)."""
    subjects = answered_for(session, principal)
    return records.report_incident(
        session,
        principal=principal,
        incident_id=incident_id,
        kind=kind,
        text=text,
        resolved_on=resolved_on,
        subjects=subjects,
    )


def export_incident(session: Session, *, principal: Principal, incident_id: str) -> dict[str, Any]:
    """An incident as the report for the authority, for its registrant or an organisation answering for it."""
    subjects = answered_for(session, principal)
    return records.export_incident(session, principal=principal, incident_id=incident_id, subjects=subjects)


def submit_complaint(session: Session, *, subject: str, text: str, client: str) -> records.ComplaintRecord:
    """An affected person's complaint (no account) about a public model or a system placed in the Union."""
    facts = registry_facts(session)
    public = {m.id for m in registry_manifest(session).models if m.public}
    placed = {s.id for s in facts.systems.values() if s.eu_market is not None}
    if subject not in public | placed:
        raise not_found("model or system", subject)  # a private model answers as a missing one
    return records.submit_complaint(
        session, facts=facts, subject=subject, text=text, client=client, providers=model_providers(facts)
    )


def model_providers(facts: ChainFacts) -> dict[str, set[str]]:
    """Who the chain makes provider of each model (decided or possibly); a modifier that did not become
    provider leaves the duties with the provider upstream (GL paras 60-61), so the nearest one answers."""
    views = {v.fact.id: v for v in evaluate(facts).models}
    parents: dict[str, list[str]] = {}
    for d in facts.derivations:
        parents.setdefault(d.child, []).append(d.parent)

    def providers(model: str, seen: frozenset[str]) -> set[str]:
        view = views.get(model)
        found = {r.actor for r in view.roles if r.decided is not False} if view is not None else set()
        if found or model in seen:
            return found
        return set().union(*(providers(p, seen | {model}) for p in parents.get(model, [])))

    return {m: providers(m, frozenset()) for m in facts.models}


def grant_inspector(
    session: Session,
    *,
    principal: Principal,
    inspector: str,
    orgs: list[str],
    models: list[str],
    valid_from: date,
    valid_until: date,
) -> records.GrantRecord:
    """The operator grants an organisation inspector access (issue 13 point 6)."""
    authorize(principal, Action.inspector_grant)
    org_id = directory.org_id_for_slug(session, inspector)
    if org_id is None:
        raise not_found("organisation", inspector)
    return records.grant_inspector(
        session,
        principal=principal,
        inspector_org_id=org_id,
        inspector=inspector,
        orgs=orgs,
        models=models,
        valid_from=valid_from,
        valid_until=valid_until,
    )


def _inspected(
    session: Session, org: str, principal: Principal, *, model_id: str | None = None
) -> tuple[str, bool, set[str]]:
    """What an inspector may read of ``org`` today: (org id, the whole organisation?, granted models).

    No grant, outside its period, or a model outside it: the same 404 as a missing organisation or model."""
    orgs, models = records.inspection_scope(session, principal)
    org_id = directory.org_id_for_slug(session, org)
    whole = org in orgs
    granted = {m for m in models if m.split("/", 1)[0] == org}
    if org_id is None or not (whole or granted):
        raise not_found("organisation", org)  # no grant answers as no organisation
    if model_id is not None and (model_id.split("/", 1)[0] != org or not (whole or model_id in granted)):
        raise not_found("model", model_id)
    return org_id, whole, granted


def _what(kind: str, org: str, whole: bool, granted: set[str]) -> str:
    return kind + ("" if whole else f" of {', '.join(sorted(granted))}")


def inspect_obligations(
    session: Session, org: str, *, principal: Principal, as_of: date | None = None
) -> Evaluation:
    """An inspector reads an organisation's obligations (whole, or limited to granted models); audited."""
    org_id, whole, models = _inspected(session, org, principal)
    facts = registry_facts(session)
    result = evaluate(facts, as_of=as_of, evidence=evidence(session, facts))
    result.obligations = [o for o in result.obligations if o.actor == org and (whole or o.subject in models)]
    result.models = [v for v in result.models if v.fact.owner == org and (whole or v.fact.id in models)]
    records.audit_inspection(
        session, principal=principal, org_id=org_id, org=org, what=_what("obligations", org, whole, models)
    )
    return result


def inspect_model(session: Session, model_id: str, *, principal: Principal) -> dict[str, Any]:
    """An inspector reads a model's recorded facts (the manifest entry, documentation fields included)."""
    org = model_id.split("/", 1)[0]
    org_id, _, _ = _inspected(session, org, principal, model_id=model_id)
    manifest = registry_manifest(session)
    model = next((m for m in manifest.models if m.id == model_id), None)
    if model is None:
        raise not_found("model", model_id)
    records.audit_inspection(
        session, principal=principal, org_id=org_id, org=org, what=f"facts of {model_id}"
    )
    return model.model_dump(mode="json", exclude_none=True)


def inspect_document(
    session: Session, model_id: str, kind: str, *, principal: Principal, as_of: date | None = None
) -> Document:
    """An inspector reads a model's document (Annex XI, Annex XII, summary) as its provider would draw it."""
    if kind not in KINDS or kind == "bom":
        raise ValidationError(f"unknown document kind `{kind}` (known: annex-xi, annex-xii, summary)")
    org = model_id.split("/", 1)[0]
    org_id, _, _ = _inspected(session, org, principal, model_id=model_id)
    facts = registry_facts(session)
    if model_id not in facts.models:
        raise not_found("model", model_id)
    doc = _document(session, facts, model_id, kind, as_of=as_of)
    if as_of is None:
        doc = _signed_version(session, facts, doc)
    records.audit_inspection(
        session, principal=principal, org_id=org_id, org=org, what=f"{kind} of {model_id}"
    )
    return doc


def inspect_evidence(session: Session, org: str, *, principal: Principal) -> list[records.EvidenceRecord]:
    """An inspector reads the evidence an organisation recorded (granted models only when so limited)."""
    org_id, whole, models = _inspected(session, org, principal)
    facts = registry_facts(session)
    rows = [
        e
        for e in records.evidence_of_org(session, org_id=org_id, facts=facts)
        if whole or e.subject in models
    ]
    records.audit_inspection(
        session, principal=principal, org_id=org_id, org=org, what=_what("evidence", org, whole, models)
    )
    return rows


def inspect_evaluations(
    session: Session, org: str, *, principal: Principal
) -> list[records.EvaluationRecord]:
    """An inspector reads the evaluation runs of an organisation's models (whoever ran them)."""
    org_id, whole, models = _inspected(session, org, principal)
    rows = [r for r in records.evaluations_of_org(session, org_id=org_id) if whole or r.model in models]
    records.audit_inspection(
        session,
        principal=principal,
        org_id=org_id,
        org=org,
        what=_what("evaluation results", org, whole, models),
    )
    return rows


# -- evaluation runs (issue 13 point 6) ------------------------------------------------------------------


def evaluation_access(
    session: Session, model_id: str, *, principal: Principal, action: Action = Action.evaluation_run
) -> tuple[str, str]:
    """Who may run (or read the runs of) an evaluation of ``model_id``: its provider, or an inspector with an
    active grant covering the model or its organisation. Returns (role, the model organisation's id); anyone
    else is answered as if the model did not exist (no oracles)."""
    authorize(principal, action)
    manifest = registry_manifest(session)
    model = next((m for m in manifest.models if m.id == model_id), None)
    if model is None:
        raise not_found("model", model_id)
    org_id = directory.org_id_for_slug(session, model.owner)
    if org_id is None:
        raise not_found("model", model_id)
    if principal.org_slug in (model.owner, model.releaser):
        return "provider", org_id
    orgs, models = records.inspection_scope(session, principal)
    if model.owner in orgs or model_id in models:
        return "inspector", org_id
    raise not_found("model", model_id)


def run_evaluation(
    db: Database,
    model_id: str,
    *,
    principal: Principal,
    suite: str,
    channel: str,
    open_backend: Callable[[], Backend],
) -> records.EvaluationRecord:
    """Run a suite over one channel of a model and store the result (Annex XI §2, Art. 55(1)(a)).

    The permission is checked before the backend is opened: an uncovered caller loads no weights and
    spends no tokens. No transaction is held while the suite runs: over the API channel every item is a
    call to ``/v1``, whose admission and metering write to the same database (on SQLite a write
    transaction held for the run would lock them out); the result is stored in its own unit of work,
    after the permission is checked again."""
    with db.session() as session:
        evaluation_access(session, model_id, principal=principal)
    loaded = load_suite(suite)
    backend = open_backend()

    async def _run() -> RunResult:
        try:
            return await run_suite(backend, loaded, channel=channel)
        finally:
            await backend.close()

    result = asyncio.run(_run())
    with db.unit_of_work() as session:
        role, model_org_id = evaluation_access(session, model_id, principal=principal)
        run = records.record_evaluation(
            session, principal=principal, model=model_id, model_org_id=model_org_id, role=role, result=result
        )
        if is_complete(result, loaded):
            _run_as_evidence(session, run, principal=principal)
    return run


def _run_as_evidence(
    session: Session, run: records.EvaluationRecord, *, principal: Principal
) -> list[records.EvidenceRecord]:
    """A completed run is evidence of the runner's own model evaluation (Art. 55(1)(a)) where the chain
    imposes that duty on it: only a provider holds it, so an inspector's run (which evaluates the
    provider) discharges nothing."""
    facts = registry_facts(session)
    key = (principal.org_slug, run.model, EVALUATION_RULE)
    if not any(o.key == key for o in evaluate(facts).obligations):
        return []
    return [
        records.record_run_evidence(
            session, facts=facts, obligation=key, run=run, org_id=principal.org_id or ""
        )
    ]


def list_evaluations(
    session: Session, *, principal: Principal, model: str | None = None
) -> list[records.EvaluationRecord]:
    """Your runs and the runs of your models (an inspector's included); an inspector reads other
    organisations' runs through ``inspect_evaluations``, which is audited."""
    return records.list_evaluations(session, principal=principal, model=model)


def channel_neutrality(
    session: Session, model_id: str, *, principal: Principal, suite: str = "builtin-mc"
) -> dict[str, object]:
    """The same suite's latest score per channel: the channel-neutrality evidence of a model."""
    evaluation_access(session, model_id, principal=principal, action=Action.compliance_read)
    runs = [r for r in list_evaluations(session, principal=principal, model=model_id) if r.suite == suite]
    latest: dict[str, float] = {}
    for run in runs:  # newest first
        latest.setdefault(run.channel, run.score)
    suite_sha = load_suite(suite).sha256
    return {"model": model_id, "suite": suite, "suite_sha256": suite_sha, **compare(latest)}
