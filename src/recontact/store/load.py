"""The import transaction: validate, type, deduplicate, resolve identities, insert — atomically.

Either every valid row of the file lands, or nothing does. Importing the same file again adds
nothing: rows are keyed on (source, contact_id), or on a hash of the row's content where the
source has no id. Rows that cannot be used are returned with their line and reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pyarrow as pa

from recontact.engines.duckdb import set_timezone
from recontact.errors import InputFileError
from recontact.identity.email import normalize_email_sql
from recontact.identity.phone import classify_caller_id, nanp_fast_path_sql, withheld_sql
from recontact.identity.resolve import resolve_links
from recontact.importers.base import ImportOptions, Reject, Scan, sql_str
from recontact.schema import BOOLEAN_FIELDS, CONTACT_FIELDS, NUMERIC_FIELDS
from recontact.store import validate
from recontact.store.contacts import Store

Progress = Callable[[float], None]  # called with 0..100 while the file is read


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


def _typed_columns(scan: Scan, region: str) -> tuple[list[str], list[str]]:
    """SELECT items producing every canonical column, and the reason expressions."""
    present = set(scan.fields)

    def raw(name: str) -> str:
        return name if name in present else "CAST(NULL AS VARCHAR)"

    items: list[str] = []
    reasons: list[str] = []
    for name in CONTACT_FIELDS:
        col = raw(name)
        if name == "started_at":
            value, reason = validate.timestamp_sql(col, scan.time_format)
        elif name in NUMERIC_FIELDS:
            value, reason = validate.number_sql(col, name, non_negative=name != "csat")
        elif name in BOOLEAN_FIELDS:
            value, reason = validate.boolean_sql(col, name)
        elif name == "channel":
            value, reason = validate.channel_sql(col)
        elif name == "direction":
            value, reason = validate.direction_sql(col)
        elif name == "email":
            value, reason = normalize_email_sql(col), "NULL"
        elif name == "phone":
            value, reason = nanp_fast_path_sql(col, region), "NULL"
        else:
            value, reason = validate.text_sql(col)
        items.append(f"{value} AS {name}")
        reasons.append(reason)
    phone = raw("phone")
    items += [
        "CAST(NULL AS VARCHAR) AS extension",
        f"nullif(trim({phone}), '') AS phone_raw",
        f"CASE WHEN {validate.text_sql(phone)[0]} IS NULL THEN coalesce({validate.channel_sql(raw('channel'))[0]} "
        f"= 'phone', false) ELSE {withheld_sql(phone)} END AS withheld",
    ]
    hashed = " || chr(31) || ".join(f"coalesce({raw(f)}, '')" for f in (*CONTACT_FIELDS, "_extra"))
    items.append(f"coalesce(nullif(trim({raw('contact_id')}), ''), 'md5:' || md5({hashed})) AS dedupe_key")
    items.append("_extra AS extra")
    return items, reasons


def _run_with_progress(con: duckdb.DuckDBPyConnection, sql: str, progress: Progress | None) -> None:
    """Execute one long statement, reporting DuckDB's own progress estimate from a side thread."""
    if progress is None:
        con.execute(sql)
        return
    done = threading.Event()

    def poll() -> None:
        while not done.wait(0.2):
            try:
                pct = con.query_progress()
            except duckdb.Error:
                return
            if pct is not None and pct >= 0:
                progress(float(pct))

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        con.execute(sql)
    finally:
        done.set()
        watcher.join()
    progress(100.0)


def _stage(con: duckdb.DuckDBPyConnection, scan: Scan, options: ImportOptions, path: Path,
           progress: Progress | None) -> None:
    """Read the file once into ``_staged``: typed columns, ``_line``, ``_reason``."""
    items, reasons = _typed_columns(scan, options.region)
    reason = f"concat_ws('; ', _reject, {', '.join(reasons)})"
    line = "_line" if _has_own_lines(scan) else "row_number() OVER ()"
    sql = (f"CREATE OR REPLACE TEMP TABLE _staged AS SELECT _ord, {', '.join(items)}, "
           f"nullif({reason}, '') AS _reason FROM (SELECT {line} AS _ord, * FROM ({scan.sql}))")
    try:
        _run_with_progress(con, sql, progress)
    except duckdb.Error as e:
        message = str(e).split("\n")[0]
        raise InputFileError(f"{path}: cannot be read: {message}") from None


