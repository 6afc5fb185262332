"""The embedded default engine: a DuckDB database file, queried through Ibis (or plain SQL for point lookups)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from recontact.errors import StoreError

_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*? \(PID (\d+)\)")


def busy_message(error: str, target: str) -> str | None:
    """``store busy: …`` when DuckDB refused the file because another process holds its lock, else None.

    DuckDB locks the file for the whole life of a connection: a writer (an import) excludes every
    other process; readers share the file with each other. Its message says when only readers hold
    the lock ("you would be able to open this database in read-only mode")."""
    if "Conflicting lock" not in error:
        return None
    holder = _LOCK_HOLDER.search(error)
    who = f"PID {holder.group(1)}" if holder else "another process"
    if "read-only mode" in error:
        return f"store busy: a command is reading it ({who} has {target} open); try again when it ends"
    return f"store busy: an import is running ({who} has {target} open); try again when it ends"


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating when allowed) a DuckDB database file; StoreError with the reason otherwise
    (``store busy: …`` when another process holds the file: see ``busy_message``)."""
    target = str(path)
    if target != ":memory:":
        p = Path(target)
        if read_only and not p.exists():
            raise StoreError(f"{p}: no such store; import contacts first (recontact import FILE --db {p})")
        if p.exists() and p.is_dir():
            raise StoreError(f"{p}: is a directory, not a database file")
        p.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(target, read_only=read_only)
    except duckdb.IOException as e:
        raise StoreError(busy_message(str(e), target) or f"{target}: cannot open the store: {e}") from None
    except duckdb.Error as e:
        raise StoreError(f"{target}: not a DuckDB database ({e})") from None
    con.execute("SET enable_progress_bar = false")  # DuckDB would draw its own bar on stderr mid-answer
    return con


def ibis_connection(con: duckdb.DuckDBPyConnection) -> Any:
    """An Ibis backend over an existing DuckDB connection (same transaction, same settings).

    Ibis is imported here, not at module level: importing it costs about half a second, which
    the point lookups (``recontact customer``) do without."""
    import ibis

    return ibis.duckdb.from_connection(con)


def set_timezone(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Session time zone: how naive text becomes an instant, and how instants become local time."""
    con.execute("SET TimeZone = ?", [tz])
