"""Directories in the store: customers, agents, employees, and the orders history.

Tables (schema 7): ``directory_customers``, ``directory_agents``, ``directory_employees``,
``orders`` (one row per usable line of the file, with its ``line``), ``directory_identifiers``
(directory, line, ``kind:value``: the identifiers each row carries, which take part in identity
resolution as a contact's do), and ``directories`` (one row per directory: the file it was last
imported from, its SHA-256, counts, when).

Importing a directory replaces it: the rows of the previous file go, with the links they made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import duckdb

from recontact.store.identities import Hygiene, record_directory_identifiers, recount_from_contacts, resolve
from recontact.store.sql import scalar

if TYPE_CHECKING:
    from recontact.importers.directories import DirectoryRows, Kind

#: Directory -> its table and typed columns (besides ``line``).
TABLES: dict[str, tuple[str, dict[str, str]]] = {
    "customers": ("directory_customers", {"name": "VARCHAR", "segment": "VARCHAR", "account_manager": "VARCHAR",
                                          "monthly_revenue": "DOUBLE"}),
    "agents": ("directory_agents", {"agent_id": "VARCHAR NOT NULL", "name": "VARCHAR", "team": "VARCHAR",
                                    "supervisor": "VARCHAR", "hourly_cost": "DOUBLE"}),
    "employees": ("directory_employees", {"employee_id": "VARCHAR NOT NULL", "name": "VARCHAR", "email": "VARCHAR",
                                          "phone": "VARCHAR", "manager": "VARCHAR"}),
    "orders": ("orders", {"ordered_on": "DATE NOT NULL", "amount": "DOUBLE NOT NULL", "order_id": "VARCHAR"}),
}

DDL = [
    *(f"CREATE TABLE IF NOT EXISTS {table} (line BIGINT NOT NULL, "
      f"{', '.join(f'{c} {t}' for c, t in cols.items())})" for table, cols in TABLES.values()),
    "CREATE TABLE IF NOT EXISTS directory_identifiers (directory VARCHAR NOT NULL, line BIGINT NOT NULL, "
    "ident VARCHAR NOT NULL)",
    "CREATE TABLE IF NOT EXISTS directories (directory VARCHAR NOT NULL, file VARCHAR NOT NULL, sha256 VARCHAR, "
    "imported_at TIMESTAMPTZ NOT NULL, read BIGINT, imported BIGINT, rejected BIGINT)",
]
TABLE_NAMES = frozenset({*(t for t, _ in TABLES.values()), "directory_identifiers", "directories"})


def row_key_sql(directory: str) -> str:
    """SQL: (line, customer_key) of each row of ``directory`` — the key its identifiers resolve
    to now (all of a row's identifiers that identify someone share one; NULL: none does)."""
    return ("SELECT d.line, max(i.customer_key) AS customer_key FROM directory_identifiers d "
            "LEFT JOIN identifiers i USING (ident) "
            f"WHERE d.directory = '{directory}' GROUP BY d.line")


def replace_directory(con: duckdb.DuckDBPyConnection, rows: DirectoryRows, hygiene: Hygiene,
                      sha256: str | None) -> dict[str, Any]:
    """Replace directory ``rows.kind`` with ``rows`` (inside the caller's transaction) and resolve
    identities again. Returns what happened: ``replaced`` (rows of the previous file), ``merges``
    (lines whose identifiers belonged to several customers before: the row joins them) and
    ``no_one`` (lines none of whose identifiers identifies anyone after resolution: deny-listed or hubs)."""
    import pyarrow as pa

    kind: Kind = rows.kind
    table, cols = TABLES[kind]
    replaced = scalar(con, f"SELECT count(*) FROM {table}")
    had_links = scalar(con, f"SELECT count(*) FROM directory_identifiers WHERE directory = '{kind}'")
    con.execute(f"DELETE FROM {table}")
    con.execute(f"DELETE FROM directory_identifiers WHERE directory = '{kind}'")
    con.execute(f"DELETE FROM directories WHERE directory = '{kind}'")
    if had_links:
        recount_from_contacts(con)  # the previous file's identifiers and links go
    types = {"DOUBLE": pa.float64(), "DATE": pa.date32(), "VARCHAR": pa.string()}
    data = pa.table({"line": pa.array([r["line"] for r in rows.rows], pa.int64()),
                     **{c: pa.array([r[c] for r in rows.rows], types[t.split()[0]]) for c, t in cols.items()}})
    con.register("_directory_rows", data)
    con.execute(f"INSERT INTO {table} SELECT line, {', '.join(cols)} FROM _directory_rows")
    con.unregister("_directory_rows")
    idents = [(kind, r["line"], i) for r in rows.rows for i in r["identifiers"]]
    merges: list[tuple[int, list[int]]] = []
    if idents:
        con.register("_directory_idents", pa.table({
            "directory": pa.array([d for d, _, _ in idents], pa.string()),
            "line": pa.array([n for _, n, _ in idents], pa.int64()),
            "ident": pa.array([i for _, _, i in idents], pa.string())}))
        con.execute("INSERT INTO directory_identifiers SELECT directory, line, ident FROM _directory_idents")
        con.unregister("_directory_idents")
        merges = [(int(line), sorted(int(k) for k in keys)) for line, keys in con.execute(f"""
            SELECT d.line, list(DISTINCT i.customer_key) FROM directory_identifiers d JOIN identifiers i USING (ident)
            WHERE d.directory = '{kind}' AND i.customer_key IS NOT NULL
            GROUP BY d.line HAVING count(DISTINCT i.customer_key) > 1 ORDER BY d.line""").fetchall()]
        record_directory_identifiers(con, kind)
    if idents or had_links:
        resolve(con, hygiene)
    no_one = [int(r[0]) for r in con.execute(
        f"SELECT line FROM ({row_key_sql(kind)}) WHERE customer_key IS NULL ORDER BY line").fetchall()]
    con.execute("INSERT INTO directories VALUES (?, ?, ?, now(), ?, ?, ?)",
                [kind, rows.file, sha256, rows.read, len(rows.rows), len(rows.rejects)])
    return {"replaced": replaced, "merges": merges, "no_one": no_one}


def directory_rows(con: duckdb.DuckDBPyConnection, kind: Kind) -> list[dict[str, Any]]:
    """The rows of one directory in file order, each with its ``customer_key`` now (None: none or
    not a directory of people) and its ``identifiers``."""
    table, cols = TABLES[kind]
    cur = con.execute(f"""
        SELECT t.line, {', '.join(f't.{c}' for c in cols)}, k.customer_key,
               (SELECT list(ident ORDER BY ident) FROM directory_identifiers d
                WHERE d.directory = '{kind}' AND d.line = t.line) AS identifiers
        FROM {table} t LEFT JOIN ({row_key_sql(kind)}) k USING (line) ORDER BY t.line""")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def directory_ledger(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """One row per imported directory: which file, when, counts."""
    cur = con.execute("SELECT directory, file, sha256, imported_at, read, imported, rejected FROM directories "
                      "ORDER BY directory")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


__all__ = ["DDL", "TABLES", "TABLE_NAMES", "directory_ledger", "directory_rows", "replace_directory",
           "row_key_sql"]
