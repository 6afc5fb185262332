"""Durable case opening (issue 23 §1): an import killed (kill -9) inside its cases step has
committed its contacts and the mark that its cases are due; ``cases list`` says so; one more
import then opens them first, so the cases are exactly those of the same imports run without a
kill. On SQLite and PostgreSQL, as real processes.

The kill is timed by the cases store's own lock: the test waits until the import holds the sync
lock (the SQLite write lock; the advisory lock on PostgreSQL), kills it there, and checks that
none of that import's cases had been committed."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cases_support import CasesDb
from recontact import samples
from recontact.cases import db as cases_db_module
from recontact.cases import service
from recontact.config import Settings
from recontact.store.contacts import open_store
from recontact.store.ledger import cases_due


def _files(tmp_path: Path) -> list[Path]:
    """A small first file, a generated half year (the import to kill), a small last file."""
    files = []
    for name, n, seed, days in (("first", 1_500, 1, 20), ("year", 20_000, 11, 180), ("last", 1_500, 3, 20)):
        path = tmp_path / f"{name}.csv"
        samples.write_csv(path, n, seed=seed, days=days)
        path.write_text(path.read_text().replace("\nC0", f"\n{name[0].upper()}0"))  # contact ids of its own
        files.append(path)
    return files


def _import(db: Path, path: Path) -> list[str]:
    return [sys.executable, "-m", "recontact.cli", "import", str(path), "--db", str(db), "--source", "csv",
            "-o", "json"]


def _holds_sync_lock(cases: CasesDb) -> bool:
    """Whether another process holds the cases store's sync lock now."""
    if cases.kind == "sqlite":
        con = sqlite3.connect(cases_db_module.sqlite_path(cases.db), timeout=0)
        try:
            con.execute("BEGIN IMMEDIATE")
            con.rollback()
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            con.close()
    engine = sa.create_engine(cases.url)
    try:
        with engine.connect() as con:
            key = cases_db_module.SYNC_LOCK_KEY
            held = con.execute(sa.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                       "AND classid = :hi AND objid = :lo "
                                       "AND database = (SELECT oid FROM pg_database "
                                       "WHERE datname = current_database())"),
                               {"hi": key >> 32, "lo": key & 0xFFFFFFFF}).scalar()
            return bool(held)
    finally:
        engine.dispose()


def _kill_in_cases_step(cases: CasesDb, command: list[str]) -> None:
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300
        while not _holds_sync_lock(cases):
            assert proc.poll() is None, f"the import ended before its cases step: {proc.stderr and proc.stderr.read()}"
            assert time.monotonic() < deadline, "the import never reached its cases step"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _cases(db: Path) -> set[tuple[Any, ...]]:
    """Every case (the same imports in the same order give the customers the same keys)."""
    cases_db_module.forget_engines()
    return {(c["customer_key"], c["rule"], c["category"], c["opened_at"], c["state"], c["flags"])
            for c in service.list_cases(db, Settings())}


def test_a_kill_inside_the_cases_step_loses_no_case(cases_db: CasesDb, tmp_path: Path) -> None:
    first, year, last = _files(tmp_path)
    db = cases_db.db
    assert subprocess.run(_import(db, first), capture_output=True, timeout=300).returncode == 0
    after_first = _cases(db)
    _kill_in_cases_step(cases_db, _import(db, year))
    assert _cases(db) == after_first  # killed inside the cases transaction: none of its cases committed
    with open_store(db, read_only=True) as store:
        assert list(cases_due(store.con)) == [2]  # committed with the import
    listed = subprocess.run([sys.executable, "-m", "recontact.cli", "cases", "list", "--db", str(db)],
                            capture_output=True, text=True, timeout=300)
    assert "import (2) are not open yet" in " ".join(listed.stdout.split()), listed.stdout
    done = subprocess.run(_import(db, last), capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "earlier import (2)" in done.stdout
    with open_store(db, read_only=True) as store:
        assert cases_due(store.con) == {}
    killed = _cases(db)

    cases_db.use_another()  # the same imports without a kill, in a store and cases store of their own
    again = db.with_name("again.duckdb")
    for path in (first, year, last):
        assert subprocess.run(_import(again, path), capture_output=True, timeout=300).returncode == 0
    assert len(killed) > len(after_first)
    assert killed == _cases(again)


@pytest.mark.parametrize("command", ["sync", "worker"])
def test_cases_sync_and_the_worker_finish_a_stopped_import(cases_db: CasesDb, tmp_path: Path, command: str) -> None:
    first, year, _ = _files(tmp_path)
    db = cases_db.db
    assert subprocess.run(_import(db, first), capture_output=True, timeout=300).returncode == 0
    _kill_in_cases_step(cases_db, _import(db, year))
    with open_store(db, read_only=True) as store:
        assert list(cases_due(store.con)) == [2]  # killed after the import's commit
    args = ["cases", "sync"] if command == "sync" else ["worker", "--once"]
    done = subprocess.run([sys.executable, "-m", "recontact.cli", *args, "--db", str(db)], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    with open_store(db, read_only=True) as store:
        assert cases_due(store.con) == {}
    killed = _cases(db)
    cases_db.use_another()
    again = db.with_name("again.duckdb")
    for path in (first, year):
        assert subprocess.run(_import(again, path), capture_output=True, timeout=300).returncode == 0
    assert killed == _cases(again)
