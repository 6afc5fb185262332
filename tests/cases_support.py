"""The cases layer's test fixtures (exposed to every test by tests/conftest.py).

Every test that takes ``cases_db`` runs once on SQLite (a file beside a fresh DuckDB store) and
once on the real PostgreSQL server at 127.0.0.1:5432 (a throwaway database per test session, a
fresh schema per test). Without a reachable server the PostgreSQL runs skip with the reason,
unless ``RECONTACT_POSTGRES=required`` (CI sets it): then they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from recontact.cases import db as cases_db_module

PG_ENV = "RECONTACT_POSTGRES"
PG_SERVER = os.environ.get("RECONTACT_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")


def pg_required() -> bool:
    return os.environ.get(PG_ENV, "").strip().lower() == "required"


@dataclass
class CasesDb:
    """Where one test's stores are: ``db`` the DuckDB store path, ``url`` the cases store's URL;
    ``use_another()`` points ``RECONTACT_DATABASE_URL`` at a second, empty cases store (for tests
    that compare two DuckDB stores' cases) and returns its URL."""

    kind: str  # sqlite | postgresql
    db: Path
    url: str
    monkeypatch: pytest.MonkeyPatch
    _extra: list[str] = field(default_factory=list)
    _base: str = ""

    def use_another(self) -> str:
        if self.kind == "sqlite":
            url = f"sqlite:///{self.db.parent / f'other-{len(self._extra)}.sqlite'}"
        else:
            schema = _new_schema(self._base)
            self._extra.append(schema)
            url = f"{self._base}?options=-csearch_path%3D{schema}"
        self.monkeypatch.setenv(cases_db_module.DATABASE_URL_ENV, url)
        return url


def _new_schema(base: str) -> str:
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(base)
    with engine.begin() as con:
        con.execute(sa.text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    return schema


def _drop_schemas(base: str, schemas: list[str]) -> None:
    import sqlalchemy as sa

    cases_db_module.forget_engines()
    engine = sa.create_engine(base)
    with engine.begin() as con:
        for schema in schemas:
            con.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str | None]:
    """A throwaway PostgreSQL database for this test session (None: server unreachable)."""
    import sqlalchemy as sa

    name = f"recontact_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as con:
            con.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as e:
        admin.dispose()
        yield f"unreachable: {str(e).splitlines()[0]}"
        return
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        cases_db_module.forget_engines()
        with admin.connect() as con:
            con.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def cases_db(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[CasesDb]:
    """A fresh, empty operational store (not yet migrated) on SQLite or PostgreSQL, and the path of
    a DuckDB store (not created) it belongs with; ``RECONTACT_DATABASE_URL`` is set accordingly."""
    db = tmp_path / "store.duckdb"
    if request.param == "sqlite":
        monkeypatch.delenv(cases_db_module.DATABASE_URL_ENV, raising=False)
        yield CasesDb("sqlite", db, cases_db_module.database_url(db), monkeypatch)
        cases_db_module.forget_engines()
        return
    base = request.getfixturevalue("pg_database")
    if base.startswith("unreachable"):
        message = f"PostgreSQL at 127.0.0.1:5432 {base}"
        if pg_required():
            pytest.fail(f"{message} ({PG_ENV}=required)")
        pytest.skip(message)
    schema = _new_schema(base)
    url = f"{base}?options=-csearch_path%3D{schema}"
    monkeypatch.setenv(cases_db_module.DATABASE_URL_ENV, url)
    handle = CasesDb("postgresql", db, url, monkeypatch, [schema], base)
    try:
        yield handle
    finally:
        _drop_schemas(base, handle._extra)
