"""Faults: a crash mid-import loses nothing and doubles nothing (DESIGN.md, "Quality bars").

The test must be able to fail: it kills the import only once the process is reading the big file,
asserts it was still running then and died by the signal, and that the store changed nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from recontact import samples

pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to see the import reading")


def store_counts(db: Path) -> tuple[int, int]:
    """(contacts, imports) in the store."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        contacts = int(con.execute("SELECT count(*) FROM contacts").fetchall()[0][0])
        imports = int(con.execute("SELECT count(*) FROM imports").fetchall()[0][0])
        return contacts, imports
    finally:
        con.close()


def open_files(pid: int) -> set[str]:
    """Paths the process has open now (empty once it has exited)."""
    found = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                found.add(os.readlink(f"/proc/{pid}/fd/{fd}"))
            except OSError:
                continue
    except OSError:
        pass
    return found


def wait_until_reading(proc: subprocess.Popen[bytes], path: Path, db: Path, timeout: float = 60) -> None:
    """Return once the process has both the store and ``path`` open (the import's read is under
    way); fail if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = open_files(proc.pid)
        if str(path) in files and str(db) in files:
            return
        assert proc.poll() is None, "the import ended before it was seen reading the file"
        time.sleep(0.005)
    pytest.fail(f"the import did not start reading {path} within {timeout} s")


def test_killed_import_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    small, big, db = tmp_path / "small.csv", tmp_path / "big.csv", tmp_path / "s.duckdb"
    samples.write_csv(small, 1_000, seed=1)
    # Other contact ids than the big file's (the generator numbers contacts from C00000001).
    small.write_text(small.read_text().replace("\nC", "\nS"))
    samples.write_csv(big, 400_000, seed=2)
    cli = [sys.executable, "-m", "recontact.cli", "import", "--db", str(db), "--source", "csv", "-o", "json"]
    assert subprocess.run([*cli, str(small)], capture_output=True, timeout=120).returncode == 0
    before = store_counts(db)
    assert before == (1_000, 1)

    proc = subprocess.Popen([*cli, str(big)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_reading(proc, big, db)
        time.sleep(0.2)  # into DuckDB's read of 400k rows (several seconds on this machine)
        assert proc.poll() is None, "the import finished before the kill: nothing was interrupted"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL, f"the import exited by itself ({proc.returncode}), not by the kill"

    assert store_counts(db) == before  # DuckDB replays its log; the half-done transaction is gone
    done = subprocess.run([*cli, str(big)], capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert store_counts(db) == (before[0] + 400_000, 2)  # nothing lost, nothing doubled
