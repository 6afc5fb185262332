"""Alembic: upgrade from an empty database and from every earlier revision, on SQLite and
PostgreSQL; the migrated schema matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from cases_support import CasesDb
from recontact.cases import db, migrations
from recontact.cases.models import Base


# Alembic cannot compare the expression index of 0003 (it says so and skips it on both sides):
# test_0003_keeps_one_live_row_per_episode checks what it does.
@pytest.mark.filterwarnings("ignore:.*expression-based index")
def test_upgrade_from_empty_matches_the_models(cases_db: CasesDb) -> None:
    engine = db.make_engine(cases_db.url)
    try:
        assert migrations.current(engine) is None
        before, after = migrations.upgrade(engine)
        assert (before, after) == (None, migrations.head())
        assert migrations.current(engine) == migrations.head()
        tables = set(inspect(engine).get_table_names())
        assert {"roles", "users", "cases", "case_flags", "case_events", "notes", "outreach", "audit_log"} <= tables
        with engine.connect() as con:
            diff = compare_metadata(MigrationContext.configure(con), Base.metadata)
            roles = {r[0] for r in con.execute(text("SELECT name FROM roles"))}
        assert diff == [], f"models and migrations differ: {diff}"
        assert {"admin", "supervisor", "liaison", "manager", "viewer"} <= roles
        assert migrations.upgrade(engine) == (migrations.head(), migrations.head())  # nothing to do twice
    finally:
        engine.dispose()


@pytest.mark.parametrize("start", range(len(migrations.revision_ids())))
def test_upgrade_from_every_earlier_revision(cases_db: CasesDb, start: int) -> None:
    """Upgrade to revision ``start``, then to the head; downgrading to empty and back works too."""
    engine = db.make_engine(cases_db.url)
    try:
        revs = migrations.revision_ids()
        migrations.upgrade(engine, revs[start])
        assert migrations.current(engine) == revs[start]
        migrations.upgrade(engine)
        assert migrations.current(engine) == migrations.head()
        migrations.downgrade(engine, "base")
        assert migrations.current(engine) is None
        migrations.upgrade(engine)
        assert migrations.current(engine) == migrations.head()
    finally:
        engine.dispose()


def test_open_engine_upgrades_once(cases_db: CasesDb) -> None:
    engine = db.open_engine(cases_db.db)
    assert migrations.current(engine) == migrations.head()
    assert db.open_engine(cases_db.db) is engine


def test_the_head_open_engine_checks_without_alembic_is_alembics_head() -> None:
    assert migrations.head() == db.HEAD_REVISION


def test_open_engine_upgrades_a_store_below_the_head(cases_db: CasesDb) -> None:
    """A store at an older revision is upgraded by a later open_engine (the head check says no)."""
    engine = db.make_engine(cases_db.url)
    try:
        migrations.upgrade(engine, migrations.revision_ids()[0])
    finally:
        engine.dispose()
    db.forget_engines()
    assert migrations.current(db.open_engine(cases_db.db)) == migrations.head()


def test_0003_keeps_one_live_row_per_episode(cases_db: CasesDb) -> None:
    """A store at 0002 with an episode attached twice (two syncs at once, before 0003) keeps the
    first row live; afterwards a second live row for one episode is refused, a not-live one is not."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import IntegrityError

    engine = db.make_engine(cases_db.url)
    at = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    case = {"customer_key": 7, "rule": "repeat-30d", "category": None, "opened_at": at, "created_at": at,
            "source": "flag", "state": "new", "priority": 1.0, "contact_count": 5, "updated_at": at}
    flag = {"customer_key": 7, "rule": "repeat-30d", "category": None, "crossed_at": at, "count": 5,
            "live": True, "attached_at": at}
    try:
        migrations.upgrade(engine, "0002_outbox")
        from recontact.cases.models import Case, CaseFlag

        with engine.begin() as con:
            ids = [con.execute(Case.__table__.insert().values(**case)).inserted_primary_key[0] for _ in range(2)]
            for case_id in ids:
                con.execute(CaseFlag.__table__.insert().values(case_id=case_id, **flag))
        migrations.upgrade(engine)
        with engine.connect() as con:
            rows = con.execute(text("SELECT case_id, live FROM case_flags ORDER BY id")).all()
        assert [(c, bool(live)) for c, live in rows] == [(ids[0], True), (ids[1], False)]
        with pytest.raises(IntegrityError), engine.begin() as con:
            con.execute(CaseFlag.__table__.insert().values(case_id=ids[1], **flag))
        with engine.begin() as con:  # not live: allowed (an episode re-resolution made disappear)
            con.execute(CaseFlag.__table__.insert().values(case_id=ids[1], **{**flag, "live": False}))
            con.execute(CaseFlag.__table__.insert().values(case_id=ids[1], **{**flag, "category": "x"}))
    finally:
        engine.dispose()
