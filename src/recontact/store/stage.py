"""Reading a file once into the ``_staged`` table: typed canonical columns and a reject reason
per row, in file order, with caller ids classified."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import duckdb

from recontact.errors import InputFileError, StoreError
from recontact.identity.email import normalize_email_sql
from recontact.identity.phone import classify_caller_id, nanp_fast_path_sql
from recontact.importers.base import ImportOptions, Scan, sql_str
from recontact.schema import BOOLEAN_FIELDS, CONTACT_FIELDS, NUMERIC_FIELDS
from recontact.store import validate
from recontact.store.sql import registered

Progress = Callable[[float], None]  # called with the percentage of the import done, rising to 100
READ_SHARE = 60.0  # of the progress bar: reading the file; the rest: identities and writing
#: ``_staged._reason`` of a row the source says to skip (counted as ``skipped``, not a reject), and of
#: an event-log row folded into its contact's latest row (counted as ``folded``).
SKIPPED = "skipped"
FOLDED = "folded"
NOT_REJECTS = (SKIPPED, FOLDED)


#: The fields a row's content is made of, in this fixed order (whatever the file's column order):
#: every canonical field but the id (then the kept extra columns).
CONTENT_FIELDS = tuple(f for f in CONTACT_FIELDS if f != "contact_id")


def content_sql(columns: list[str]) -> str:
    """SQL: the text a row's content hash is taken of: ``columns`` then ``_extra`` (the unmapped
    columns: rows differing only there are other contacts), joined by the unit separator; a missing
    value is empty. (``concat`` with separators: twice as fast as ``coalesce`` and ``||``.)"""
    return f"concat({', chr(31), '.join([*columns, '_extra'])})"


def typed_columns(scan: Scan, region: str) -> tuple[list[str], list[str], list[str]]:
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
    content = content_sql([f"_raw_{f}" for f in CONTENT_FIELDS])
    outer = [
        *CONTACT_FIELDS,
        "CAST(NULL AS VARCHAR) AS extension",
        "nullif(trim(_raw_phone), '') AS phone_raw",
        # An empty caller id on a call is withheld; withheld words are spotted with the slow path. A
        # source without a caller id column (a ticket's caller is a person) withholds nothing.
        ("(nullif(trim(_raw_phone), '') IS NULL AND coalesce(channel = 'phone', false)"
         f"{' AND NOT coalesce(_no_caller_id, false)' if scan.no_caller_id else ''})" if "phone" in present
         else "false") + " AS withheld",
        f"CASE WHEN contact_id IS NULL THEN 'md5:' || md5({content}) ELSE contact_id END AS dedupe_key",
        "_extra AS extra",
    ]
    return [*raws, *inner], outer, reasons


def run_with_progress(con: duckdb.DuckDBPyConnection, sql: str, progress: Progress | None,
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


def stage(con: duckdb.DuckDBPyConnection, scan: Scan, options: ImportOptions, path: Path,
           progress: Progress | None) -> None:
    """Read the file once into ``_staged`` (typed columns and ``_reason``), in file order: the
    table's ``rowid`` is the record's ordinal (DuckDB preserves insertion order)."""
    inner, outer, reasons = typed_columns(scan, options.region)
    carried = "".join(f", {c}" for c in carried_columns(scan))
    # A format-level reason (not JSON, unknown disposition…) says all; field reasons would be noise.
    reason = f"coalesce(_reject, nullif(concat_ws('; ', {', '.join(reasons)}), ''))"
    if scan.skips:  # a row to skip is neither validated nor rejected
        reason = f"CASE WHEN coalesce(_skip, false) THEN {sql_str(SKIPPED)} ELSE {reason} END"
    sql = (f"CREATE OR REPLACE TEMP TABLE _staged AS SELECT {', '.join(outer)}, {reason} AS _reason{carried} "
           f"FROM (SELECT {', '.join(inner)}, _extra, _reject{carried} FROM ({scan.sql}))")
    try:
        run_with_progress(con, sql, progress)
    except duckdb.OutOfMemoryException as e:
        raise StoreError(f"{path}: out of memory while reading ({str(e).splitlines()[0]}); raise memory_limit "
                         "in recontact.toml or free disk space beside the store for spilling") from None
    except duckdb.Error as e:
        message = str(e).split("\n")[0]
        if _PARSER_STATE in message:
            raise UnreadableLineEnds(f"{path}: cannot be read: {message}") from None
        raise InputFileError(f"{path}: cannot be read: {message}") from None


def carried_columns(scan: Scan) -> list[str]:
    """The scan's own columns the staging table keeps beside the typed ones: the line number, the
    skip mark, the event id and ordering values."""
    out = ["_line"] if scan.own_lines else []
    if scan.skips:
        out.append("_skip")
    if scan.events is not None:
        out += ["_event_id", *(f"_event_order_{i}" for i in range(1, len(scan.events.order) + 1))]
    if scan.no_caller_id:
        out.append("_no_caller_id")
    return out


#: DuckDB's strict CSV reader stops with this on a file mixing CRLF and LF line ends.
_PARSER_STATE = "state machine reached an invalid state"


class UnreadableLineEnds(InputFileError):
    """The CSV reader stopped on the file's line ends (it mixes CRLF and LF, or has a bare CR)."""


