"""Chain manifests ↔ registry: import (all or nothing, idempotent) and export (lossless round trip)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.principal import Principal
from valuechain.accounts.service import OrgProfile, import_orgs
from valuechain.core.audit import Change, jsonable, record_changes
from valuechain.core.clock import utcnow
from valuechain.core.errors import ValidationError
from valuechain.core.ids import new_id
from valuechain.registry import views
from valuechain.registry.claims import CONFIRMED_BY_OPERATOR_IMPORT, Naming, record_claims
from valuechain.registry.manifest import (
    ChainManifest,
    ManifestModel,
    ManifestOffer,
    split_ref,
    v2_fields_used,
)
from valuechain.registry.models import (
    Derivation,
    Model,
    ModelVersion,
    Offer,
    System,
    SystemDeployer,
    SystemModel,
)
from valuechain.registry.schemas import ClaimField

_SYSTEM_FIELDS = (
    "intended_purpose",
    "interacts_with_persons",
    "synthetic_output",
    "deep_fake",
    "public_interest_text",
    "annex_iii",
    "eu_market",
)


_EARLIER = timedelta(microseconds=1)
_BATCH = 5000


@dataclass
class ImportReport:
    """What an import changed, per kind of record."""

    created: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, dict[str, int]]:
        return {
            "created": dict(self.created),
            "updated": dict(self.updated),
            "unchanged": dict(self.unchanged),
        }


class _Importer:
    """One import inside one transaction; keeps id maps so each row is looked up once."""

    def __init__(self, session: Session, principal: Principal) -> None:
        self.session, self.principal, self.actor, self.now = session, principal, principal.actor, utcnow()
        self.namings: list[Naming] = []  # other organisations the manifest names (issue 9: consent)
        self.report = ImportReport()
        self.changes: list[Change] = []
        self.orgs: dict[str, str] = {}
        self.models: dict[str, str] = {}
        self.versions: dict[tuple[str, str], str] = {}
        self.default_version: dict[str, str] = {}

    def note(self, kind: str, action: str, org_id: str | None, subject: str, before: Any, after: Any) -> None:
        counter = self.report.created if action == "create" else self.report.updated
        counter[kind] += 1
        self.changes.append(
            Change(self.actor, org_id, f"{kind}.{action}", kind, subject, jsonable(before), jsonable(after))
        )
        if len(self.changes) >= _BATCH:  # bound memory: append audit events as we go (same transaction)
            self.flush_changes()

    def flush_changes(self) -> None:
        record_changes(self.session, self.changes, at=self.now)
        self.changes.clear()

    def actors(self, manifest: ChainManifest) -> None:
        """Create or update the manifest's organisations through accounts, which owns and audits them."""
        profiles = [OrgProfile(a.id, a.name, a.country, a.sme, a.microenterprise) for a in manifest.actors]
        result = import_orgs(self.session, profiles, principal=self.principal, at=self.now)
        for counter, count in (
            (self.report.created, result.created),
            (self.report.updated, result.updated),
            (self.report.unchanged, result.unchanged),
        ):
            if count:  # a counter names only kinds that occurred
                counter["org"] += count
        self.orgs.update(result.ids)

    def models_(self, manifest: ChainManifest) -> None:
        existing = {m.slug: m for m in self.session.scalars(select(Model))}
        new_rows, updates = [], []
        for item in manifest.models:
            wanted = _model_columns(item, self.orgs)
            row = existing.get(item.id)
            if row is None:
                model_id = new_id("mdl")
                new_rows.append(
                    {
                        "id": model_id,
                        "slug": item.id,
                        "created_at": self.now,
                        "updated_at": self.now,
                        **wanted,
                    }
                )
                self.note(
                    "model", "create", wanted["owner_org_id"], item.id, None, {"slug": item.id, **wanted}
                )
                self._spill(Model, new_rows)
            else:
                model_id = row.id
                before = {k: getattr(row, k) for k in wanted}
                if before != wanted:
                    updates.append({"id": row.id, "updated_at": self.now, **wanted})
                    self.note(
                        "model", "update", row.owner_org_id, item.id, before, {"slug": item.id, **wanted}
                    )
                else:
                    self.report.unchanged["model"] += 1
            self.models[item.id] = model_id
            self.default_version[item.id] = item.version
            if wanted["released_by_org_id"] is not None:
                self.name(ClaimField.released_by, "model", model_id, item.id, item.owner, item.releaser)
        self._write(Model, new_rows, updates)

    def versions_(self, manifest: ChainManifest) -> None:
        for model_id, label, version_id in self.session.execute(
            select(ModelVersion.model_id, ModelVersion.label, ModelVersion.id)
        ):
            self.versions[(model_id, label)] = version_id
        wanted = [(item.id, item.version) for item in manifest.models]
        refs = [d.parent for d in manifest.derivations] + [d.child for d in manifest.derivations]
        refs += [o.model for o in manifest.offers] + [r for s in manifest.systems for r in s.models]
        wanted += [(slug, label) for slug, label in map(split_ref, refs) if label is not None]
        new_rows = []
        for slug, label in dict.fromkeys(wanted):
            key = (self.models[slug], label)
            if key not in self.versions:
                self.versions[key] = new_id("ver")
                # A model's own version is its latest; versions named only in references come before it.
                at = self.now if label == self.default_version[slug] else self.now - _EARLIER
                new_rows.append(
                    {"id": self.versions[key], "model_id": key[0], "label": label, "created_at": at}
                )
                self.note("version", "create", None, f"{slug}@{label}", None, {"label": label})
        self._write(ModelVersion, new_rows, [])

    def version_id(self, ref: str) -> str:
        slug, label = split_ref(ref)
        return self.versions[(self.models[slug], label or self.default_version[slug])]

    def derivations(self, manifest: ChainManifest) -> None:
        existing = {(d.parent_key, d.child_version_id): d for d in self.session.scalars(select(Derivation))}
        new_rows, updates = [], []
        for item in manifest.derivations:
            parent, child = self.version_id(item.parent), self.version_id(item.child)
            wanted = {
                "relation": item.relation.value,
                "compute_flop": item.compute_flop,
                "by_org_id": self.orgs[item.by],
                "on_behalf_of_org_id": self.orgs[item.on_behalf_of] if item.on_behalf_of else None,
                "data_summary": item.data_summary,
            }
            row = existing.get((parent, child))
            subject = f"{item.parent}->{item.child}"
            derivation_id = row.id if row is not None else new_id("drv")
            self.name(
                ClaimField.parent_supplier, "derivation", derivation_id, subject, item.by, _owner(item.parent)
            )
            if item.on_behalf_of:
                self.name(
                    ClaimField.on_behalf_of, "derivation", derivation_id, subject, item.by, item.on_behalf_of
                )
            if row is None:
                new_rows.append(
                    {
                        "id": derivation_id,
                        "parent_version_id": parent,
                        "parent_key": parent,
                        "child_version_id": child,
                        "created_at": self.now,
                        **wanted,
                    }
                )
                self.note("derivation", "create", wanted["by_org_id"], subject, None, wanted)
                self._spill(Derivation, new_rows)
            elif (before := {k: getattr(row, k) for k in wanted}) != wanted:
                updates.append({"id": row.id, **wanted})
                self.note("derivation", "update", wanted["by_org_id"], subject, before, wanted)
            else:
                self.report.unchanged["derivation"] += 1
        self._write(Derivation, new_rows, updates)

    def offers(self, manifest: ChainManifest) -> None:
        existing = {
            (o.version_id, o.by_org_id, o.channel, o.brand): o for o in self.session.scalars(select(Offer))
        }
        new_rows, updates = [], []
        for item in manifest.offers:
            key = (self.version_id(item.model), self.orgs[item.by], item.channel.value, item.brand or item.by)
            row = existing.get(key)
            subject = f"{item.model}:{item.channel.value}:{key[3]}"
            offer_id = row.id if row is not None else new_id("off")
            self.name(ClaimField.offer_upstream, "offer", offer_id, subject, item.by, _owner(item.model))
            name = item.marketed_as  # issue 11: kept in the white-label terms; left out, it stays as it was
            if row is None:
                new_rows.append(
                    {
                        "id": offer_id,
                        "version_id": key[0],
                        "by_org_id": key[1],
                        "channel": key[2],
                        "brand": key[3],
                        "eu": item.eu,
                        "terms": views.with_marketed_as({}, name) if name else {},
                        "created_at": self.now,
                    }
                )
                created = {"model": item.model, "channel": key[2], "brand": key[3], "eu": item.eu}
                created |= {"marketed_as": name} if name else {}
                self.note("offer", "create", key[1], subject, None, created)
                continue
            before, after = _offer_change(row, item)
            if not after:
                self.report.unchanged["offer"] += 1
                continue
            terms = views.with_marketed_as(row.terms, name) if name and "marketed_as" in after else row.terms
            updates.append({"id": row.id, "eu": item.eu, "terms": terms})
            self.note("offer", "update", key[1], subject, before, after)
        self._write(Offer, new_rows, updates)

    def systems(self, manifest: ChainManifest) -> None:
        existing = {s.slug: s for s in self.session.scalars(select(System))}
        for item in manifest.systems:
            wanted: dict[str, Any] = item.model_dump(include=set(_SYSTEM_FIELDS), mode="json")
            wanted["eu_market"] = item.eu_market
            wanted["provider_org_id"] = self.orgs[item.provider]
            deployers = sorted({self.orgs[d] for d in item.deployers})
            versions = sorted({self.version_id(r) for r in item.models})
            row = existing.get(item.id)
            after = {**wanted, "deployers": item.deployers, "models": item.models}
            system_id = row.id if row is not None else new_id("sys")
            for deployer in item.deployers:
                self.name(ClaimField.deployer, "system", system_id, item.id, item.provider, deployer)
            if row is None:
                self.session.execute(
                    insert(System),
                    [
                        {
                            "id": system_id,
                            "slug": item.id,
                            "created_at": self.now,
                            "updated_at": self.now,
                            **wanted,
                        }
                    ],
                )
                self._links(system_id, deployers, versions)
                self.note("system", "create", wanted["provider_org_id"], item.id, None, after)
                continue
            before = {k: getattr(row, k) for k in wanted}
            old_deployers, old_versions = _system_links(self.session, row.id)
            if before == wanted and old_deployers == deployers and old_versions == versions:
                self.report.unchanged["system"] += 1
                continue
            self.session.execute(update(System), [{"id": row.id, "updated_at": self.now, **wanted}])
            self.session.query(SystemDeployer).filter(SystemDeployer.system_id == row.id).delete()
            self.session.query(SystemModel).filter(SystemModel.system_id == row.id).delete()
            self._links(row.id, deployers, versions)
            self.note("system", "update", wanted["provider_org_id"], item.id, before, after)

    def name(
        self, field: ClaimField, kind: str, subject_id: str, label: str, claimant: str, named: str
    ) -> None:
        """Note that ``claimant`` names ``named`` in this record (a claim unless they are the same)."""
        if claimant != named:
            self.namings.append(Naming(field, kind, subject_id, label, self.orgs[claimant], self.orgs[named]))

    def claims(self, *, confirm: bool) -> None:
        """Record the claims the manifest's namings need: confirmed by an operator, else pending."""
        self.flush_changes()
        reason = CONFIRMED_BY_OPERATOR_IMPORT if confirm else None
        record_claims(self.session, self.namings, actor=self.actor, confirm_reason=reason)

    def _links(self, system_id: str, deployers: list[str], versions: list[str]) -> None:
        if deployers:
            self.session.execute(
                insert(SystemDeployer), [{"system_id": system_id, "org_id": d} for d in deployers]
            )
        if versions:
            self.session.execute(
                insert(SystemModel), [{"system_id": system_id, "version_id": v} for v in versions]
            )

    def _spill(self, table: type[Any], new_rows: list[dict[str, Any]]) -> None:
        """Insert accumulated rows once a batch is full, to keep memory flat on large manifests."""
        if len(new_rows) >= _BATCH:
            self._write(table, new_rows, [])
            new_rows.clear()

    def _write(self, table: type[Any], new_rows: list[dict[str, Any]], updates: list[dict[str, Any]]) -> None:
        for start in range(0, len(new_rows), 5000):
            self.session.execute(insert(table), new_rows[start : start + 5000])
        if updates:
            self.session.execute(update(table), updates)


