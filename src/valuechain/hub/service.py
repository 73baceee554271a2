"""Hub use cases; each owns its unit of work (routes and the CLI call these)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from valuechain.accounts.authz import Action, authorize
from valuechain.accounts.directory import org_id_for_slug
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.clock import utcnow
from valuechain.core.db import Database
from valuechain.core.errors import ForbiddenError, ValidationError
from valuechain.core.ids import new_id
from valuechain.hub import access, lfs, lineage, objects, repos
from valuechain.hub.cards import CardData, parse_card
from valuechain.hub.commits import CommitRequest, FileChange, apply_commit, git_blob_oid, initial_commit
from valuechain.hub.errors import RepoExistsError, RepoNotFoundError, StaleParentError
from valuechain.hub.gitmeta import (
    DEFAULT_GITATTRIBUTES,
    GITATTRIBUTES,
    GITIGNORE,
    is_ignored,
    is_lfs_path,
    lfs_patterns,
)
from valuechain.hub.licences import find_licence, release_licence, require_release_licence
from valuechain.hub.models import HubCommit, HubCommitFile, HubRepo
from valuechain.hub.paths import check_repo_part
from valuechain.hub.repos import (
    DEFAULT_BRANCH,
    find_managed_repo,
    find_repo,
    find_writable_repo,
    get_file,
    list_files,
    lookup_repo,
    resolve_revision,
)
from valuechain.hub.storage import BlobStore
from valuechain.registry.service import OfferRecord

MAX_CARD_BYTES = 1024 * 1024
COMMIT_ATTEMPTS = 3


@dataclass(frozen=True)
class ServedFile:
    """What the resolve endpoint needs to serve one file."""

    repo_id: str
    commit_id: str
    path: str
    sha256: str
    size: int
    licence: str | None
    licence_path: str | None


def create_repo(
    db: Database,
    store: BlobStore,
    *,
    principal: Principal,
    namespace: str,
    name: str,
    visibility: str,
    url: str,
    now: datetime | None = None,
) -> HubRepo:
    """A new repo of the caller's organisation; its first commit on ``main`` holds the Hub's default
    ``.gitattributes`` (so small weight files go through LFS, as on the Hub).

    Any namespace but the caller's own answers the same, whether or not that organisation exists.
    """
    check_repo_part(namespace, what="organisation")
    check_repo_part(name, what="repository name")
    authorize(principal, Action.repo_write)
    now = now or utcnow()
    content = DEFAULT_GITATTRIBUTES.encode()
    blob = store.put_bytes(content)
    attributes = FileChange(
        path=GITATTRIBUTES, sha256=blob.sha256, size=blob.size, git_oid=git_blob_oid(content), is_lfs=False
    )
    with db.unit_of_work() as session:
        org_id = principal.org_id if namespace == principal.org_slug else None
        if org_id is None and principal.is_operator:
            org_id = org_id_for_slug(session, namespace)
        existing = lookup_repo(session, f"{namespace}/{name}", follow_redirects=False)
        if existing is not None and (org_id is not None or repos.can_read(existing, principal)):
            raise RepoExistsError(existing.repo_id, url=url)  # 409 only where the repo is visible anyway
        if org_id is None:
            raise ForbiddenError(
                f"you can only create repos in your organisation's namespace ({principal.org_slug})"
            )
        repo = HubRepo(
            id=new_id("hrp"),
            org_id=org_id,
            namespace=namespace,
            name=name,
            visibility="private",
            created_at=now,
            updated_at=now,
        )
        session.add(repo)
        session.flush()
        repos.drop_redirect(session, repo.repo_id)
        initial_commit(session, repo=repo, author=principal.actor, now=now, files=[attributes])
        lineage.ensure_model(session, repo, actor=principal.actor)
        record_event(
            session,
            actor=principal.actor,
            org_id=org_id,
            action="hub.repo.create",
            subject_type="hub_repo",
            subject_id=repo.id,
            after={"repo": repo.repo_id},
        )
        if visibility == "public":
            access.set_visibility(session, repo=repo, principal=principal, visibility="public", now=now)
    return repo


def update_settings(
    db: Database,
    *,
    principal: Principal,
    repo_id: str,
    visibility: str | None,
    gated: str | None | bool,
) -> HubRepo:
    """``update_repo_settings``: visibility and gating (``gated`` False turns gating off)."""
    now = utcnow()
    with db.unit_of_work() as session:
        repo = find_managed_repo(session, repo_id, principal=principal)
        if gated is not None:
            access.set_gated(session, repo=repo, principal=principal, gated=gated or None, now=now)  # type: ignore[arg-type]
        if visibility is not None:
            access.set_visibility(session, repo=repo, principal=principal, visibility=visibility, now=now)
    return repo


def delete_repo(db: Database, *, principal: Principal, repo_id: str) -> None:
    """Delete a repo and its commits (blobs stay: they are shared by content)."""
    with db.unit_of_work() as session:
        repo = find_managed_repo(session, repo_id, principal=principal)
        record_event(
            session,
            actor=principal.actor,
            org_id=repo.org_id,
            action="hub.repo.delete",
            subject_type="hub_repo",
            subject_id=repo.id,
            before={"repo": repo.repo_id},
        )
        session.delete(repo)


def commit_files(
    db: Database,
    store: BlobStore,
    *,
    principal: Principal,
    repo_id: str,
    branch: str,
    request: CommitRequest,
) -> HubCommit:
    """Apply a commit, then record it as a model version with its card, licence and lineage.

    LFS files are named by sha256; each must be held by this repo or by one the committer may download
    from (``hub.objects``), otherwise the commit fails exactly as for an object never uploaded.

    A commit that named no parent and lost a race (PostgreSQL: the branch moved under it) is retried on the
    new head; one that named its parent gets the conflict.
    """
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            return _commit_once(
                db, store, principal=principal, repo_id=repo_id, branch=branch, request=request
            )
        except StaleParentError:
            if request.parent_commit is not None or attempt == COMMIT_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _commit_once(
    db: Database, store: BlobStore, *, principal: Principal, repo_id: str, branch: str, request: CommitRequest
) -> HubCommit:
    now = utcnow()
    with db.unit_of_work() as session:
        repo = find_writable_repo(session, repo_id, principal=principal)
        request = objects.resolve_references(session, store, repo=repo, principal=principal, request=request)
        commit, files = apply_commit(
            session, repo=repo, branch=branch, request=request, author=principal.actor, now=now
        )
        added = [change for change in request.additions if isinstance(change, FileChange)]
        objects.hold_committed(session, repo=repo, files=added, actor=principal.actor, now=now)
        card = _read_card(store, files)
        commit.card = card.raw if card else None
        if branch == DEFAULT_BRANCH:  # the licence a release would carry; a missing one blocks only release
            licence = release_licence(session, commit, repo_id=repo.repo_id)
            repo.licence, repo.licence_name = (licence.id, licence.name) if licence else (None, None)
        lineage.record_version(
            session, repo=repo, commit=commit, files=files, card=card, actor=principal.actor,
            label=request.version_label,
        )  # fmt: skip
        repo.updated_at = now
        record_event(
            session,
            actor=principal.actor,
            org_id=repo.org_id,
            action="hub.commit",
            subject_type="hub_repo",
            subject_id=repo.id,
            after={"commit": commit.id, "branch": branch, "title": commit.title},
        )
    return commit


def _read_card(store: BlobStore, files: list[HubCommitFile]) -> CardData | None:
    readme = next((f for f in files if f.path == "README.md"), None)
    if readme is None:
        return None
    if readme.size > MAX_CARD_BYTES:
        raise ValidationError(f"README.md is larger than {MAX_CARD_BYTES} bytes")
    return parse_card(_read_text(store, readme.sha256))


def release_open_weights(
    db: Database, *, principal: Principal, repo_id: str, gated: str | None, eu: bool = True
) -> OfferRecord:
    """Publish the head of ``main`` as open weights: public (maybe gated), with an ``open_weights`` offer."""
    now = utcnow()
    with db.unit_of_work() as session:
        repo = find_managed_repo(session, repo_id, principal=principal)
        head = resolve_revision(session, repo, DEFAULT_BRANCH)
        if head.version_id is None:
            raise ValidationError(f"{repo_id} has no files to release; push them first")
        licence = require_release_licence(session, head, repo_id=repo.repo_id)
        repo.licence, repo.licence_name = licence.id, licence.name
        access.set_gated(session, repo=repo, principal=principal, gated=gated, now=now)
        access.set_visibility(session, repo=repo, principal=principal, visibility="public", now=now)
        repo.released_at = now
        return lineage.open_weights_offer(
            session, repo=repo, version_id=head.version_id, actor=principal.actor, eu=eu
        )


def accept_terms(db: Database, *, principal: Principal, repo_id: str) -> dict[str, object]:
    """The caller's organisation accepts the licence terms of a gated repo."""
    with db.unit_of_work() as session:
        repo = find_repo(session, repo_id, principal=principal)
        record = access.accept_terms(session, repo=repo, principal=principal, now=utcnow())
        return {
            "repo": repo.repo_id,
            "status": record.status,
            "terms": record.terms,
            "terms_sha256": record.terms_sha256,
            "accepted_at": record.accepted_at,
        }


