"""The DuckDB ``read_csv`` call shared by the CSV-shaped importers."""

from __future__ import annotations

import itertools
from pathlib import Path

from recontact.importers.base import sql_ident, sql_str

_counter = itertools.count(1)
MAX_LINE_BYTES = 1 << 22  # the longest record read; a longer one is rejected, not the file


def read_csv_sql(path: Path, columns: list[str], *, delimiter: str, encoding: str, header: bool,
                 quote: str = '"') -> tuple[str, str]:
    """``read_csv(...)`` reading every column as text, keeping rows it cannot split in a rejects
    table (returned as the second value) instead of failing the whole file."""
    n = next(_counter)
    rejects = f"_recontact_rejects_{n}"
    cols = "{" + ", ".join(f"{sql_str(c)}: 'VARCHAR'" for c in columns) + "}"
    escape = quote if quote else ""
    sql = (
        f"read_csv({sql_str(str(path))}, columns={cols}, header={str(header).lower()}, "
        f"delim={sql_str(delimiter)}, quote={sql_str(quote)}, escape={sql_str(escape)}, "
        f"encoding={sql_str(encoding)}, auto_detect=false, store_rejects=true, "
        f"rejects_table={sql_str(rejects)}, rejects_scan={sql_str(rejects + '_scan')}, "
        f"max_line_size={MAX_LINE_BYTES}, parallel=true)"
    )
    return sql, rejects


def extra_json_sql(columns: list[str], keys: dict[str, str] | None = None) -> str:
    """A JSON object of the given text columns; NULL when there are none or all are empty. Each is
    kept under its name, or under ``keys[column]`` when given."""
    if not columns:
        return "CAST(NULL AS VARCHAR)"
    keys = keys or {}
    pairs = ", ".join(f"{sql_str(keys.get(c, c))}, {sql_ident(c)}" for c in columns)
    anything = " OR ".join(f"{sql_ident(c)} IS NOT NULL" for c in columns)
    return f"CASE WHEN {anything} THEN CAST(json_object({pairs}) AS VARCHAR) END"