def _slow_phones(con: duckdb.DuckDBPyConnection, region: str) -> None:
    """Classify caller ids the SQL fast path did not, with ``phonenumbers`` (distinct values only)."""
    raws = [r[0] for r in con.execute(
        "SELECT DISTINCT phone_raw FROM _staged WHERE phone IS NULL AND NOT withheld AND _reason IS NULL"
    ).fetchall()]
    if not raws:
        return
    classified = [classify_caller_id(r, region) for r in raws]
    table = pa.table({
        "raw": raws,
        "phone": [c.value if c.kind == "phone" else None for c in classified],
        "extension": [c.value if c.kind == "extension" else None for c in classified],
        "withheld": [c.kind == "withheld" for c in classified],
    })
    con.register("_phone_lookup", table)
    con.execute("UPDATE _staged SET phone = l.phone, extension = l.extension, withheld = l.withheld "
                "FROM _phone_lookup l WHERE _staged.phone_raw = l.raw AND _staged.phone IS NULL "
                "AND NOT _staged.withheld")
    con.unregister("_phone_lookup")


def _structural_rejects(con: duckdb.DuckDBPyConnection, scan: Scan, file: str) -> list[Reject]:
    if scan.rejects_table is None:
        return []
    rows = con.execute(
        f"SELECT line, error_type, error_message, csv_line FROM {scan.rejects_table} ORDER BY line"
    ).fetchall()
    # One bad line can yield several errors (one per column); keep the first of each line.
    seen: dict[int, Reject] = {}
    for line, kind, message, text in rows:
        reason = f"{str(kind).lower().replace('_', ' ')}: {str(message).split(chr(10))[0]}"
        seen.setdefault(int(line), Reject(file, int(line), reason, str(text or "")))
    return list(seen.values())


def _number_lines(con: duckdb.DuckDBPyConnection, scan: Scan, structural: list[Reject]) -> None:
    """Add ``_line`` (the record's line in the file) to ``_staged``.

    The k-th parsed record sits on line ``header_lines + k`` plus the unreadable lines the reader
    set aside before it (one physical line per record assumed, as in every export we know)."""
    if _has_own_lines(scan):
        con.execute("ALTER TABLE _staged ADD COLUMN _line BIGINT")
        con.execute("UPDATE _staged SET _line = _ord")
        return
    skipped = sorted({r.line for r in structural if r.line is not None})
    # The j-th skipped line (1-based) falls before record k iff line_j - header - (j - 1) <= k.
    firsts = [line - scan.header_lines - j for j, line in enumerate(skipped)]
    con.register("_skipped_arrow", pa.table({"t": pa.array(firsts, pa.int64()),
                                             "n": pa.array(range(1, len(firsts) + 1), pa.int64())}))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _staged AS
        SELECT s.*, {scan.header_lines} + s._ord + coalesce(k.n, 0) AS _line
        FROM _staged s ASOF LEFT JOIN _skipped_arrow k ON s._ord >= k.t
    """ if firsts else f"CREATE OR REPLACE TEMP TABLE _staged AS SELECT *, {scan.header_lines} + _ord AS _line "
                       "FROM _staged")
    con.unregister("_skipped_arrow")


def _has_own_lines(scan: Scan) -> bool:
    return "_line" in scan.sql.split("FROM")[0]


def _value_rejects(con: duckdb.DuckDBPyConnection, file: str) -> list[Reject]:
    rows = con.execute("SELECT _line, _reason FROM _staged WHERE _reason IS NOT NULL ORDER BY _ord").fetchall()
    return [Reject(file, int(line), str(reason)) for line, reason in rows]


def _select_new(con: duckdb.DuckDBPyConnection, source: str, shared_idents: list[str]) -> None:
    """``_new``: valid rows not in the store yet, the first of any in-file repeats kept."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _new AS
        SELECT s.*, list_filter([
                 CASE WHEN s.phone IS NOT NULL THEN 'phone:' || s.phone END,
                 CASE WHEN s.extension IS NOT NULL THEN 'extension:' || s.extension END,
                 CASE WHEN s.email IS NOT NULL THEN 'email:' || s.email END,
                 CASE WHEN s.account_id IS NOT NULL THEN 'account:' || s.account_id END,
                 CASE WHEN s.employee_id IS NOT NULL THEN 'employee:' || s.employee_id END
               ], lambda x: x IS NOT NULL AND NOT list_contains(_SHARED_, x)) AS _idents,
               (s.phone IS NOT NULL)::INT + (s.extension IS NOT NULL)::INT + (s.email IS NOT NULL)::INT
               + (s.account_id IS NOT NULL)::INT + (s.employee_id IS NOT NULL)::INT AS _n_ids
        FROM _staged s
        ANTI JOIN (SELECT dedupe_key FROM contacts WHERE source = {sql_str(source)}) c USING (dedupe_key)
        WHERE s._reason IS NULL
        QUALIFY row_number() OVER (PARTITION BY s.dedupe_key ORDER BY s._ord) = 1
    """.replace("_SHARED_", "CAST([" + ", ".join(map(sql_str, shared_idents)) + "] AS VARCHAR[])"))


def _resolve_identities(con: duckdb.DuckDBPyConnection) -> None:
    """Give every identifier in ``_new`` a customer key, linking those seen on one record."""
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _links AS
        SELECT DISTINCT _idents[1] AS a, unnest(_idents[2:]) AS b FROM _new WHERE len(_idents) > 1
    """)
    links = con.execute("SELECT a, b FROM _links").fetchall()
    known = dict(con.execute("""
        SELECT i.ident, i.customer_key FROM identifiers i
        SEMI JOIN (SELECT a AS ident FROM _links UNION SELECT b FROM _links) l USING (ident)
    """).fetchall())
    next_key = _scalar(con, "SELECT coalesce(max(customer_key), 0) + 1 FROM identifiers")
    res = resolve_links(links, known, next_key)
    con.register("_assigned_arrow", pa.table({
        "ident": list(res.assigned), "customer_key": pa.array(list(res.assigned.values()), pa.int64()),
    }))
    con.register("_merged_arrow", pa.table({
        "old": pa.array(list(res.merged), pa.int64()), "new": pa.array(list(res.merged.values()), pa.int64()),
    }))
    if res.merged:
        for table in ("identifiers", "contacts"):
            con.execute(f"UPDATE {table} SET customer_key = m.new FROM _merged_arrow m "
                        f"WHERE {table}.customer_key = m.old")
    # Linked identifiers (new ones, and known ones whose key just changed).
    con.execute("DELETE FROM identifiers WHERE ident IN (SELECT ident FROM _assigned_arrow)")
    con.execute("INSERT INTO identifiers SELECT ident, split_part(ident, ':', 1), "
                "substr(ident, strpos(ident, ':') + 1), customer_key FROM _assigned_arrow")
    # Identifiers seen alone on every record: a new customer each, keyed in identifier order.
    con.execute(f"""
        INSERT INTO identifiers
        SELECT ident, split_part(ident, ':', 1), substr(ident, strpos(ident, ':') + 1),
               {res.next_key} - 1 + row_number() OVER (ORDER BY ident)
        FROM (SELECT DISTINCT _idents[1] AS ident FROM _new WHERE len(_idents) = 1) n
        ANTI JOIN identifiers USING (ident)
    """)
    con.unregister("_assigned_arrow")
    con.unregister("_merged_arrow")