def decide_access(
    db: Database,
    *,
    principal: Principal,
    repo_id: str,
    org_slug: str | None,
    status: str,
    request_id: str | None = None,
) -> None:
    """The provider grants, rejects or resets the access an organisation asked for (by slug or request id)."""
    with db.unit_of_work() as session:
        repo = find_managed_repo(session, repo_id, principal=principal)
        access.decide_access(
            session,
            repo=repo,
            principal=principal,
            org_slug=org_slug,
            status=status,
            now=utcnow(),
            request=request_id,
        )


def open_file(
    db: Database, *, principal: Principal | None, repo_id: str, revision: str, path: str
) -> ServedFile:
    """Resolve a file for download, enforcing visibility and gating."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        access.check_download(session, repo, principal)
        commit = resolve_revision(session, repo, revision)
        entry = get_file(session, commit, path)
        licence = find_licence(session, commit)
        return ServedFile(
            repo_id=repo.repo_id,
            commit_id=commit.id,
            path=entry.path,
            sha256=entry.sha256,
            size=entry.size,
            licence=licence.label if licence else None,
            licence_path=licence.file.path if licence and licence.file else None,
        )


def weights_file(
    db: Database, *, principal: Principal | None, repo_id: str, revision: str = "main"
) -> ServedFile:
    """The GGUF weights of a repo revision the caller may download (an evaluation run loads them)."""
    with db.session() as session:
        repo = find_repo(session, repo_id, principal=principal)
        access.check_download(session, repo, principal)
        commit = resolve_revision(session, repo, revision)
        ggufs = sorted(f.path for f in list_files(session, commit) if f.path.endswith(".gguf"))
    if not ggufs:
        raise ValidationError(f"{repo_id}@{revision} has no .gguf weights to load")
    return open_file(db, principal=principal, repo_id=repo_id, revision=revision, path=ggufs[0])


def record_download(
    db: Database, *, principal: Principal | None, repo_id: str, commit_id: str, day: date
) -> None:
    """Count one download of a version by the caller's organisation."""
    from valuechain.hub.downloads import count_download

    with db.unit_of_work() as session:
        repo = find_repo(session, repo_id, principal=principal)
        count_download(
            session, repo=repo, commit_id=commit_id, org_id=principal.org_id if principal else None, day=day
        )


