"""Database engine, sessions and the declarative base (SQLite WAL by default, PostgreSQL supported)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    event,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

log = logging.getLogger("valuechain.db")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base of every table, with stable constraint names for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC on every backend (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use an aware UTC datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


IdColumn = String(40)


class TableVersion(Base):
    """How often a watched table has changed: bumped by the transaction that changes it, so another process
    (a replica, the CLI) learns of a revocation by reading one small table (issue 17)."""

    __tablename__ = "table_versions"

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class Database:
    """Holds the engine and hands out sessions; one per process, built from settings."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            _ensure_sqlite_dir(url)
            self.engine = create_engine(
                url, echo=echo, connect_args={"timeout": 30}, json_serializer=_json_dumps
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = create_engine(
                url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20, json_serializer=_json_dumps
            )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Write transactions on SQLite take the write lock at BEGIN (lazily, at the first statement):
        # a deferred transaction that reads, then writes, fails with SQLITE_BUSY when another writer
        # committed in between (WAL snapshot rule).
        writer = self.engine.execution_options(sqlite_immediate=True) if self.is_sqlite else self.engine
        self._write_sessions = sessionmaker(writer, expire_on_commit=False)
        self._commit_hooks: list[Callable[[frozenset[str]], None]] = []
        event.listen(self._write_sessions, "after_flush", _note_flushed_tables)
        event.listen(self._write_sessions, "do_orm_execute", _note_executed_table)
        event.listen(self._write_sessions, "before_commit", self._bump_table_versions)
        self.has_table_versions: bool | None = None  # learnt at the first commit; reset by migrations
        event.listen(self._write_sessions, "after_commit", self._after_commit)
        event.listen(self._write_sessions, "after_rollback", _forget_tables)

    def on_commit(self, hook: Callable[[frozenset[str]], None]) -> Callable[[], None]:
        """Call ``hook`` with the names of the tables a unit of work changed, after it commits.

        Returns the function that removes the hook again.
        """
        self._commit_hooks.append(hook)
        return lambda: self._commit_hooks.remove(hook)

    def _after_commit(self, session: Session) -> None:
        tables = session.info.pop(_CHANGED, None)
        if tables:
            changed = frozenset(tables)
            for hook in list(self._commit_hooks):
                try:
                    hook(changed)
                except Exception:  # the transaction is committed: a failing hook must not fail it
                    log.exception("after-commit hook failed")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session; rolled back at the end (use ``unit_of_work`` to change data)."""
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """A write transaction: committed when the block succeeds, rolled back otherwise."""
        with self._write_sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def _bump_table_versions(self, session: Session) -> None:
        """In the committing transaction, bump the versions of the watched tables it changed (a table
        without a row in ``table_versions`` is not watched: the update matches nothing)."""
        session.flush()  # pending objects are noted at flush, which commit would only do after this hook
        changed = session.info.get(_CHANGED)
        if not changed:
            return
        if self.has_table_versions is None:  # a database not yet migrated this far must still commit
            self.has_table_versions = inspect(session.connection()).has_table(TableVersion.__tablename__)
        if self.has_table_versions:  # on the connection: the bump itself is no change for the hooks
            session.connection().execute(
                update(TableVersion)
                .where(TableVersion.table_name.in_(sorted(changed)))
                .values(version=TableVersion.version + 1)
            )

    def table_versions(self) -> dict[str, int]:
        """The version of every watched table (those with a row in ``table_versions``)."""
        with self.session() as session:
            rows = session.execute(select(TableVersion.table_name, TableVersion.version))
            return {name: int(version) for name, version in rows}

    def dispose(self) -> None:
        self.engine.dispose()


_CHANGED = "valuechain.changed_tables"
# Columns whose change alone is no change for the hooks (a key's last use is touched once a minute).
_BOOKKEEPING = frozenset({"last_used_at"})


def _note_flushed_tables(session: Session, _context: Any) -> None:
    """Remember which tables this transaction wrote (for the after-commit hooks)."""
    changed = session.info.setdefault(_CHANGED, set())
    for obj in (*session.new, *session.deleted):
        changed.add(getattr(obj, "__tablename__", ""))
    for obj in session.dirty:
        if not set(inspect(obj).committed_state) <= _BOOKKEEPING:
            changed.add(getattr(obj, "__tablename__", ""))
    changed.discard("")


def _note_executed_table(state: Any) -> None:
    """Bulk ``update()``/``delete()``/``insert()`` statements bypass the flush: note their table too."""
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if table is not None:
            state.session.info.setdefault(_CHANGED, set()).add(table.name)


def _forget_tables(session: Session) -> None:
    session.info.pop(_CHANGED, None)


def _json_dumps(value: Any) -> str:
    """JSON columns via orjson (several times faster than the standard library on bulk writes)."""
    return orjson.dumps(value).decode()


def _ensure_sqlite_dir(url: str) -> None:
    path = url.split("///", 1)[-1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and explicit BEGIN so that transactions behave (SQLAlchemy pysqlite recipe)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get("sqlite_immediate", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
