"""Hub tables: repositories, immutable commits with their full file trees, the LFS objects each repo may
reference, refs, access grants, downloads."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from valuechain.core.db import Base, UTCDateTime

VISIBILITIES = ("public", "private")
GATE_MODES = ("auto", "manual")
ACCESS_STATUSES = ("pending", "accepted", "rejected")


class HubRepo(Base):
    """A model repository ``<namespace>/<name>``; it is also a registry model (``model_id``)."""

    __tablename__ = "hub_repos"
    __table_args__ = (UniqueConstraint("namespace", "name"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_id: Mapped[str] = mapped_column(String(40), ForeignKey("organizations.id"), index=True)
    namespace: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    model_id: Mapped[str | None] = mapped_column(
        String(40), ForeignKey("models.id"), nullable=True, index=True
    )
    visibility: Mapped[str] = mapped_column(String(16), default="private")
    gated: Mapped[str | None] = mapped_column(String(16), nullable=True)
    licence: Mapped[str | None] = mapped_column(String(100), nullable=True)
    licence_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def repo_id(self) -> str:
        return f"{self.namespace}/{self.name}"


class HubCommit(Base):
    """An immutable revision; ``id`` is a 40-hex sha1 over parent, tree and message (like git)."""

    __tablename__ = "hub_commits"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    repo_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("hub_repos.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    title: Mapped[str] = mapped_column(String(500))
    message: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(200))
    version_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    card: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HubCommitFile(Base):
    """One file of a commit's tree; a commit lists all its files, so trees never change."""

    __tablename__ = "hub_commit_files"

    commit_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("hub_commits.id", ondelete="CASCADE"), primary_key=True
    )
    path: Mapped[str] = mapped_column(String(1000), primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    git_oid: Mapped[str] = mapped_column(String(40))
    is_lfs: Mapped[bool] = mapped_column(Boolean, default=False)


class HubRepoObject(Base):
    """An LFS object a repo holds: uploaded to it or committed to it (issue 9: per-repo content).

    Blobs are shared on disk by content, but a commit may reference an object only if its repo holds it
    or the committer can read a repo that does; a sha256 alone grants nothing.
    """

    __tablename__ = "hub_repo_objects"

    repo_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("hub_repos.id", ondelete="CASCADE"), primary_key=True
    )
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    added_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HubRepoRedirect(Base):
    """An old name of a moved repo (lower-cased): requests naming it reach the repo, as on the Hub, until a
    repo takes the name again."""

    __tablename__ = "hub_repo_redirects"

    namespace: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    repo_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("hub_repos.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class HubRef(Base):
    """A branch or tag pointing at a commit; moved only by compare-and-set on ``commit_id``."""

    __tablename__ = "hub_refs"

    repo_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("hub_repos.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    commit_id: Mapped[str] = mapped_column(String(40))


class HubAccess(Base):
    """An organisation's access to a gated repo: accepted terms (who, when, which) or a decision."""

    __tablename__ = "hub_access"

    repo_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("hub_repos.id", ondelete="CASCADE"), primary_key=True
    )
    org_id: Mapped[str] = mapped_column(String(40), ForeignKey("organizations.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    terms: Mapped[str | None] = mapped_column(String(200), nullable=True)
    terms_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    accepted_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(40), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HubDownload(Base):
    """Downloads counted per commit (model version), downloading organisation and day."""

    __tablename__ = "hub_downloads"

    repo_id: Mapped[str] = mapped_column(
        String(40), ForeignKey("hub_repos.id", ondelete="CASCADE"), primary_key=True
    )
    commit_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    org_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
