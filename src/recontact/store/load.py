"""The import transaction: validate, type, deduplicate, resolve identities, insert — atomically.

Either every valid row of the file lands, or nothing does. Importing the same file again adds
nothing: rows are keyed on (source, contact_id), or on a hash of the row's content where the
source has no id. Rows that cannot be used are returned with their line and reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb
import pyarrow as pa

from recontact.engines.duckdb import set_timezone
from recontact.errors import InputFileError, StoreError
from recontact.identity.deny_list import deny_list_identifiers
from recontact.identity.email import normalize_email_sql
from recontact.identity.phone import classify_caller_id, nanp_fast_path_sql
from recontact.identity.resolve import resolve_components
from recontact.importers.base import ImportOptions, Reject, Scan, sql_ident, sql_str
from recontact.importers.csv_scan import read_csv_sql
from recontact.schema import BOOLEAN_FIELDS, CONTACT_FIELDS, NUMERIC_FIELDS
from recontact.store import validate
from recontact.store.contacts import Store

Progress = Callable[[float], None]  # called with the percentage of the import done, rising to 100
READ_SHARE = 60.0  # of the progress bar: reading the file; the rest: identities and writing
_NEXT_KEY = "next_customer_key"  # meta key: the first customer key never handed out


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


def _typed_columns(scan: Scan, region: str) -> tuple[list[str], list[str], list[str]]:
    """The staging query's parts: inner SELECT items (raw text kept as ``_raw_<field>`` beside the
    typed columns), outer SELECT items, and the reason expressions over both."""
    present = set(scan.fields)

    def raw(name: str) -> str:
        return name if name in present else "CAST(NULL AS VARCHAR)"

    inner: list[str] = []
    reasons: list[str] = []
    for name in CONTACT_FIELDS:
        kept = f"_raw_{name}"
        if name == "started_at":
            value, reason = validate.timestamp_sql(kept, name, scan.time_format)
        elif name in NUMERIC_FIELDS:
            value, reason = validate.number_sql(kept, name, name, non_negative=name != "csat")
        elif name in BOOLEAN_FIELDS:
            value, reason = validate.boolean_sql(kept, name, name)
        elif name == "channel":
            value, reason = validate.channel_sql(kept, name)
        elif name == "direction":
            value, reason = validate.direction_sql(kept, name)
        elif name == "email":
            value, reason = normalize_email_sql(validate.identifier_sql(kept)[0]), validate.NO_REASON
        elif name in ("account_id", "employee_id"):
            value, reason = validate.identifier_sql(kept)
        elif name == "phone":
            value, reason = nanp_fast_path_sql(kept, region), validate.NO_REASON
        else:
            value, reason = validate.text_sql(kept)
        inner.append(f"{value} AS {name}")
        if reason != validate.NO_REASON:
            reasons.append(reason)
    raws = [f"{raw(name)} AS _raw_{name}" for name in CONTACT_FIELDS]
    # Every scan selects _extra, but it is not in scan.fields: rows differing only in unmapped
    # columns must not be taken for duplicates.
    hashed = " || chr(31) || ".join(f"coalesce({c}, '')" for c in (*(f"_raw_{f}" for f in CONTACT_FIELDS), "_extra"))
    outer = [
        *CONTACT_FIELDS,
        "CAST(NULL AS VARCHAR) AS extension",
        "nullif(trim(_raw_phone), '') AS phone_raw",
        # An empty caller id on a call is withheld; withheld words are spotted with the slow path.
        "(nullif(trim(_raw_phone), '') IS NULL AND coalesce(channel = 'phone', false)) AS withheld",
        f"CASE WHEN contact_id IS NULL THEN 'md5:' || md5({hashed}) ELSE contact_id END AS dedupe_key",
        "_extra AS extra",
    ]
    if scan.own_lines:
        outer.append("_line")
    return [*raws, *inner], outer, reasons


def _run_with_progress(con: duckdb.DuckDBPyConnection, sql: str, progress: Progress | None,
                       share: float = READ_SHARE) -> None:
    """Execute one long statement, reporting DuckDB's own progress estimate (scaled to the first
    ``share`` percent of the whole import) from a side thread."""
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
                progress(min(float(pct), 100.0) * share / 100)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        con.execute(sql)
    finally:
        done.set()
        watcher.join()
    progress(share)


def _stage(con: duckdb.DuckDBPyConnection, scan: Scan, options: ImportOptions, path: Path,
           progress: Progress | None) -> None:
    """Read the file once into ``_staged`` (typed columns and ``_reason``), in file order: the
    table's ``rowid`` is the record's ordinal (DuckDB preserves insertion order)."""
    inner, outer, reasons = _typed_columns(scan, options.region)
    own_line = ", _line" if scan.own_lines else ""
    # A format-level reason (not JSON, unknown disposition…) says all; field reasons would be noise.
    reason = f"coalesce(_reject, nullif(concat_ws('; ', {', '.join(reasons)}), ''))"
    sql = (f"CREATE OR REPLACE TEMP TABLE _staged AS SELECT {', '.join(outer)}, {reason} AS _reason "
           f"FROM (SELECT {', '.join(inner)}, _extra, _reject{own_line} FROM ({scan.sql}))")
    try:
        _run_with_progress(con, sql, progress)
    except duckdb.OutOfMemoryException as e:
        raise StoreError(f"{path}: out of memory while reading ({str(e).splitlines()[0]}); raise memory_limit "
                         "in recontact.toml or free disk space beside the store for spilling") from None
    except duckdb.Error as e:
        message = str(e).split("\n")[0]
        raise InputFileError(f"{path}: cannot be read: {message}") from None


def _slow_phones(con: duckdb.DuckDBPyConnection, region: str) -> None:
    """Classify caller ids the SQL fast path did not, with ``phonenumbers`` (distinct values only):
    international numbers, extensions, SIP users, withheld words."""
    raws = [r[0] for r in con.execute(
        "SELECT DISTINCT phone_raw FROM _staged WHERE phone IS NULL AND phone_raw IS NOT NULL AND _reason IS NULL"
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
                "FROM _phone_lookup l WHERE _staged.phone_raw = l.raw AND _staged.phone IS NULL")
    con.unregister("_phone_lookup")


def _structural_rejects(con: duckdb.DuckDBPyConnection, scan: Scan, file: str) -> list[tuple[Reject, int]]:
    """Rows the CSV reader could not split, each with the byte offset it reported."""
    if scan.rejects_table is None:
        return []
    rows = con.execute(
        f"SELECT line, error_type, error_message, csv_line, line_byte_position FROM {scan.rejects_table} "
        "ORDER BY line"
    ).fetchall()
    # One bad line can yield several errors (one per column); keep the first of each line.
    seen: dict[int, tuple[Reject, int]] = {}
    for line, kind, message, text, offset in rows:
        reason = f"{str(kind).lower().replace('_', ' ')}: {str(message).split(chr(10))[0]}"
        seen.setdefault(int(line), (Reject(file, int(line), reason, str(text or "").strip("\r\n")), int(offset or 0)))
    return list(seen.values())


def _lines_at(path: Path, offsets: list[int]) -> list[int]:
    """The line each byte offset falls on, after any line breaks found at the offset itself
    (DuckDB's offsets for a rejected row may point at the break before it)."""
    data = path.read_bytes() if offsets else b""
    out = []
    for offset in offsets:
        while offset < len(data) and data[offset:offset + 1] in (b"\r", b"\n"):
            offset += 1
        out.append(data.count(b"\n", 0, offset) + 1)
    return out


def _line_sql(con: duckdb.DuckDBPyConnection, scan: Scan, unreadable: list[tuple[Reject, int]],
              path: Path, physical_lines: int | None) -> tuple[str, list[Reject]]:
    """SQL for a ``_staged s`` row's line in the file (the line its record starts on), and the
    unreadable rows with their lines.

    The k-th parsed record starts on line ``header_lines + k``, plus the lines set aside before it:
    unreadable lines, blank lines, and line breaks inside quoted fields of earlier records. Those
    last two are looked for only when the file has more lines than that simple count explains, so
    ordinary exports pay for one count of line breaks. (DuckDB's own line numbers for unreadable
    rows leave out line breaks inside quoted fields; their byte offsets put that right.)"""
    structural = [r for r, _ in unreadable]
    if scan.own_lines:
        return "s._line", structural
    # rowids of a table written in one statement are consecutive, in insertion (= file) order,
    # but start at an offset inside a transaction.
    base = _scalar(con, "SELECT coalesce(min(rowid), 0) FROM _staged") - 1
    records = _scalar(con, "SELECT count(*) FROM _staged")
    skipped = {r.line for r in structural if r.line is not None}
    simple = physical_lines == scan.header_lines + records + len(skipped)
    if simple and not skipped:
        return f"({scan.header_lines} + s.rowid - {base})", structural
    if not simple:
        lines = _lines_at(path, [offset for _, offset in unreadable])
        structural = [replace(r, line=line) for r, line in zip(structural, lines, strict=True)]
        skipped = set(lines)
    if simple or scan.source_sql is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _recnl AS SELECT rowid - {base} AS k, 0 AS nl FROM _staged")
    else:
        skipped |= _blank_lines(con, path, scan.encoding)
        breaks = " + ".join(f"coalesce(length({sql_ident(c)}) - length(replace({sql_ident(c)}, chr(10), '')), 0)"
                            for c in scan.source_columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _recnl AS SELECT row_number() OVER () AS k, {breaks} AS nl "
                    f"FROM {scan.source_sql}")
    # Skipped line s_j (j = 0, 1, … in order) comes before record k iff s_j - j <= b(k), where
    # b(k) is the line record k would start on with nothing skipped. Adjacent skipped lines share a
    # threshold: keep the largest count, or the ASOF join may pick a smaller one.
    before: dict[int, int] = {}
    for j, line in enumerate(sorted(skipped)):
        before[line - j] = j + 1
    con.register("_skipped_arrow", pa.table({"t": pa.array(list(before), pa.int64()),
                                             "n": pa.array(list(before.values()), pa.int64())}))
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _lines AS
        WITH r AS (
            SELECT k, {scan.header_lines} + k
                      + coalesce(sum(nl) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS b
            FROM _recnl)
        SELECT r.k, r.b + coalesce(sk.n, 0) AS line FROM r ASOF LEFT JOIN _skipped_arrow sk ON r.b >= sk.t
    """)
    con.unregister("_skipped_arrow")
    return f"(SELECT line FROM _lines WHERE _lines.k = s.rowid - {base})", structural


def _physical_lines(path: Path, encoding: str) -> int | None:
    """How many lines the file has (a last line without a line break counts); None for UTF-16."""
    if encoding == "utf-16":
        return None
    lines, last = 0, b""
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
            last = chunk[-1:]
    return lines + (1 if last not in (b"\n", b"") else 0)


def _blank_lines(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> set[int]:
    """Numbers of the empty lines of the file (the CSV reader skips them)."""
    lines, _ = read_csv_sql(path, ["line"], delimiter="\x01", encoding=encoding, header=False, quote="")
    rows = con.execute(f"SELECT n FROM (SELECT row_number() OVER () AS n, line FROM {lines}) WHERE line IS NULL")
    return {int(n) for (n,) in rows.fetchall()}


def _value_rejects(con: duckdb.DuckDBPyConnection, file: str, line: str) -> list[Reject]:
    rows = con.execute(f"SELECT {line}, _reason FROM _staged s WHERE _reason IS NOT NULL ORDER BY s.rowid").fetchall()
    return [Reject(file, int(n), str(reason)) for n, reason in rows]


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


@dataclass(frozen=True)
class _Idents:
    """SQL over ``_staged s``: each identifier as ``kind:value`` (NULL if absent or shared)."""

    parts: tuple[str, ...]
    all_parts: tuple[str, ...]
    shared_list: tuple[str, ...] = ()

    COLUMNS = (("phone", "phone"), ("extension", "extension"), ("email", "email"),
               ("account", "account_id"), ("employee", "employee_id"))

    @classmethod
    def build(cls, shared: list[str]) -> _Idents:
        raw = tuple(f"CASE WHEN s.{col} IS NOT NULL THEN '{kind}:' || s.{col} END" for kind, col in cls.COLUMNS)
        if not shared:
            return cls(raw, raw)
        listed = ", ".join(map(sql_str, shared))
        return cls(tuple(f"CASE WHEN ({p}) NOT IN ({listed}) THEN {p} END" for p in raw), raw, tuple(shared))

    def distinct_values(self) -> str:
        """SQL: every (kind, value) of the valid rows with the rowid it first appears at."""
        parts = []
        for kind, col in self.COLUMNS:
            listed = [v.partition(":")[2] for v in self.shared_list if v.startswith(f"{kind}:")]
            unlisted = f" AND s.{col} NOT IN ({', '.join(map(sql_str, listed))})" if listed else ""
            parts.append(f"SELECT '{kind}' AS kind, s.{col} AS value, min(s.rowid) AS first FROM _staged s "
                         f"WHERE s._reason IS NULL AND s.{col} IS NOT NULL{unlisted} GROUP BY s.{col}")
        return " UNION ALL ".join(parts)

    @property
    def primary(self) -> str:
        return f"coalesce({', '.join(self.parts)})"

    @property
    def count(self) -> str:
        return " + ".join(f"(({p}) IS NOT NULL)::INT" for p in self.parts)

    @property
    def shared(self) -> str:
        return f"({' + '.join(f'(({p}) IS NOT NULL)::INT' for p in self.all_parts)}) > ({self.count})"

    @property
    def listed(self) -> str:
        return f"list_filter([{', '.join(self.parts)}], lambda x: x IS NOT NULL)"


def _resolve_identities(con: duckdb.DuckDBPyConnection, ids: _Idents) -> None:
    """Give every identifier of the valid rows a customer key, linking those seen on one record."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _links AS
        SELECT DISTINCT l[1] AS a, unnest(l[2:]) AS b
        FROM (SELECT {ids.listed} AS l FROM _staged s WHERE s._reason IS NULL AND {ids.count} > 1)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _nodes AS
        SELECT n.ident, row_number() OVER (ORDER BY n.ident) - 1 AS id, coalesce(i.customer_key, 0) AS known
        FROM (SELECT a AS ident FROM _links UNION SELECT b FROM _links) n LEFT JOIN identifiers i USING (ident)
    """)
    edges = con.execute("SELECT na.id AS a, nb.id AS b FROM _links JOIN _nodes na ON na.ident = _links.a "
                        "JOIN _nodes nb ON nb.ident = _links.b").fetchnumpy()
    nodes = con.execute("SELECT known FROM _nodes ORDER BY id").fetchnumpy()
    # Keys are never reused: a key retired by a merge may have been the highest one handed out,
    # so the next free key is kept in ``meta`` as well as read off the identifiers.
    next_key = _scalar(con, f"""
        SELECT greatest((SELECT coalesce(max(customer_key), 0) + 1 FROM identifiers),
                        (SELECT coalesce(max(TRY_CAST(value AS BIGINT)), 1) FROM meta WHERE key = '{_NEXT_KEY}'))
    """)
    res = resolve_components(len(nodes["known"]), edges["a"], edges["b"], nodes["known"], next_key)
    con.register("_target_arrow", pa.table({"id": pa.array(range(len(res.target)), pa.int64()),
                                            "customer_key": pa.array(res.target, pa.int64())}))
    con.register("_merged_arrow", pa.table({"old": pa.array(res.merged_old, pa.int64()),
                                            "new": pa.array(res.merged_new, pa.int64())}))
    if len(res.merged_old):
        for table in ("identifiers", "contacts"):
            con.execute(f"UPDATE {table} SET customer_key = m.new FROM _merged_arrow m "
                        f"WHERE {table}.customer_key = m.old")
    # Linked identifiers: the new ones (known ones whose key changed were moved by the merge).
    con.execute("""
        INSERT INTO identifiers
        SELECT n.ident, split_part(n.ident, ':', 1), substr(n.ident, strpos(n.ident, ':') + 1), t.customer_key
        FROM _nodes n JOIN _target_arrow t USING (id) WHERE n.known = 0
    """)
    # Identifiers still unknown were only ever seen alone (else they would be linked by now):
    # a new customer each, keyed in order of first sighting.
    con.execute(f"""
        INSERT INTO identifiers
        SELECT n.kind || ':' || n.value, n.kind, n.value, {res.next_key} - 1 + row_number() OVER (ORDER BY n.first)
        FROM ({ids.distinct_values()}) n
        ANTI JOIN identifiers i ON i.ident = n.kind || ':' || n.value
    """)
    con.unregister("_target_arrow")
    con.unregister("_merged_arrow")
    con.execute(f"DELETE FROM meta WHERE key = '{_NEXT_KEY}'")
    con.execute(f"INSERT INTO meta SELECT '{_NEXT_KEY}', CAST(greatest({res.next_key}, "
                "coalesce(max(customer_key), 0) + 1) AS VARCHAR) FROM identifiers")


_NEW_ROWS = "FROM _staged s ANTI JOIN _drop d ON d.r = s.rowid WHERE s._reason IS NULL"


def _insert_contacts(con: duckdb.DuckDBPyConnection, source: str, import_id: int, ids: _Idents,
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
            counted = pool.submit(_physical_lines, path, scan.encoding)
            _stage(con, scan, options, path, progress)
            physical_lines = counted.result()
        _slow_phones(con, options.region)
        unreadable = _structural_rejects(con, scan, file)
        line, structural = _line_sql(con, scan, unreadable, path, physical_lines)
        rejects = sorted(structural + _value_rejects(con, file, line), key=lambda r: r.line or 0)
        staged = _scalar(con, "SELECT count(*) FROM _staged")
        valid = staged - _scalar(con, "SELECT count(*) FROM _staged WHERE _reason IS NOT NULL")
        if valid == 0:
            first = f"; first: line {rejects[0].line}: {rejects[0].reason}" if rejects else ""
            raise InputFileError(f"{file}: no valid contact in {staged + len(structural)} rows{first}")
        ids = _Idents.build(deny_list_identifiers(deny_list, options.region))
        _mark_duplicates(con, importer.NAME)
        _report(progress, 70.0)
        _resolve_identities(con, ids)
        _report(progress, 80.0)
        import_id = _scalar(con, "SELECT coalesce(max(import_id), 0) + 1 FROM imports")
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


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    rows: Any = con.execute(sql).fetchall()
    return int(rows[0][0])
