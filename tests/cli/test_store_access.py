"""Readers share the store; a reader or an import while an import holds it gets one line,
``error: store busy: …``, and exit code 1. Real processes, real DuckDB file locks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from recontact import desk, samples
from recontact.config import Settings

#: Opens the store as an import would (read-write) or as a reader, says so, and waits for stdin to close.
_HOLD = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=sys.argv[2] == "read")
con.execute("SELECT count(*) FROM contacts").fetchall()
print("holding", flush=True)
sys.stdin.read()
"""


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("access")
    samples.write_csv(tmp / "desk.csv", 1500)
    db = tmp / "desk.duckdb"
    desk.import_contacts(db, desk.ImportRequest(path=tmp / "desk.csv"), Settings())
    return db


@contextmanager
def held(db: Path, mode: str) -> Iterator[int]:
    """Another process holding ``db`` open (``write`` or ``read``) for the block; yields its PID."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD, str(db), mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "holding\n"
        yield proc.pid
    finally:
        proc.communicate(timeout=30)


def recontact(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "recontact.cli", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("command", [["flags"], ["top"], ["customer", "C1"]])
def test_reader_during_an_import_says_store_busy(store: Path, command: list[str]) -> None:
    with held(store, "write") as pid:
        result = recontact(*command, "--db", str(store))
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"error: store busy: an import is running (PID {pid} has {store} open)")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


@pytest.mark.parametrize(("holder", "said"), [("write", "an import is running"),
                                              ("read", "a command is reading it")])
def test_import_while_the_store_is_held_says_store_busy(store: Path, tmp_path: Path, holder: str, said: str) -> None:
    samples.write_csv(tmp_path / "more.csv", 50, seed=3)
    with held(store, holder) as pid:
        result = recontact("import", str(tmp_path / "more.csv"), "--db", str(store))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: store busy: {said} (PID {pid} has {store} open)")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr


def test_readers_at_once(store: Path) -> None:
    """Two commands read while a third process holds the store read-only: all answer."""
    alone = recontact("flags", "--db", str(store), "-o", "json")
    assert alone.returncode == 0, alone.stderr
    with held(store, "read"):
        procs = [subprocess.Popen([sys.executable, "-m", "recontact.cli", *args, "--db", str(store), "-o", "json"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for args in (["flags"], ["customer", "C1"])]
        outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outs]
    assert outs[0][0] == alone.stdout
    assert json.loads(outs[1][0])["customer_key"] == "C1"


def test_read_commands_leave_the_store_file_untouched(store: Path) -> None:
    before = store.stat().st_mtime_ns, store.stat().st_size
    assert recontact("flags", "--db", str(store), "-o", "csv").returncode == 0
    assert recontact("customer", "C1", "--db", str(store), "-o", "json").returncode == 0
    assert (store.stat().st_mtime_ns, store.stat().st_size) == before
    assert not Path(f"{store}.wal").exists()
