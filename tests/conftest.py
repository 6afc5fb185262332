"""Shared fixtures: the hand-written sample files, the real data sets (read in place), a fresh store
per test, and small helpers to import a file and read the store back.

``shared_data`` is ``../shared/data`` beside the repository. A fresh clone without it still passes:
tests that need it (the ``shared_data`` fixture, or the ``real_data`` marker) skip with a reason,
unless ``RECONTACT_REAL_DATA=required`` (CI sets it), where they fail instead.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

import hypothesis_profiles  # noqa: F401  (registers and loads the Hypothesis profile: dev, or ci)
from recontact import desk
from recontact.config import Settings
from recontact.engines.compiled import CACHE_ENV
from recontact.importers.base import ImportOptions
from recontact.store.load import ImportSummary

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "tests" / "data"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
REAL_DATA_ENV = "RECONTACT_REAL_DATA"

Importer = Callable[..., ImportSummary]
Query = Callable[..., list[tuple[Any, ...]]]
Rows = Callable[..., list[dict[str, Any]]]


@pytest.fixture
def samples() -> Path:
    """``tests/data``: one folder of small hand-written exports per ``--source``."""
    return SAMPLES


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets, read where they are (never copied into the repository)."""
    require_real_data()
    return SHARED_DATA


def real_data_required() -> bool:
    """True when ``RECONTACT_REAL_DATA=required``: missing real data is a failure, not a skip."""
    return os.environ.get(REAL_DATA_ENV, "").strip().lower() == "required"


def require_real_data() -> None:
    """Skip the calling test when ``../shared/data`` is absent, or fail it when the real data is
    required (``RECONTACT_REAL_DATA=required``, as CI sets it)."""
    if SHARED_DATA.is_dir():
        return
    reason = f"real data missing: expected {SHARED_DATA} (../shared/data beside the repository)"
    if real_data_required():
        pytest.fail(f"{reason}; {REAL_DATA_ENV}=required", pytrace=False)
    pytest.skip(f"{reason}; set {REAL_DATA_ENV}=required to make this a failure")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where this test's store lives (not created until the first import)."""
    return tmp_path / "store" / "contacts.duckdb"


@pytest.fixture
def run_import(store_path: Path) -> Importer:
    """``run_import(path, source=None, settings=None, db=None, rejects_path=None, system=None,
    **ImportOptions)``: one import through the library entry point (``desk.import_contacts``)."""

    def run(path: Path, source: str | None = None, settings: Settings | None = None, db: Path | None = None,
            rejects_path: Path | None = None, system: str | None = None, **options: Any) -> ImportSummary:
        request = desk.ImportRequest(path=Path(path), source=source, options=ImportOptions(**options),
                                     rejects_path=rejects_path, system=system)
        return desk.import_contacts(db or store_path, request, settings or Settings())

    return run


@pytest.fixture
def query(store_path: Path) -> Query:
    """``query(sql, params=None, db=None)``: rows of one SQL statement on the store (read-only)."""

    def run(sql: str, params: list[Any] | None = None, db: Path | None = None) -> list[tuple[Any, ...]]:
        con = duckdb.connect(str(db or store_path), read_only=True)
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    return run


@pytest.fixture
def contact_rows(store_path: Path) -> Rows:
    """``contact_rows(where="true", db=None)``: contacts as dicts in import and line order."""

    def run(where: str = "true", db: Path | None = None) -> list[dict[str, Any]]:
        con = duckdb.connect(str(db or store_path), read_only=True)
        try:
            cur = con.execute(f"SELECT * FROM contacts WHERE {where} ORDER BY import_id, line")
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        finally:
            con.close()

    return run


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "real_data: reads a real data set from ../shared/data (skips when it "
                                       f"is absent, fails instead when {REAL_DATA_ENV}=required)")
    # Compiled SQL (engines/compiled.py) goes to a cache of this test run, never the user's.
    os.environ[CACHE_ENV] = tempfile.mkdtemp(prefix="recontact-test-cache-")


@pytest.fixture(autouse=True)
def _real_data_marker(request: pytest.FixtureRequest) -> None:
    """Tests marked ``real_data`` skip (or fail, when required) without ../shared/data, even those
    that reach it without the ``shared_data`` fixture."""
    if request.node.get_closest_marker("real_data") is not None:
        require_real_data()


@pytest.fixture(scope="module")
def desk_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding a 3,000-contact generated desk (``recontact import … --output json``)."""
    from typer.testing import CliRunner

    from recontact import samples
    from recontact.cli.main import app

    tmp = tmp_path_factory.mktemp("cli")
    samples.write_csv(tmp / "desk.csv", 3000)
    db = tmp / "desk.duckdb"
    result = CliRunner().invoke(app, ["import", str(tmp / "desk.csv"), "--db", str(db), "--output", "json"])
    assert result.exit_code == 0, result.output
    return db


from cases_support import cases_db, pg_database  # noqa: E402,F401  (the cases layer's fixtures, on SQLite and PostgreSQL)
from notify_support import opstore, smtp, start_worker, webhook  # noqa: E402,F401  (the outbox's fixtures)


@pytest.fixture(autouse=True)
def fresh_consoles() -> None:
    """Each test's Rich consoles are made under its own environment (``COLUMNS``…): a console an
    earlier test in the same worker made must not set this test's table width."""
    from recontact.cli import output

    output.stdout.reset()
    output.stderr.reset()
