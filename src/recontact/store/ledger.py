"""The import ledger: which file (size, SHA-256), from which system, read with which options, with
what counts — and taking one import back out.

An import's options are the ones that change what its rows become: format, system, column map,
time zone, time format, encoding, delimiter and phone region. The same file content with the same
options is the same import; with other options it replaces the earlier one (see ``store/load.py``).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from recontact.errors import RecontactError
from recontact.importers.base import ImportOptions
from recontact.store.identities import NEXT_KEY, IdentifierSql
from recontact.store.sql import scalar

NEXT_IMPORT = "next_import_id"  # meta key: import ids are never reused, also after a removal

#: The ledger's columns, in the order ``recontact imports`` lists them.
FIELDS = ("import_id", "file", "size", "sha256", "system", "format", "options", "read", "imported",
          "duplicates", "conflicts", "rejected", "skipped", "imported_at")


class UnknownImportError(LookupError, RecontactError):
    """No import has this id."""


def options_json(options: ImportOptions) -> str:
    """The options an import was read with, as canonical JSON (sorted keys): equal text, same reading."""
    read: dict[str, object] = {
        "column_map": dict(sorted(options.column_map.items())), "tz": options.tz,
        "time_format": options.time_format, "encoding": options.encoding, "delimiter": options.delimiter,
        "region": options.region,
    }
    if options.asterisk.configured():  # the desk's own Asterisk lines decide directions
        read["asterisk"] = {"extensions": list(options.asterisk.extensions), "queues": list(options.asterisk.queues),
                            "contexts": list(options.asterisk.contexts)}
    return json.dumps(read, sort_keys=True, ensure_ascii=False)


def file_sha256(path: Path) -> str:
    """SHA-256 of the file's bytes, in hex (hashlib releases the GIL: runs beside DuckDB's read)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def imports_of_size(con: duckdb.DuckDBPyConnection, size: int) -> bool:
    """Whether any import was of a file of ``size`` bytes (only then can the content be the same)."""
    return scalar(con, f"SELECT count(*) FROM imports WHERE size = {int(size)}") > 0


def same_content(con: duckdb.DuckDBPyConnection, sha256: str) -> dict[str, Any] | None:
    """The import of a file with this SHA-256, if any (there is at most one: a re-import either
    changes nothing or replaces it)."""
    rows = list_imports(con, sha256=sha256)
    return rows[0] if rows else None


def next_import_id(con: duckdb.DuckDBPyConnection) -> int:
    """The id the next import gets (never one a removed import had)."""
    return scalar(con, f"""
        SELECT greatest((SELECT coalesce(max(import_id), 0) + 1 FROM imports),
                        (SELECT coalesce(max(TRY_CAST(value AS BIGINT)), 1) FROM meta WHERE key = '{NEXT_IMPORT}'))
    """)


def record_import(con: duckdb.DuckDBPyConnection, row: dict[str, Any]) -> None:
    """Add one import to the ledger (``row`` has every column of ``imports`` but ``imported_at``)."""
    con.execute("INSERT INTO imports BY NAME SELECT * FROM (SELECT now() AS imported_at, "
                + ", ".join(f"? AS {k}" for k in row) + ")", list(row.values()))
    con.execute("DELETE FROM meta WHERE key = ?", [NEXT_IMPORT])
    con.execute("INSERT INTO meta VALUES (?, ?)", [NEXT_IMPORT, str(int(row["import_id"]) + 1)])


def list_imports(con: duckdb.DuckDBPyConnection, *, sha256: str | None = None) -> list[dict[str, Any]]:
    """Every import in the ledger (or those of one file content), oldest first; ``options`` as a dict."""
    where = "WHERE sha256 = ?" if sha256 else ""
    cur = con.execute(f"SELECT {', '.join(FIELDS)} FROM imports {where} ORDER BY import_id",
                      [sha256] if sha256 else [])
    rows = [dict(zip(FIELDS, r, strict=True)) for r in cur.fetchall()]
    for r in rows:
        r["options"] = json.loads(r["options"]) if r["options"] else {}
    return rows


