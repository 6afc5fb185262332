"""Faults: a crash mid-import loses nothing and doubles nothing (DESIGN.md, "Quality bars")."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from recontact import samples


def contacts_in(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM contacts").fetchall()[0][0])
    finally:
        con.close()


def test_killed_import_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    small, big, db = tmp_path / "small.csv", tmp_path / "big.csv", tmp_path / "s.duckdb"
    samples.write_csv(small, 1_000, seed=1)
    # Other contact ids than the big file's (the generator numbers contacts from C00000001).
    small.write_text(small.read_text().replace("\nC", "\nS"))
    samples.write_csv(big, 400_000, seed=2)
    cli = [sys.executable, "-m", "recontact.cli", "import", "--db", str(db), "-o", "json"]
    assert subprocess.run([*cli, str(small)], capture_output=True, timeout=120).returncode == 0
    before = contacts_in(db)
    assert before == 1_000

    proc = subprocess.Popen([*cli, str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.8)  # well inside the import's read of 400k rows
    killed = proc.poll() is None
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)

    after_crash = contacts_in(db)  # DuckDB replays its log; the half-done transaction is gone
    assert after_crash == before if killed else after_crash in (before, before + 400_000)
    done = subprocess.run([*cli, str(big)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert contacts_in(db) == before + 400_000  # nothing lost, nothing doubled
