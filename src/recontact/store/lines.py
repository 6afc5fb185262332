"""Line numbers: where each record and each reject starts in the file, as an editor shows it."""

from __future__ import annotations

import mmap
from dataclasses import replace
from pathlib import Path
from typing import Any

import duckdb

from recontact.importers.base import Reject, Scan, sql_ident
from recontact.importers.csv_scan import MAX_LINE_BYTES, read_csv_sql
from recontact.store.sql import registered, scalar
from recontact.store.stage import NOT_REJECTS

_CHUNK = 1 << 24


def structural_rejects(con: duckdb.DuckDBPyConnection, scan: Scan, file: str) -> list[tuple[Reject, int]]:
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
        reason = reader_reason(scan, str(kind), str(message))
        seen.setdefault(int(line), (Reject(file, int(line), reason, str(text or "").strip("\r\n")), int(offset or 0)))
    return list(seen.values())


def reader_reason(scan: Scan, kind: str, message: str) -> str:
    """Why the CSV reader set a line aside, in the user's terms."""
    if kind in scan.reader_reasons:
        return scan.reader_reasons[kind]
    if kind == "INVALID ENCODING":
        return (f"not valid {scan.encoding.upper()} text (a byte sequence no {scan.encoding.upper()} text has); "
                "fix the row, or give --encoding latin-1 if the whole file is Latin-1")
    if kind == "LINE SIZE OVER MAXIMUM":
        return f"the line is longer than {MAX_LINE_BYTES >> 20} MiB, the most one record may take"
    return f"{kind.lower().replace('_', ' ')}: {message.split(chr(10))[0]}"


def lines_at(path: Path, offsets: list[int]) -> list[int]:
    """The line each byte offset falls on, after any line breaks found at the offset itself
    (DuckDB's offsets for a rejected row may point at the break before it). One pass over the
    file, in chunks, whatever the number of offsets."""
    if not offsets:
        return []
    out = [0] * len(offsets)
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        line, done = 1, 0
        for i in sorted(range(len(offsets)), key=offsets.__getitem__):
            offset = offsets[i]
            while offset < len(data) and data[offset:offset + 1] in (b"\r", b"\n"):
                offset += 1
            for start in range(done, offset, _CHUNK):
                line += data[start:min(start + _CHUNK, offset)].count(b"\n")
            done = max(done, offset)
            out[i] = line
    return out


def line_sql(con: duckdb.DuckDBPyConnection, scan: Scan, unreadable: list[tuple[Reject, int]],
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
        return _own_lines(con, unreadable, path)
    # rowids of a table written in one statement are consecutive, in insertion (= file) order,
    # but start at an offset inside a transaction.
    base = scalar(con, "SELECT coalesce(min(rowid), 0) FROM _staged") - 1
    records = scalar(con, "SELECT count(*) FROM _staged")
    skipped = {r.line for r in structural if r.line is not None}
    simple = physical_lines == scan.header_lines + records + len(skipped)
    if simple and not skipped:
        return f"({scan.header_lines} + s.rowid - {base})", structural
    if not simple:
        lines = lines_at(path, [offset for _, offset in unreadable])
        structural = [replace(r, line=line) for r, line in zip(structural, lines, strict=True)]
        skipped = set(lines)
    if simple or scan.source_sql is None:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _recnl AS SELECT rowid - {base} AS k, 0 AS nl FROM _staged")
    else:
        skipped |= blank_lines(con, path, scan.encoding)
        breaks = " + ".join(f"coalesce(length({sql_ident(c)}) - length(replace({sql_ident(c)}, chr(10), '')), 0)"
                            for c in scan.source_columns)
        con.execute(f"CREATE OR REPLACE TEMP TABLE _recnl AS SELECT row_number() OVER () AS k, {breaks} AS nl "
                    f"FROM {scan.source_sql}")
    # b(k): the line record k would start on with nothing skipped.
    with registered(con, "_skipped_arrow", _skipped_before(skipped)):
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _lines AS
            WITH r AS (
                SELECT k, {scan.header_lines} + k
                          + coalesce(sum(nl) OVER (ORDER BY k ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS b
                FROM _recnl)
            SELECT r.k, r.b + coalesce(sk.n, 0) AS line FROM r ASOF LEFT JOIN _skipped_arrow sk ON r.b >= sk.t
        """)
    return f"(SELECT line FROM _lines WHERE _lines.k = s.rowid - {base})", structural


def _skipped_before(skipped: set[int]) -> dict[str, Any]:
    """Columns (t, n): n lines set aside come before a record that would start on line
    b >= t with nothing set aside. Skipped line s_j (j = 0, 1, … in order) comes before record k iff
    s_j - j <= b(k). Adjacent skipped lines share a threshold: keep the largest count, or the ASOF
    join may pick a smaller one."""
    import numpy as np

    before: dict[int, int] = {}
    for j, line in enumerate(sorted(skipped)):
        before[line - j] = j + 1
    return {"t": np.array(list(before), dtype=np.int64), "n": np.array(list(before.values()), dtype=np.int64)}


def _own_lines(con: duckdb.DuckDBPyConnection, unreadable: list[tuple[Reject, int]],
               path: Path) -> tuple[str, list[Reject]]:
    """Line SQL for a scan that numbers the lines the reader returned as ``_line`` (one record per
    line): the lines the reader set aside as unreadable, placed by their byte offsets, are added
    back before the records that follow them."""
    if not unreadable:
        return "s._line", []
    lines = lines_at(path, [offset for _, offset in unreadable])
    structural = [replace(r, line=line) for (r, _), line in zip(unreadable, lines, strict=True)]
    with registered(con, "_skipped_arrow", _skipped_before(set(lines))):
        con.execute("""
            CREATE OR REPLACE TEMP TABLE _lines AS
            SELECT DISTINCT s._line AS k, s._line + coalesce(sk.n, 0) AS line FROM _staged s
            ASOF LEFT JOIN _skipped_arrow sk ON s._line >= sk.t
        """)
    return "(SELECT line FROM _lines WHERE _lines.k = s._line)", structural


def physical_lines(path: Path, encoding: str) -> tuple[int | None, bool]:
    """How many lines the file has (a last line without a line break counts), and whether it has a
    NUL byte anywhere; (None, False) for UTF-16."""
    if encoding == "utf-16":
        return None, False
    lines, last, nul = 0, b"", False
    with path.open("rb") as f:
        while chunk := f.read(1 << 24):
            lines += chunk.count(b"\n")
            nul = nul or b"\0" in chunk
            last = chunk[-1:]
    return lines + (1 if last not in (b"\n", b"") else 0), nul


def blank_lines(con: duckdb.DuckDBPyConnection, path: Path, encoding: str) -> set[int]:
    """Numbers of the empty lines of the file (the CSV reader skips them)."""
    lines, _ = read_csv_sql(path, ["line"], delimiter="\x01", encoding=encoding, header=False, quote="")
    rows = con.execute(f"SELECT n FROM (SELECT row_number() OVER () AS n, line FROM {lines}) WHERE line IS NULL")
    return {int(n) for (n,) in rows.fetchall()}


def value_rejects(con: duckdb.DuckDBPyConnection, file: str, line: str) -> list[Reject]:
    marks = ", ".join(f"'{m}'" for m in NOT_REJECTS)
    rows = con.execute(f"SELECT {line}, _reason FROM _staged s WHERE _reason IS NOT NULL AND _reason NOT IN ({marks}) "
                       "ORDER BY s.rowid").fetchall()
    return [Reject(file, int(n), str(reason)) for n, reason in rows]
