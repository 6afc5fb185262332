"""The import transaction: validate, type, classify, resolve identities, insert — atomically.

Either every valid row of the file lands, or nothing does. A row's identity is (system,
contact_id), or (system, hash of its content) where the source has no id; the system is
``--system`` (default: the format name). A row whose identity is already stored (or earlier in
the file) is a duplicate when its content is the same, a conflict when it is not; neither is
imported, conflicts are reported like rejects. Rows that cannot be used are returned with their
line and reason. Every import is written to the ledger (``store/ledger.py``); the same file
content again with the same options changes nothing, with other options replaces that import.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import duckdb

from recontact.engines.duckdb import set_timezone
from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Reject, Scan, sql_str
from recontact.importers.plain import plain_file
from recontact.importers.text import lf_copy, mixed_line_ends
from recontact.schema import CONTACT_FIELDS
from recontact.store.contacts import Store
from recontact.store.events import fold_events
from recontact.store.identities import COLUMNS, Hygiene, Resolved, record_identifiers, resolve, row_keys
from recontact.store.ledger import (
    file_sha256,
    imports_of_size,
    next_import_id,
    options_json,
    record_import,
    remove_import_rows,
    same_content,
)
from recontact.store.lines import line_sql, physical_lines, structural_rejects, value_rejects
from recontact.store.sql import scalar
from recontact.store.stage import (
    CONTENT_FIELDS,
    SKIPPED,
    Progress,
    UnreadableLineEnds,
    reject_nul_rows,
    slow_phones,
    stage,
)
from recontact.wording import plural

__all__ = ["ImportSummary", "Progress", "import_file"]

EVENT_LOG_DOCS = "docs/importing.md#event-logs"
#: ``before_commit(con, import_id)``: the caller's writes inside the import's transaction.
BeforeCommit = Callable[[duckdb.DuckDBPyConnection, int], None]


@dataclass
class ImportSummary:
    """What an import did. ``read`` = ``imported + duplicates + conflicts + rejected + skipped + folded``.

    ``source`` is the format read; ``system`` the system the contacts are from (their ids are
    unique within it). ``replaced``: the import this one replaced (same file content, other
    options); ``already_imported``: the import that already holds this file (nothing changed).
    Of the imported: ``unidentified`` have no identifier that identifies someone; ``withheld`` a
    withheld or placeholder caller id (not a part of ``unidentified``: an account or e-mail may
    still identify the caller), ``withheld_identified`` those of them still identified; ``shared`` a
    deny-listed or hub identifier; ``invalid_phones`` a caller id that is not a valid number;
    ``placeholders`` a placeholder in another identifier column; ``no_identifier``: no identifier
    and no caller id at all (empty columns, or values a profile reads as missing), all of them
    ``unidentified``. ``skipped``: rows the source says
    to ignore (a profile's ``skip``); ``folded``: rows of an event log folded into another row of
    their ticket (store/events.py)."""

    file: str
    source: str
    system: str = ""
    import_id: int | None = None
    read: int = 0
    imported: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    skipped: int = 0
    folded: int = 0
    unidentified: int = 0
    no_identifier: int = 0
    withheld: int = 0
    withheld_identified: int = 0
    shared: int = 0
    invalid_phones: int = 0
    placeholders: int = 0
    replaced: int | None = None
    already_imported: int | None = None
    sha256: str | None = None
    rejects: list[Reject] = field(default_factory=list)
    conflicted: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rejects_file: str | None = None


#: What a contact's content is compared on: the typed canonical fields but the id, and the kept
#: extra columns (so ``(415) 555-0134`` and ``+14155550134`` are the same content, as are one
#: instant written with two offsets).
CONTENT = (*CONTENT_FIELDS, "extra")


def _same(a: str, b: str) -> str:
    """SQL: rows ``a`` and ``b`` have the same content."""
    return " AND ".join(f"{a}.{c} IS NOT DISTINCT FROM {b}.{c}" for c in CONTENT)


def _classify(con: duckdb.DuckDBPyConnection, system: str) -> None:
    """``_verdict``: the valid rows whose identity is already stored, or taken by an earlier row of
    the file: ``same`` content (a duplicate) or not (a conflict), and what they collide with (the
    stored row's import and line, or the earlier row's rowid ``first_r``). Then marks those rows
    in ``_staged._reason`` (``duplicate`` / ``conflict``) so nothing downstream uses them.

    Set-based throughout; contents are compared field by field, and only for the rows whose
    identity collides (an import of new contacts pays for one semi-join on the key)."""
    stored = (f"SELECT coalesce(contact_id, content_hash) AS dedupe_key, * FROM contacts "
              f"WHERE source = {sql_str(system)}")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _hit AS
        SELECT s.rowid AS r, s.dedupe_key FROM _staged s SEMI JOIN ({stored}) c USING (dedupe_key)
        WHERE s._reason IS NULL
    """)
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _verdict AS
        SELECT s.r, {_same("s", "c")} AS same, c.import_id AS other_import, c.line AS other_line,
               CAST(NULL AS BIGINT) AS first_r
        FROM (SELECT rowid AS r, * FROM _staged WHERE rowid IN (SELECT r FROM _hit)) s
        JOIN ({stored} AND coalesce(contact_id, content_hash) IN (SELECT dedupe_key FROM _hit)) c USING (dedupe_key)
    """ if scalar(con, "SELECT count(*) FROM _hit") else
        "CREATE OR REPLACE TEMP TABLE _verdict (r BIGINT, same BOOLEAN, other_import INTEGER, other_line BIGINT, "
        "first_r BIGINT)")
    # Keys repeated inside the file (few rows: they alone are sorted), not already stored: each
    # later row against the first.
    con.execute(f"""
        INSERT INTO _verdict
        WITH rep AS (
            SELECT rowid AS r, *, first_value(rowid) OVER (PARTITION BY dedupe_key ORDER BY rowid) AS first_r
            FROM _staged WHERE _reason IS NULL AND dedupe_key IN (
                SELECT dedupe_key FROM _staged WHERE _reason IS NULL GROUP BY 1 HAVING count(*) > 1)
            AND rowid NOT IN (SELECT r FROM _hit))
        SELECT s.r, {_same("s", "f")}, NULL, NULL, s.first_r
        FROM rep s JOIN rep f ON f.r = s.first_r
        WHERE s.r <> s.first_r
    """)
    con.execute("UPDATE _staged SET _reason = CASE WHEN v.same THEN 'duplicate' ELSE 'conflict' END "
                "FROM _verdict v WHERE _staged.rowid = v.r")


def _conflicts(con: duckdb.DuckDBPyConnection, file: str, line: str, system: str, unit: str = "line") -> list[Reject]:
    """The conflicting rows, with their line (or record) and what they collide with."""
    first_line = line.replace("s.rowid", "f.rowid").replace("s._line", "f._line")
    rows = con.execute(f"""
        SELECT {line}, 'conflict: contact_id "' || left(s.contact_id, 60) || '" ' ||
               CASE WHEN v.first_r IS NULL
                    THEN 'of system ' || {sql_str(system)} || ' was imported by import ' || v.other_import
                         || coalesce(' ({unit} ' || v.other_line || ')', '') || ' with other content'
                    ELSE 'is also on {unit} ' || {first_line} || ', with other content' END
        FROM _verdict v JOIN _staged s ON s.rowid = v.r LEFT JOIN _staged f ON f.rowid = v.first_r
        WHERE NOT v.same ORDER BY s.rowid
    """).fetchall()
    return [Reject(file, int(n), str(reason), unit=unit) for n, reason in rows]


def _event_log(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the file reads as an event log: most contact ids repeated in it with other content
    sit on rows of one caller with three or more contents (one row per update of a ticket)."""
    counts = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE n >= 3 AND callers = 1) FROM (
            SELECT s.contact_id, count(DISTINCT ({', '.join(f's.{c}' for c in CONTENT)})) AS n,
                   count(DISTINCT {_FIRST_IDENTIFIER}) AS callers
            FROM _staged s WHERE s.contact_id IN (
                SELECT s.contact_id FROM _verdict v JOIN _staged s ON s.rowid = v.r
                WHERE NOT v.same AND v.first_r IS NOT NULL)
              AND (s._reason IS NULL OR s._reason IN ('duplicate', 'conflict'))
            GROUP BY 1)
    """).fetchall()[0]
    repeated, logged = int(counts[0]), int(counts[1])
    return repeated > 0 and logged * 2 >= repeated


_FIRST_IDENTIFIER = f"coalesce({', '.join(f's.{col}' for _, col in COLUMNS)})"
_NEW_ROWS = "FROM _staged s WHERE s._reason IS NULL"


def _insert_contacts(con: duckdb.DuckDBPyConnection, system: str, import_id: int, line: str,
                     resolved: Resolved) -> None:
    """Insert the rows still valid (not rejected, not duplicates or conflicts), each with the key of
    its first identifier that identifies someone."""
    canonical = ", ".join(f"s.{c}" for c in CONTACT_FIELDS)
    line = line.replace("s.rowid", "s.r")
    row_keys(con, resolved)
    con.execute(f"""
        INSERT INTO contacts
        SELECT {sql_str(system)}, CASE WHEN s.contact_id IS NULL THEN s.dedupe_key END,
               {import_id}, {line}, {canonical}, s.extension, s.phone_raw,
               s.withheld, coalesce(k.shared, false), k.customer_key, s.extra
        FROM (SELECT s.rowid AS r, s.* {_NEW_ROWS}) s LEFT JOIN _row_key k ON k.r = s.r
    """)


def _count(summary: ImportSummary, con: duckdb.DuckDBPyConnection, import_id: int) -> None:
    """The summary's counts of the contacts this import added, and notes naming examples."""
    placeholder = " OR ".join(
        f"{col} IN (SELECT substr(ident, {len(kind) + 2}) FROM identifiers WHERE role = 'placeholder' "
        f"AND starts_with(ident, '{kind}:'))" for kind, col in COLUMNS if kind != "phone")
    invalid = "phone_raw IS NOT NULL AND phone IS NULL AND extension IS NULL AND NOT withheld"
    bare = " AND ".join(f"{col} IS NULL" for _, col in COLUMNS) + " AND phone_raw IS NULL AND NOT withheld"
    row = con.execute(f"""
        SELECT count(*), count(*) FILTER (WHERE customer_key IS NULL), count(*) FILTER (WHERE withheld),
               count(*) FILTER (WHERE withheld AND customer_key IS NOT NULL),
               count(*) FILTER (WHERE shared), count(*) FILTER (WHERE {invalid}),
               count(*) FILTER (WHERE {placeholder}), count(*) FILTER (WHERE {bare})
        FROM contacts WHERE import_id = {import_id}
    """).fetchall()[0]
    (summary.imported, summary.unidentified, summary.withheld, summary.withheld_identified, summary.shared,
     summary.invalid_phones, summary.placeholders, summary.no_identifier) = (int(v) for v in row)
    if summary.invalid_phones:
        examples = [r[0] for r in con.execute(
            f"SELECT phone_raw FROM contacts WHERE import_id = {import_id} AND {invalid} "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 3").fetchall()]
        summary.notes.append(f"{plural(summary.invalid_phones, 'caller id')} "
                             f"{'is' if summary.invalid_phones == 1 else 'are'} not valid phone numbers (kept, "
                             f"identify no one), e.g. {', '.join(map(repr, examples))}")
    hubs = con.execute(f"""
        SELECT ident, people FROM identifiers WHERE role = 'hub' AND ({' OR '.join(
            f"(starts_with(ident, '{kind}:') AND substr(ident, {len(kind) + 2}) IN "
            f"(SELECT {col} FROM contacts WHERE import_id = {import_id}))" for kind, col in COLUMNS)})
        ORDER BY people DESC, ident LIMIT 5
    """).fetchall()
    for ident, people in hubs:
        summary.notes.append(f"{ident} touches {people} people: a hub, it joins no one "
                             "(see recontact identities)")


def _already(summary: ImportSummary, earlier: dict[str, Any]) -> ImportSummary:
    """The summary of a file imported before with the same options: nothing changes; the counts
    are the earlier import's, its imported rows now duplicates."""
    summary.already_imported = int(earlier["import_id"])
    summary.read = int(earlier["read"])
    summary.duplicates = int(earlier["imported"]) + int(earlier["duplicates"])
    summary.conflicts, summary.rejected = int(earlier["conflicts"]), int(earlier["rejected"])
    summary.skipped = int(earlier["skipped"] or 0)
    summary.folded = int(earlier["folded"] or 0)
    summary.notes.append(f"already imported as import {earlier['import_id']} (same content, same options, "
                         f"{earlier['imported_at']:%Y-%m-%d %H:%M}): nothing changed; "
                         "recontact imports lists it")
    return summary


def import_file(store: Store, path: Path, importer: ModuleType, options: ImportOptions, *,
                system: str | None = None, hygiene: Hygiene | None = None,
                progress: Progress | None = None, preload: tuple[str, ...] = (),
                before_commit: BeforeCommit | None = None) -> ImportSummary:
    """Import one file into the store, atomically and idempotently; see the module docstring.

    ``preload``: modules the caller needs after the import (e.g. the cases layer's), imported in a
    side thread while DuckDB reads the file. ``before_commit(con, import_id)`` adds the caller's
    own writes to the import's transaction (e.g. that its cases are due: ``ledger.mark_cases_due``).

    A file mixing CRLF and LF line ends (which DuckDB's reader refuses) is read from a temporary
    copy beside the store with every CRLF made LF: same lines, same line numbers.

    A compressed, UTF-16 or Windows-1252 file is read from a plain UTF-8 copy (importers/plain.py).

    Raises InputFileError when the file cannot be read at all, or when no row of it is valid.
    """
    with plain_file(path, store.path.parent, options.encoding) as plain:
        summary = _import_plain(store, path, plain.path, importer, options, replace(options, encoding=plain.encoding),
                                system, hygiene or Hygiene(), progress, preload, before_commit)
    summary.notes[:0] = plain.notes
    return summary


def _import_plain(store: Store, path: Path, plain: Path, importer: ModuleType, options: ImportOptions,
                  scan_options: ImportOptions, system: str | None, hygiene: Hygiene,
                  progress: Progress | None, preload: tuple[str, ...],
                  before_commit: BeforeCommit | None = None) -> ImportSummary:
    """``import_file`` of ``path`` whose plain bytes are at ``plain``, read with ``scan_options``."""
    scan: Scan = importer.scan(store.con, plain, scan_options)
    if not mixed_line_ends(plain, head_only=True):
        try:
            return _import(store, path, plain, scan, importer, options, system, hygiene, progress, preload,
                           before_commit)
        except UnreadableLineEnds:
            if not mixed_line_ends(plain):
                raise
    with lf_copy(plain, store.path.parent) as copy:
        summary = _import(store, path, copy, importer.scan(store.con, copy, scan_options), importer, options, system,
                          hygiene, progress, preload, before_commit)
    summary.notes.append("the file mixes CRLF and LF line ends: read with every line end as LF")
    return summary


def _import(store: Store, path: Path, bytes_from: Path, scan: Scan, importer: ModuleType, options: ImportOptions,
            system: str | None, hygiene: Hygiene, progress: Progress | None,
            preload: tuple[str, ...], before_commit: BeforeCommit | None = None) -> ImportSummary:
    """``import_file`` of ``path``, whose bytes are read from ``bytes_from`` as ``scan`` says."""
    con = store.con
    file = str(path)
    system = system or importer.NAME
    summary = ImportSummary(file=file, source=importer.NAME, system=system, notes=list(scan.notes))
    reading = options_json(options)
    size = path.stat().st_size if path.is_file() else None
    earlier = None
    # Only a file of a size imported before can be one imported before: hash it first then.
    if size is not None and imports_of_size(con, size):
        summary.sha256 = file_sha256(path)
        earlier = same_content(con, summary.sha256)
        if earlier and (earlier["system"], earlier["format"], earlier["options"]) == (
                system, importer.NAME, json.loads(reading)):
            return _already(summary, earlier)
    set_timezone(con, options.tz)
    con.execute("BEGIN TRANSACTION")
    try:
        if earlier:
            remove_import_rows(con, int(earlier["import_id"]), hygiene)
            summary.replaced = int(earlier["import_id"])
        # Counting the file's lines, hashing it and importing what resolution (SciPy: ~0.2 s) and the
        # caller need overlap DuckDB's read, which releases the GIL. The main thread imports nothing
        # meanwhile, so the side thread's imports cannot deadlock with it.
        with ThreadPoolExecutor(max_workers=3) as pool:
            counted = None if scan.own_lines else pool.submit(physical_lines, bytes_from, scan.encoding)
            digest = None if summary.sha256 or size is None else pool.submit(file_sha256, path)
            pool.submit(_import_modules, ("recontact.identity.resolve", *preload))
            stage(con, scan, options, path, progress)
            lines_in_file, nul = counted.result() if counted else (None, False)
            summary.sha256 = digest.result() if digest else summary.sha256
        if nul or scan.own_lines:  # JSON lines may write a NUL as the escape \u0000: always look
            reject_nul_rows(con)
        slow_phones(con, options.region, hygiene.placeholders)
        unreadable = structural_rejects(con, scan, file)
        line, structural = line_sql(con, scan, unreadable, bytes_from, lines_in_file)
        rejects = sorted(structural + value_rejects(con, file, line), key=lambda r: r.line or 0)
        rejects = [replace(r, unit=scan.unit) for r in rejects]
        # From here on row order carries no meaning (``_staged.rowid`` and ``line`` keep the file's):
        # DuckDB may write every table in parallel. (Reset below: the next staging relies on it.)
        con.execute("SET preserve_insertion_order = false")
        if scan.events is not None:
            folded = fold_events(con, scan.events)
            summary.folded = folded.folded
            if folded.folded:
                summary.notes.append(folded.note(scan.events))
        if scan.skips:
            summary.skipped = scalar(con, f"SELECT count(*) FROM _staged WHERE _reason = {sql_str(SKIPPED)}")
        staged = scalar(con, "SELECT count(*) FROM _staged")
        valid = staged - scalar(con, "SELECT count(*) FROM _staged WHERE _reason IS NOT NULL")
        if valid == 0:
            first = f"; first: line {rejects[0].line}: {rejects[0].reason}" if rejects else ""
            rows = staged + len(structural)
            empty = f" (the file has no rows{' after its header' if scan.header_lines else ''})" if rows == 0 else ""
            raise InputFileError(f"{file}: no valid contact in {rows} rows{empty}{first}")
        _classify(con, system)
        summary.conflicted = _conflicts(con, file, line, system, scan.unit)
        if summary.conflicted:
            summary.notes.extend(_conflict_notes(con, system, len(summary.conflicted)))
        _report(progress, 70.0)
        fresh_from = record_identifiers(con, _NEW_ROWS)
        resolved = resolve(con, hygiene, fresh_from)
        _report(progress, 80.0)
        import_id = next_import_id(con)
        _insert_contacts(con, system, import_id, line, resolved)
        _count(summary, con, import_id)
        _report(progress, 100.0)
        summary.import_id = import_id
        summary.rejected = len(rejects)
        summary.rejects = rejects
        summary.conflicts = len(summary.conflicted)
        summary.read = staged + len(structural)
        summary.duplicates = valid - summary.imported - summary.conflicts
        record_import(con, {
            "import_id": import_id, "file": file, "size": size, "sha256": summary.sha256, "system": system,
            "format": importer.NAME, "options": reading, "read": summary.read, "imported": summary.imported,
            "duplicates": summary.duplicates, "conflicts": summary.conflicts, "rejected": summary.rejected,
            "skipped": summary.skipped, "folded": summary.folded, "unidentified": summary.unidentified,
        })
        if before_commit is not None:
            before_commit(con, import_id)
        # Dropped before the commit: after it, nothing slow is left (a Ctrl-C then would stop a
        # statement of an import that has already landed, and the user would be told otherwise).
        _drop_work_tables(con, scan)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("RESET preserve_insertion_order")
        _drop_work_tables(con, scan)
    return summary


def _drop_work_tables(con: duckdb.DuckDBPyConnection, scan: Scan) -> None:
    for table in ("_staged", "_hit", "_verdict", "_lines", "_recnl", "_affected", "_changed", "_row_idents",
                  "_seen", "_row_seq", "_row_key", "_fresh_idents"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    if scan.rejects_table:
        con.execute(f"DROP TABLE IF EXISTS {scan.rejects_table}")
        con.execute(f"DROP TABLE IF EXISTS {scan.rejects_table}_scan")


def _import_modules(names: Sequence[str]) -> None:
    """Import ``names`` in order; a failure is left for the module's real user to meet and report."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:
            return


def _conflict_notes(con: duckdb.DuckDBPyConnection, system: str, conflicts: int) -> list[str]:
    """What to do about conflicts: another system, or another id column; and the event-log warning."""
    rows = "1 row shares" if conflicts == 1 else f"{conflicts:,} rows share"
    notes = [f"{rows} a contact_id with a contact of other content (conflicts, not imported, "
             f"listed with the rejects): if this file comes from another system than {system!r}, import it "
             "with --system NAME; if its id column is not unique, map another column to contact_id "
             "(--map \"COLUMN=contact_id\"), or the id column to another field (--map \"ID COLUMN=ticket_id\"): "
             "rows without an id are told apart by their content"]
    if _event_log(con):
        notes.append("this file looks like an event log (one row per update of a ticket: one contact id on "
                     f"many rows of one caller); see {EVENT_LOG_DOCS}")
    return notes


def _report(progress: Progress | None, pct: float) -> None:
    if progress is not None:
        progress(pct)