@dataclass(frozen=True)
class PreuploadAnswer:
    """How the client should send one file, and the oid it has here (so an unchanged file is skipped)."""

    path: str
    upload_mode: str
    remote_oid: str | None
    should_ignore: bool = False


def preupload(
    db: Database,
    store: BlobStore,
    *,
    principal: Principal,
    repo_id: str,
    revision: str,
    files: list[tuple[str, int]],
    inline_max_bytes: int,
    gitignore: str | None = None,
) -> list[PreuploadAnswer]:
    """As the Hub decides: LFS for paths the revision's ``.gitattributes`` routes through LFS and for files
    over the inline limit, "regular" (inline) otherwise; ``remote_oid`` is this repo's only. Paths the
    ``.gitignore`` of the commit (``gitignore``) or else of the revision excludes are to be left out."""
    with db.session() as session:
        repo = find_writable_repo(session, repo_id, principal=principal)
        head = resolve_revision(session, repo, revision)
        existing = {f.path: (f.sha256, f.git_oid, f.is_lfs) for f in list_files(session, head)}
    attributes = existing.get(GITATTRIBUTES)
    patterns = lfs_patterns(_read_text(store, attributes[0])) if attributes else ()
    if gitignore is None and GITIGNORE in existing:
        gitignore = _read_text(store, existing[GITIGNORE][0])
    answers = []
    for path, size in files:
        mode = "lfs" if size > inline_max_bytes or is_lfs_path(path, patterns) else "regular"
        oid = None
        if path in existing:
            sha256, git_oid, is_lfs = existing[path]
            oid = sha256 if mode == "lfs" else (None if is_lfs else git_oid)
        ignored = bool(gitignore) and is_ignored(path, gitignore or "")
        answers.append(PreuploadAnswer(path=path, upload_mode=mode, remote_oid=oid, should_ignore=ignored))
    return answers