def remove_import_rows(con: duckdb.DuckDBPyConnection, import_id: int, ids: IdentifierSql) -> dict[str, Any]:
    """Delete the contacts import ``import_id`` added and its ledger row, then re-resolve the
    customers those contacts belonged to (inside the caller's transaction). Returns the ledger row.

    Raises UnknownImportError when there is no such import."""
    rows = [r for r in list_imports(con) if r["import_id"] == import_id]
    if not rows:
        known = ", ".join(str(r["import_id"]) for r in list_imports(con)) or "none"
        raise UnknownImportError(f"no import {import_id} in this store (imports: {known}; see recontact imports)")
    con.execute("CREATE OR REPLACE TEMP TABLE _affected AS SELECT DISTINCT customer_key FROM contacts "
                f"WHERE import_id = {int(import_id)} AND customer_key IS NOT NULL")
    con.execute(f"DELETE FROM contacts WHERE import_id = {int(import_id)}")
    con.execute(f"DELETE FROM imports WHERE import_id = {int(import_id)}")
    reresolve_keys(con, ids)
    con.execute("DROP TABLE IF EXISTS _affected")
    return rows[0]


def reresolve_keys(con: duckdb.DuckDBPyConnection, ids: IdentifierSql) -> None:
    """Re-link the customers whose keys are in ``_affected`` from the contacts still carrying them.

    Identifiers no contact uses any more are dropped; identifiers that no remaining record links
    come apart. Each resulting customer takes the smallest ``first_key`` of its identifiers — the
    key it had before the removed contacts joined it to others — and when two parts would take
    the same key, the part with most identifiers keeps it and the others get new keys."""
    affected = "SELECT customer_key FROM _affected"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _rc AS SELECT {ids.listed} AS l FROM contacts s "
                f"WHERE s.customer_key IN ({affected})")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _rnodes AS
        SELECT n.ident, row_number() OVER (ORDER BY n.ident) - 1 AS id, i.first_key
        FROM (SELECT DISTINCT unnest(l) AS ident FROM _rc) n JOIN identifiers i USING (ident)
    """)
    edges = con.execute("""
        SELECT na.id AS a, nb.id AS b FROM (SELECT DISTINCT l[1] AS a, unnest(l[2:]) AS b FROM _rc WHERE len(l) > 1) e
        JOIN _rnodes na ON na.ident = e.a JOIN _rnodes nb ON nb.ident = e.b
    """).fetchnumpy()
    n = scalar(con, "SELECT count(*) FROM _rnodes")
    graph = coo_matrix((np.ones(len(edges["a"]), dtype=np.int8), (edges["a"], edges["b"])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    con.register("_rcomp", pa.table({"id": pa.array(np.arange(n), pa.int64()), "comp": pa.array(comp, pa.int64())}))
    next_key = scalar(con, f"""
        SELECT greatest((SELECT coalesce(max(customer_key), 0) + 1 FROM identifiers),
                        (SELECT coalesce(max(TRY_CAST(value AS BIGINT)), 1) FROM meta WHERE key = '{NEXT_KEY}'))
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rkeys AS
        WITH parts AS (
            SELECT c.comp, min(n.first_key) AS claim, count(*) AS size
            FROM _rnodes n JOIN _rcomp c USING (id) GROUP BY c.comp),
        ranked AS (
            SELECT comp, claim, row_number() OVER (PARTITION BY claim ORDER BY size DESC, comp) AS nth FROM parts),
        keyed AS (
            SELECT comp, CASE WHEN nth = 1 THEN claim
                              ELSE {next_key} - 1 + row_number() OVER (PARTITION BY nth = 1 ORDER BY comp) END AS key
            FROM ranked)
        SELECT n.ident, k.key AS customer_key FROM _rnodes n JOIN _rcomp c USING (id) JOIN keyed k USING (comp)
    """)
    con.unregister("_rcomp")
    con.execute(f"DELETE FROM identifiers WHERE customer_key IN ({affected}) "
                "AND ident NOT IN (SELECT ident FROM _rkeys)")
    con.execute("UPDATE identifiers SET customer_key = k.customer_key FROM _rkeys k "
                "WHERE identifiers.ident = k.ident AND identifiers.customer_key <> k.customer_key")
    con.execute(f"""
        UPDATE contacts AS s SET customer_key = k.customer_key FROM _rkeys k
        WHERE s.customer_key IN ({affected}) AND k.ident = {ids.primary} AND s.customer_key <> k.customer_key
    """)
    con.execute(f"DELETE FROM meta WHERE key = '{NEXT_KEY}'")
    con.execute(f"INSERT INTO meta SELECT '{NEXT_KEY}', CAST(greatest({next_key}, coalesce(max(customer_key), 0) + 1) "
                "AS VARCHAR) FROM identifiers")
    for table in ("_rc", "_rnodes", "_rkeys"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
