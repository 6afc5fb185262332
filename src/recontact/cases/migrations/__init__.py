"""Alembic migrations of the operational store, run from code (no alembic.ini).

Revision ids are stable once on main; a new table or column is a new revision whose
``down_revision`` is the current head (``revision_ids()`` lists them oldest first). The outbox
(notifications) is such a later revision on top of ``0001_cases``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

HERE = Path(__file__).resolve().parent


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config whose scripts are this folder; ``engine`` is what env.py migrates."""
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    return config


def head() -> str:
    """The newest revision id."""
    rev = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert rev is not None
    return rev


def revision_ids() -> list[str]:
    """Every revision id, oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current(engine: Engine) -> str | None:
    """The revision the database is at (None: empty, never migrated)."""
    with engine.connect() as con:
        return MigrationContext.configure(con).get_current_revision()


#: The advisory lock key of a migration on PostgreSQL ("rcmigrat").
MIGRATION_LOCK_KEY = 0x72636D6967726174


@contextmanager
def migration_lock(engine: Engine) -> Iterator[None]:
    """Held while a process migrates, so that two first commands at once on a fresh database do
    not both create the tables (one used to die with ``UniqueViolation``): a session advisory lock
    on PostgreSQL, an exclusive lock on a ``….migrate.lock`` file beside an SQLite file."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as con:
            con.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            con.commit()
            try:
                yield
            finally:
                con.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                con.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    import fcntl

    with open(f"{database}.migrate.lock", "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> tuple[str | None, str]:
    """Upgrade the database to ``revision`` (the newest by default) under :func:`migration_lock`
    (a process that waited finds the work done); returns (from, to)."""
    target = head() if revision == "head" else revision
    with migration_lock(engine):
        before = current(engine)
        if before != target:
            command.upgrade(alembic_config(engine), revision)
    return before, target


def downgrade(engine: Engine, revision: str) -> None:
    command.downgrade(alembic_config(engine), revision)