def _read_text(store: BlobStore, sha256: str) -> str:
    return b"".join(store.read_range(sha256)).decode("utf-8", "replace")


def create_ref(
    db: Database, *, principal: Principal, repo_id: str, kind: str, name: str, target: str
) -> None:
    """A new branch or tag at ``target`` (a branch, tag or commit of the repo)."""
    with db.unit_of_work() as session:
        repo = find_writable_repo(session, repo_id, principal=principal)
        commit = resolve_revision(session, repo, target)
        repos.create_ref(session, repo, kind=kind, name=name, commit=commit, principal=principal)


def delete_ref(db: Database, *, principal: Principal, repo_id: str, kind: str, name: str) -> None:
    """Remove a branch (never ``main``) or a tag."""
    with db.unit_of_work() as session:
        repo = find_writable_repo(session, repo_id, principal=principal)
        repos.delete_ref(session, repo, kind=kind, name=name, principal=principal)


def check_repo(db: Database, *, principal: Principal, repo_id: str, action: Action) -> None:
    """Fail early (RepoNotFound or Forbidden) before a long upload or a token hand-out."""
    with db.session() as session:
        find_repo(session, repo_id, principal=principal, action=action)


def lfs_batch(
    db: Database,
    *,
    principal: Principal,
    repo_id: str,
    body: dict[str, Any],
    signer: lfs.UrlSigner,
    base_url: str,
    max_file_bytes: int,
) -> dict[str, Any]:
    """The LFS batch answer: what this repo holds needs no upload; everything else gets an upload URL."""
    with db.session() as session:
        repo = find_writable_repo(session, repo_id, principal=principal)
        held = objects.held_sizes(session, repo, lfs.requested_oids(body))
        return lfs.batch_response(
            body,
            repo_pk=repo.id,
            held=held,
            uploader=principal.actor,
            signer=signer,
            base_url=base_url,
            max_file_bytes=max_file_bytes,
        )


def record_upload(db: Database, *, grant: lfs.UploadGrant) -> None:
    """After a verified PUT: the repo of the signed grant now holds the object."""
    with db.unit_of_work() as session:
        repo = session.get(HubRepo, grant.repo_pk)
        if repo is None:  # deleted since the URL was signed
            raise RepoNotFoundError(grant.repo_pk)
        objects.hold(
            session, repo_pk=repo.id, sha256=grant.oid, size=grant.size, actor=grant.by, now=utcnow()
        )


def verify_upload(db: Database, store: BlobStore, *, grant: lfs.UploadGrant) -> None:
    """The LFS verify call: the object is stored and held by the grant's repo with the declared size."""
    with db.session() as session:
        repo = session.get(HubRepo, grant.repo_pk)
        held = objects.held_sizes(session, repo, [grant.oid]) if repo is not None else {}
    blob = store.stat(grant.oid)
    if held.get(grant.oid) != grant.size or blob is None or blob.size != grant.size:
        raise ValidationError(f"object {grant.oid} is not stored with size {grant.size}")
