"""The embedded default engine: a DuckDB database file, queried through Ibis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import ibis

from recontact.errors import StoreError


def connect(path: Path | str, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (creating when allowed) a DuckDB database file; StoreError with the reason otherwise."""
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
        raise StoreError(f"{target}: cannot open the store: {e}") from None
    except duckdb.Error as e:
        raise StoreError(f"{target}: not a DuckDB database ({e})") from None
    return con


def ibis_connection(con: duckdb.DuckDBPyConnection) -> Any:
    """An Ibis backend over an existing DuckDB connection (same transaction, same settings)."""
    return ibis.duckdb.from_connection(con)


def set_timezone(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    """Session time zone: how naive text becomes an instant, and how instants become local time."""
    con.execute("SET TimeZone = ?", [tz])
