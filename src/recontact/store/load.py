"""The import transaction: validate, type, deduplicate, resolve identities, insert — atomically.

Either every valid row of the file lands, or nothing does. Importing the same file again adds
nothing: rows are keyed on (source, contact_id), or on a hash of the row's content where the
source has no id. Rows that cannot be used are returned with their line and reason.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import duckdb

from recontact.engines.duckdb import set_timezone
from recontact.errors import InputFileError
from recontact.identity.deny_list import deny_list_identifiers
from recontact.importers.base import ImportOptions, Reject, Scan, sql_str
from recontact.schema import CONTACT_FIELDS
from recontact.store.contacts import Store
from recontact.store.identities import IdentifierSql, resolve_identities
from recontact.store.lines import line_sql, physical_lines, structural_rejects, value_rejects
from recontact.store.sql import scalar
from recontact.store.stage import Progress, slow_phones, stage

__all__ = ["ImportSummary", "Progress", "import_file"]


@dataclass
class ImportSummary:
    """What an import did. ``read`` = ``imported + duplicates + rejected``."""

    file: str
    source: str
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: int = 0
    unidentified: int = 0
    withheld: int = 0
    shared: int = 0
    rejects: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects_file: str | None = None


def _mark_duplicates(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """``_drop``: rowids of valid rows already in the store, or repeating an earlier row of the file."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _drop AS
        SELECT s.rowid AS r FROM _staged s
        SEMI JOIN (SELECT coalesce(contact_id, content_hash) AS dedupe_key FROM contacts
                   WHERE source = {sql_str(source)}) c USING (dedupe_key)
        WHERE s._reason IS NULL
        UNION
        SELECT r FROM (
            SELECT rowid AS r, dedupe_key FROM _staged
            WHERE _reason IS NULL AND dedupe_key IN (
                SELECT dedupe_key FROM _staged WHERE _reason IS NULL GROUP BY 1 HAVING count(*) > 1)
        ) QUALIFY row_number() OVER (PARTITION BY dedupe_key ORDER BY r) > 1
    """)


_NEW_ROWS = "FROM _staged s ANTI JOIN _drop d ON d.r = s.rowid WHERE s._reason IS NULL"


def _insert_contacts(con: duckdb.DuckDBPyConnection, source: str, import_id: int, ids: IdentifierSql,
                     line: str) -> tuple[int, int, int, int]:
    """Insert the new rows; return (imported, unidentified, withheld, shared) counts."""
    canonical = ", ".join(f"s.{c}" for c in CONTACT_FIELDS)
    line = line.replace("s.rowid", "s.r")
    # Row order in the store carries no meaning (``line`` keeps the file order): let DuckDB write in parallel.
    con.execute("SET preserve_insertion_order = false")
    try:
        con.execute(f"""
            INSERT INTO contacts
            SELECT {sql_str(source)}, CASE WHEN s.contact_id IS NULL THEN s.dedupe_key END, {import_id}, {line},
                   {canonical}, s.extension, s.phone_raw,
                   s.withheld, {ids.shared}, i.customer_key, s.extra
            FROM (SELECT s.rowid AS r, s.* {_NEW_ROWS}) s
            LEFT JOIN identifiers i ON i.ident = {ids.primary}
        """)
    finally:  # the staging of the next import relies on insertion order
        con.execute("RESET preserve_insertion_order")
    counts = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE {ids.primary} IS NULL), count(*) FILTER (WHERE s.withheld),
               count(*) FILTER (WHERE {ids.shared}) {_NEW_ROWS}
    """).fetchall()[0]
    return int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3])


def import_file(store: Store, path: Path, importer: ModuleType, options: ImportOptions, *,
                deny_list: tuple[str, ...] = (), progress: Progress | None = None) -> ImportSummary:
    """Import one file into the store, atomically and idempotently; see the module docstring.

    Raises InputFileError when the file cannot be read at all, or when no row of it is valid.
    """
    con = store.con
    file = str(path)
    scan: Scan = importer.scan(con, path, options)
    summary = ImportSummary(file=file, source=importer.NAME, notes=list(scan.notes))
    set_timezone(con, options.tz)
    con.execute("BEGIN TRANSACTION")
    try:
        # Counting the file's lines overlaps DuckDB's read (which releases the GIL).
        with ThreadPoolExecutor(max_workers=1) as pool:
            counted = None if scan.own_lines else pool.submit(physical_lines, path, scan.encoding)
            stage(con, scan, options, path, progress)
            lines_in_file = counted.result() if counted else None
        slow_phones(con, options.region)
        unreadable = structural_rejects(con, scan, file)
        line, structural = line_sql(con, scan, unreadable, path, lines_in_file)
        rejects = sorted(structural + value_rejects(con, file, line), key=lambda r: r.line or 0)
        staged = scalar(con, "SELECT count(*) FROM _staged")
        valid = staged - scalar(con, "SELECT count(*) FROM _staged WHERE _reason IS NOT NULL")
        if valid == 0:
            first = f"; first: line {rejects[0].line}: {rejects[0].reason}" if rejects else ""
            raise InputFileError(f"{file}: no valid contact in {staged + len(structural)} rows{first}")
        ids = IdentifierSql.build(deny_list_identifiers(deny_list, options.region))
        _mark_duplicates(con, importer.NAME)
        _report(progress, 70.0)
        resolve_identities(con, ids)
        _report(progress, 80.0)
        import_id = scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")
        counts = _insert_contacts(con, importer.NAME, import_id, ids, line)
        summary.imported, summary.unidentified, summary.withheld, summary.shared = counts
        _report(progress, 100.0)
        summary.rejected = len(rejects)
        summary.rejects = rejects
        summary.read = staged + len(structural)
        summary.duplicates = valid - summary.imported
        con.execute("INSERT INTO imports VALUES (?, ?, ?, now(), ?, ?, ?, ?, ?)",
                    [import_id, file, importer.NAME, summary.read, summary.imported, summary.duplicates,
                     summary.rejected, summary.unidentified])
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        for table in ("_staged", "_drop", "_links", "_lines", "_nodes", "_recnl"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        if scan.rejects_table:
            con.execute(f"DROP TABLE IF EXISTS {scan.rejects_table}")
            con.execute(f"DROP TABLE IF EXISTS {scan.rejects_table}_scan")
    return summary


def _report(progress: Progress | None, pct: float) -> None:
    if progress is not None:
        progress(pct)