def _insert_contacts(con: duckdb.DuckDBPyConnection, source: str, import_id: int) -> None:
    canonical = ", ".join(f"n.{c}" for c in CONTACT_FIELDS)
    con.execute(f"""
        INSERT INTO contacts
        SELECT {sql_str(source)}, n.dedupe_key, {import_id}, n._line, {canonical}, n.extension, n.phone_raw,
               n.withheld, n._shared, i.customer_key, n.extra
        FROM (SELECT *, len(_idents) < _n_ids AS _shared FROM _new) n
        LEFT JOIN identifiers i ON i.ident = n._idents[1]
    """)


def _shared_identifiers(deny_list: tuple[str, ...], region: str) -> list[str]:
    """``kind:value`` forms of the deny-list entries (phone numbers or e-mail addresses)."""
    out = []
    for entry in deny_list:
        if "@" in entry:
            out.append(f"email:{entry.strip().casefold()}")
        else:
            ident = classify_caller_id(entry, region).identifier
            if ident:
                out.append(ident)
    return out


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
        _stage(con, scan, options, path, progress)
        _slow_phones(con, options.region)
        structural = _structural_rejects(con, scan, file)
        _number_lines(con, scan, structural)
        rejects = sorted(structural + _value_rejects(con, file),
                         key=lambda r: r.line or 0)
        staged = _scalar(con, "SELECT count(*) FROM _staged")
        valid = staged - _scalar(con, "SELECT count(*) FROM _staged WHERE _reason IS NOT NULL")
        if valid == 0:
            first = f"; first: line {rejects[0].line}: {rejects[0].reason}" if rejects else ""
            raise InputFileError(f"{file}: no valid contact in {staged + len(structural)} rows{first}")
        _select_new(con, importer.NAME, _shared_identifiers(deny_list, options.region))
        _resolve_identities(con)
        import_id = _scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")
        _insert_contacts(con, importer.NAME, import_id)
        counts = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE len(_idents) = 0), count(*) FILTER (WHERE withheld), "
            "count(*) FILTER (WHERE len(_idents) < _n_ids) FROM _new"
        ).fetchall()[0]
        summary.imported, summary.unidentified, summary.withheld, summary.shared = map(int, counts)
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
        for table in ("_staged", "_new", "_links"):
            con.execute(f"DROP TABLE IF EXISTS {table}")
        if scan.rejects_table:
            con.execute(f"DROP TABLE IF EXISTS {scan.rejects_table}")
            con.execute(f"DROP TABLE IF EXISTS {scan.rejects_table}_scan")
    return summary


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows: Any = con.execute(sql).fetchall()
    return int(rows[0][0])
