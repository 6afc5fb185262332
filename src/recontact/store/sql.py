"""Small helpers for statements on a DuckDB connection."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single integer a query returns."""
    rows: Any = con.execute(sql).fetchall()
    return int(rows[0][0])


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, columns: Mapping[str, Any]) -> Iterator[str]:
    """``columns`` (NumPy arrays of one length, by column name) readable by SQL as the view ``name``
    inside the block, and gone after it whatever happens. NumPy columns, not an Arrow table:
    DuckDB imports pandas (half a second) to scan a registered Arrow table."""
    con.register(name, dict(columns))
    try:
        yield name
    finally:
        con.unregister(name)
