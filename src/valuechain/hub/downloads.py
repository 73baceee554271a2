"""Download counting per version (commit), downloading organisation and day."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from valuechain.accounts.directory import slugs_for_ids
from valuechain.hub.models import HubCommit, HubDownload, HubRepo

ANONYMOUS = "anonymous"
COUNTED_SUFFIXES = (".gguf",)


def is_counted_file(path: str) -> bool:
    """HF's rule: a library's query file (``config.json``) counts a download; GGUF files count each."""
    return path == "config.json" or path.endswith(COUNTED_SUFFIXES)


def count_download(session: Session, *, repo: HubRepo, commit_id: str, org_id: str | None, day: date) -> None:
    """Add one download (an upsert, safe under concurrency on SQLite and PostgreSQL)."""
    values = {
        "repo_id": repo.id,
        "commit_id": commit_id,
        "org_key": org_id or ANONYMOUS,
        "day": day,
        "count": 1,
    }
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = insert(HubDownload).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["repo_id", "commit_id", "org_key", "day"], set_={"count": HubDownload.count + 1}
    )
    session.execute(statement)


def download_totals(session: Session, repo: HubRepo, *, today: date) -> tuple[int, int]:
    """(last 30 days, all time), as ``downloads`` and ``downloadsAllTime`` in model info."""
    total = func.coalesce(func.sum(HubDownload.count), 0)
    all_time = session.scalar(select(total).where(HubDownload.repo_id == repo.id)) or 0
    recent = (
        session.scalar(
            select(total).where(HubDownload.repo_id == repo.id, HubDownload.day > today - timedelta(days=30))
        )
        or 0
    )
    return int(recent), int(all_time)


def download_rows(session: Session, repo: HubRepo) -> list[dict[str, object]]:
    """Per version × organisation × day, for the provider."""
    rows = session.execute(
        select(HubDownload, HubCommit.version_id)
        .join(HubCommit, HubCommit.id == HubDownload.commit_id)
        .where(HubDownload.repo_id == repo.id)
        .order_by(HubDownload.day, HubDownload.commit_id, HubDownload.org_key)
    ).all()
    slugs = slugs_for_ids(session, (d.org_key for d, _ in rows))
    return [
        {
            "commit": d.commit_id,
            "version_id": version_id,
            "org": slugs.get(d.org_key, ANONYMOUS),
            "day": d.day.isoformat(),
            "downloads": d.count,
        }
        for d, version_id in rows
    ]
