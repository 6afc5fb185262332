"""The import ledger: which file (size, SHA-256), from which system, read with which options, with
what counts — and taking one import back out.

An import's options are the ones that change what its rows become: format, system, column map,
time zone, time format, encoding, delimiter and phone region. The same file content with the same
options is the same import; with other options it replaces the earlier one (see ``store/load.py``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from recontact.errors import RecontactError
from recontact.importers.base import ImportOptions
from recontact.store.identities import Hygiene, recount_from_contacts, resolve
from recontact.store.sql import scalar

NEXT_IMPORT = "next_import_id"  # meta key: import ids are never reused, also after a removal
CASES_DUE = "cases_due:"  # meta key prefix: an import whose cases are not opened yet (+ its id)
EVERYONE = "all"  # a cases-due value: every customer (the import that made the store)

#: The ledger's columns, in the order ``recontact imports`` lists them.
FIELDS = ("import_id", "file", "size", "sha256", "system", "format", "options", "read", "imported",
          "duplicates", "conflicts", "rejected", "skipped", "folded", "imported_at")


class UnknownImportError(LookupError, RecontactError):
    """No import has this id."""


def options_json(options: ImportOptions) -> str:
    """The options an import was read with, as canonical JSON (sorted keys): equal text, same reading."""
    read: dict[str, object] = {
        "column_map": dict(sorted(options.column_map.items())), "tz": options.tz,
        "time_format": options.time_format, "encoding": options.encoding, "delimiter": options.delimiter,
        "region": options.region,
    }
    if options.events:  # an event log: which rows are one contact, and which of them wins
        read["events"] = {"id": options.events, "order": list(options.events_order)}
    read.update(options.profile_parts())  # a mapping profile's combined columns, outcome codes, skips…
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


def remove_import_rows(con: duckdb.DuckDBPyConnection, import_id: int, hygiene: Hygiene) -> dict[str, Any]:
    """Delete the contacts import ``import_id`` added and its ledger row, then work identities out
    again from the contacts left (inside the caller's transaction): people it joined come apart
    and take back the keys they had. Returns the ledger row.

    Raises UnknownImportError when there is no such import."""
    ledger = list_imports(con)
    rows = [r for r in ledger if r["import_id"] == import_id]
    if not rows:
        known = ", ".join(str(r["import_id"]) for r in ledger) or "none"
        raise UnknownImportError(f"no import {import_id} in this store (imports: {known}; see recontact imports)")
    con.execute(f"DELETE FROM contacts WHERE import_id = {int(import_id)}")
    con.execute(f"DELETE FROM imports WHERE import_id = {int(import_id)}")
    recount_from_contacts(con)
    resolve(con, hygiene)
    return rows[0]


def mark_cases_due(con: duckdb.DuckDBPyConnection, import_id: int, history_from: int | None) -> None:
    """Record, inside the import's own transaction, that import ``import_id``'s cases are due:
    the customers it touched are its contacts' keys and those of the key-history rows from
    ``history_from`` on (None: every customer, for the import that made the store). Whoever
    writes next opens them (``cases.service.finish_pending``) and clears the mark, so a kill -9
    between the import's commit and its cases loses no case."""
    con.execute("INSERT INTO meta VALUES (?, ?)",
                [f"{CASES_DUE}{int(import_id)}", EVERYONE if history_from is None else str(int(history_from))])


def cases_due(con: duckdb.DuckDBPyConnection) -> dict[int, int | None]:
    """The imports whose cases are due: import id -> key-history row it started at (None: everyone)."""
    rows = con.execute("SELECT key, value FROM meta WHERE starts_with(key, ?)", [CASES_DUE]).fetchall()
    return {int(k[len(CASES_DUE):]): None if v == EVERYONE else int(v) for k, v in rows}


def clear_cases_due(con: duckdb.DuckDBPyConnection, import_ids: Iterable[int]) -> None:
    """Forget the marks of imports whose cases are open now."""
    for import_id in import_ids:
        con.execute("DELETE FROM meta WHERE key = ?", [f"{CASES_DUE}{int(import_id)}"])