def reject_nul_rows(con: duckdb.DuckDBPyConnection) -> None:
    """Reject the staged rows with a NUL byte in a text column, naming the columns (a NUL in a typed
    column already makes the value invalid). Run only when the file has a NUL byte at all."""
    text = [c for c, kind in CONTACT_FIELDS.items() if kind == "VARCHAR" and c != "phone"]
    checks = {**{c: f"contains({c}, chr(0))" for c in text}, "phone": "contains(phone_raw, chr(0))",
              # json_object() writes a NUL as the escape \u0000
              "an unmapped column": "contains(extra, '\\u0000')"}
    named = ", ".join(f"CASE WHEN {test} THEN {sql_str(name)} END" for name, test in checks.items())
    # A NUL in a typed value (a time, a number) shows in that value's reason: made visible as \0.
    con.execute(f"""
        UPDATE _staged SET _reason = concat_ws('; ', 'a NUL byte in ' || nullif(concat_ws(', ', {named}), ''),
                                               CASE WHEN contains(_reason, chr(0)) THEN 'a NUL byte in a value' END,
                                               replace(_reason, chr(0), '\\0'))
        WHERE ({' OR '.join(f'coalesce({t}, false)' for t in checks.values())} OR contains(_reason, chr(0)))
          AND _reason IS DISTINCT FROM {sql_str(SKIPPED)}
    """)


def slow_phones(con: duckdb.DuckDBPyConnection, region: str, placeholders: tuple[str, ...] = ()) -> None:
    """Classify caller ids the SQL fast path did not, with ``phonenumbers`` (distinct values only):
    international numbers, extensions, SIP users, withheld and placeholder words, invalid numbers
    (which stay without a phone and an extension)."""
    import numpy as np  # here, not at the top: NumPy loads beside DuckDB's read (store/load.py)

    raws = [r[0] for r in con.execute(
        "SELECT DISTINCT phone_raw FROM _staged WHERE phone IS NULL AND phone_raw IS NOT NULL AND _reason IS NULL"
    ).fetchall()]
    if not raws:
        return
    classified = [classify_caller_id(r, region, placeholders) for r in raws]
    with registered(con, "_phone_lookup", {
        "raw": np.array(raws, dtype=object),
        "phone": np.array([c.value if c.kind == "phone" else None for c in classified], dtype=object),
        "extension": np.array([c.value if c.kind == "extension" else None for c in classified], dtype=object),
        "withheld": np.array([c.kind == "withheld" for c in classified], dtype=bool),
    }):
        con.execute("UPDATE _staged SET phone = CAST(l.phone AS VARCHAR), extension = CAST(l.extension AS VARCHAR), "
                    "withheld = l.withheld FROM _phone_lookup l "
                    "WHERE _staged.phone_raw = l.raw AND _staged.phone IS NULL")
