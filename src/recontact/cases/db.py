"""The operational store: where its database is, the engine, sessions, and schema upgrades.

* URL: ``$RECONTACT_DATABASE_URL`` when set (``postgresql://user@host/db`` is read with the psycopg
  3 driver; any SQLAlchemy URL works), else a SQLite file beside the DuckDB store:
  ``recontact.duckdb`` -> ``recontact.cases.sqlite``.
* Schema: Alembic revisions in ``recontact/cases/migrations``; :func:`open_engine` upgrades the
  database to the newest revision the first time a process opens it (nothing to run by hand;
  ``recontact cases migrate`` does it explicitly and says from which revision).
* Times are stored in UTC (:class:`UTCDateTime`): aware datetimes in, aware UTC datetimes out, on
  SQLite (which keeps no zone) and PostgreSQL (``timestamptz``) alike.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, create_engine, event, text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from recontact.errors import StoreError

DATABASE_URL_ENV = "RECONTACT_DATABASE_URL"
SQLITE_SUFFIX = ".cases.sqlite"
#: The newest migration (``migrations.head()``; a test keeps them equal): a store already there is
#: opened without loading Alembic (~0.2 s of every import that opens cases).
HEAD_REVISION = "0003_one_case_per_episode"

_engines: dict[str, Engine] = {}


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime stored in UTC; naive datetimes are refused (they name no instant)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: the cases store keeps instants (aware datetimes)")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        """On SQLite, one function doing what ``process_bind_param`` and SQLite's DATETIME storage
        format (``YYYY-MM-DD HH:MM:SS.ffffff``) do in two steps: an import opening thousands of
        cases binds several datetimes per row."""
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def process(value: datetime | None) -> str | None:
            if value is None:
                return None
            if value.tzinfo is UTC:  # most values: ISO text without its "+00:00"
                return value.isoformat(" ", "microseconds")[:-6]
            if value.tzinfo is None:
                raise ValueError(f"naive datetime {value!r}: the cases store keeps instants (aware datetimes)")
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")

        return process

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def now() -> datetime:
    """The current instant (UTC, aware)."""
    return datetime.now(UTC)


def sqlite_path(duckdb_path: Path) -> Path:
    """The SQLite file beside a DuckDB store: ``recontact.duckdb`` -> ``recontact.cases.sqlite``."""
    return duckdb_path.with_name(duckdb_path.stem + SQLITE_SUFFIX)


def database_url(duckdb_path: Path) -> str:
    """The operational store's URL: ``$RECONTACT_DATABASE_URL``, else SQLite beside the store."""
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if not url:
        return f"sqlite:///{sqlite_path(duckdb_path)}"
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    return url


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    return make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_con: Any, _record: Any) -> None:
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA foreign_keys = ON")
    cur.execute("PRAGMA busy_timeout = 10000")  # a second writer waits rather than failing at once
    # 64 MiB of page cache (default 2 MiB): a first import opening 180k cases writes 700k rows into
    # indexed tables far larger than the default cache.
    cur.execute("PRAGMA cache_size = -65536")
    cur.close()


def make_engine(url: str) -> Engine:
    """A new engine for ``url`` (SQLite: foreign keys on, writers wait up to 10 s for each other)."""
    if url.startswith("sqlite"):
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def open_engine(duckdb_path: Path, *, upgrade: bool = True) -> Engine:
    """The engine of the operational store that belongs with ``duckdb_path`` (one per URL per
    process), its schema upgraded to the newest revision unless ``upgrade`` is false."""
    url = database_url(duckdb_path)
    engine = _engines.get(url)
    if engine is None:
        engine = make_engine(url)
        try:
            with engine.connect() as con:
                con.execute(text("SELECT 1"))
        except Exception as e:  # an unreachable server, a file we may not create…
            raise StoreError(f"cases store {describe(url)} cannot be opened: {str(e).splitlines()[0]}") from None
        if upgrade and not _at_head(engine):
            from recontact.cases.migrations import upgrade as run_upgrade

            run_upgrade(engine)
        _engines[url] = engine
    return engine


def _at_head(engine: Engine) -> bool:
    """Whether the database's Alembic version is :data:`HEAD_REVISION` (False: empty, older or unreadable)."""
    try:
        with engine.connect() as con:
            return con.execute(text("SELECT version_num FROM alembic_version")).scalar() == HEAD_REVISION
    except Exception:  # no version table yet (a new database): Alembic decides
        return False


def forget_engines() -> None:
    """Dispose of every engine this process opened (tests, and before a database is dropped)."""
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: committed when the block ends, rolled back when it raises."""
    maker = sessionmaker(engine, expire_on_commit=False)
    with maker() as session, session.begin():
        yield session


#: The advisory lock key every sync (and ``cases open-top``) takes on PostgreSQL ("recontac").
SYNC_LOCK_KEY = 0x7265636F6E746163
#: How long a writer on SQLite waits for the write lock before its first statement (a sync of a
#: large import may hold it for minutes; other statements wait ``busy_timeout``, 10 s).
SQLITE_LOCK_WAIT_MS = 600_000


@contextmanager
def write_scope(engine: Engine, *, sync_lock: bool = False) -> Iterator[Session]:
    """One transaction that writes, serialised where it must be: on SQLite it holds the database's
    write lock from its first statement (``BEGIN IMMEDIATE``: a deferred transaction that reads
    first and writes later fails with ``database is locked`` when another writer got there first);
    on PostgreSQL, with ``sync_lock``, it holds the sync's advisory lock
    (``pg_advisory_xact_lock``) until it ends, so two syncs (two imports, an import and
    ``cases sync``, two ``open-top``) run one after the other and the second sees the first's cases.
    Workflow changes lock their case row (``SELECT … FOR UPDATE``, :func:`workflow.get_case`)."""
    maker = sessionmaker(engine, expire_on_commit=False)
    with maker() as session, session.begin():
        con = session.connection()
        if engine.dialect.name == "sqlite":
            con.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_LOCK_WAIT_MS}")
            try:
                con.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                con.exec_driver_sql("PRAGMA busy_timeout = 10000")
        elif engine.dialect.name == "postgresql" and sync_lock:
            con.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SYNC_LOCK_KEY})
        yield session
