"""Small helpers for statements on a DuckDB connection."""

from __future__ import annotations

from typing import Any

import duckdb


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    """The single integer a query returns."""
    rows: Any = con.execute(sql).fetchall()
    return int(rows[0][0])
