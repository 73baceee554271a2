"""Audit event types of the hub: repos, commits, refs, visibility, gating and access."""

from __future__ import annotations

from valuechain.core.events import EventType, Payload, declare


class RepoPayload(Payload):
    repo: str


class LfsDeletePayload(Payload):
    sha256: list[str]


class CommitPayload(Payload):
    commit: str
    branch: str
    title: str


class RefPayload(Payload):
    name: str
    commit: str


class RepoSettingsPayload(Payload):
    visibility: str
    gated: str | None


class AccessPayload(Payload):
    org_id: str
    status: str


class HubVersionPayload(Payload):
    model: str
    commit: str


repo_create = EventType("hub.repo.create", "hub_repo", "A hub repository was created.", RepoPayload)
repo_delete = EventType("hub.repo.delete", "hub_repo", "A hub repository was deleted.", RepoPayload)
repo_move = EventType(
    "hub.repo.move", "hub_repo", "A hub repository was renamed; its old name keeps working.", RepoPayload
)
squash = EventType(
    "hub.branch.squash", "hub_repo", "A branch's history was squashed into one commit.", CommitPayload
)
lfs_delete = EventType(
    "hub.lfs.delete",
    "hub_repo",
    "The owner permanently deleted LFS objects no revision of the repo references any more.",
    LfsDeletePayload,
)
commit = EventType("hub.commit", "hub_repo", "Files were committed to a branch.", CommitPayload)
visibility = EventType(
    "hub.repo.visibility", "hub_repo", "A repository was made public or private.", RepoSettingsPayload
)
gated = EventType("hub.repo.gated", "hub_repo", "A repository's gating changed.", RepoSettingsPayload)
terms_accept = EventType(
    "hub.terms.accept", "hub_repo", "An organisation accepted a gated repository's terms.", AccessPayload
)
_ACCESS = [
    EventType(
        f"hub.access.{status}",
        "hub_repo",
        f"The owner set an organisation's access to {status}.",
        AccessPayload,
    )
    for status in ("pending", "accepted", "rejected")
]
_REFS = [
    EventType(f"hub.{kind}.{verb}", "hub_repo", f"A {kind} was {verb}d.", RefPayload)
    for kind in ("branch", "tag")
    for verb in ("create", "delete")
]
# Duplicate of the registry's `version.create` (about a `version`): the hub's lineage writes registry
# records itself; it goes away when that write moves into the registry service (issue 9, item 1).
model_version_create = EventType(
    "model.version.create",
    "model_version",
    "A model version was made from a hub commit (duplicate of version.create; to be removed).",
    HubVersionPayload,
)

declare(
    "hub",
    repo_create,
    repo_delete,
    repo_move,
    squash,
    lfs_delete,
    commit,
    visibility,
    gated,
    terms_accept,
    *_ACCESS,
    *_REFS,
    model_version_create,
)