def _model_columns(item: ManifestModel, orgs: dict[str, str]) -> dict[str, Any]:
    columns = views.facts_to_columns(item)
    columns["owner_org_id"] = orgs[item.owner]
    columns["released_by_org_id"] = orgs[item.released_by] if item.released_by else None
    columns["visibility"] = "public" if item.public else "private"
    return columns


def _offer_change(row: Offer, item: ManifestOffer) -> tuple[dict[str, Any], dict[str, Any]]:
    """What an import changes in an existing offer (before, after): EU availability, and the name a
    white-label offer is marketed under when the manifest states one."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    if row.eu != item.eu:
        before["eu"], after["eu"] = row.eu, item.eu
    named = views.marketed_as(row.channel, row.terms)
    if item.marketed_as and item.marketed_as != named:
        before["marketed_as"], after["marketed_as"] = named, item.marketed_as
    return before, after


def _owner(ref: str) -> str:
    """The organisation owning a referenced model (its id is ``<owner>/<name>``)."""
    return split_ref(ref)[0].split("/", 1)[0]


def _system_links(session: Session, system_id: str) -> tuple[list[str], list[str]]:
    deployers = session.scalars(select(SystemDeployer.org_id).where(SystemDeployer.system_id == system_id))
    versions = session.scalars(select(SystemModel.version_id).where(SystemModel.system_id == system_id))
    return sorted(deployers), sorted(versions)


def refuse_unstored(manifest: ChainManifest) -> None:
    """Format-2 facts have no registry column yet: refuse them rather than drop them silently (issue 13)."""
    used = v2_fields_used(manifest)
    if used:
        more = f" and {len(used) - 3} more" if len(used) > 3 else ""
        raise ValidationError(
            f"the registry does not store format-2 facts ({', '.join(used[:3])}{more}): record documentation "
            "fields with PATCH /api/v1/models/{org}/{name}/documentation or `valuechain evidence set-field` "
            "(`valuechain chain import` records them itself); evaluate the Art. 25 and Art. 27 facts "
            "from the file with `valuechain obligations --chain FILE`"
        )


def import_manifest(session: Session, manifest: ChainManifest, *, principal: Principal) -> ImportReport:
    """Load a checked manifest into the registry in the caller's transaction (all or nothing)."""
    authorize(principal, Action.chain_import)  # a whole chain names every organisation: operators only
    refuse_unstored(manifest)
    importer = _Importer(session, principal)
    importer.actors(manifest)
    importer.models_(manifest)
    importer.versions_(manifest)
    importer.derivations(manifest)
    importer.offers(manifest)
    importer.systems(manifest)
    importer.flush_changes()
    importer.claims(confirm=principal.is_operator)
    return importer.report
