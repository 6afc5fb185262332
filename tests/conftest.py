"""Shared fixtures: the hand-written sample files, the real data sets (read in place), a fresh store
per test, and small helpers to import a file and read the store back.

``shared_data`` is ``../shared/data`` beside the repository. It is always present in CI, so tests
that need it fail (never skip) when it is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from recontact import desk
from recontact.config import Settings
from recontact.importers.base import ImportOptions
from recontact.store.load import ImportSummary

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLES = REPO_ROOT / "tests" / "data"
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"

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
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data missing: expected {SHARED_DATA} (../shared/data beside the repository)")
    return SHARED_DATA


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    """Where this test's store lives (not created until the first import)."""
    return tmp_path / "store" / "contacts.duckdb"


@pytest.fixture
def run_import(store_path: Path) -> Importer:
    """``run_import(path, source=None, settings=None, db=None, rejects_path=None, **ImportOptions)``:
    one import through the library entry point (``desk.import_contacts``)."""

    def run(path: Path, source: str | None = None, settings: Settings | None = None, db: Path | None = None,
            rejects_path: Path | None = None, **options: Any) -> ImportSummary:
        request = desk.ImportRequest(path=Path(path), source=source, options=ImportOptions(**options),
                                     rejects_path=rejects_path)
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
    config.addinivalue_line("markers", "real_data: reads a real data set from ../shared/data")
