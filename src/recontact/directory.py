"""Directories and orders: import one (replacing the previous file) and list one — the functions
``recontact directory …`` and ``recontact orders …`` (and later the API) call.

Customers' and employees' identifiers (and the customer of each order) take part in identity
resolution through the same hygiene rules as contacts: identifiers on one directory row are
links, exactly like those on one contact; deny-listed, placeholder and hub identifiers join no one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recontact.config import Settings
from recontact.importers.base import Reject
from recontact.importers.directories import KINDS, Kind, read_directory
from recontact.store.contacts import open_store, remove_store, store_exists
from recontact.store.identities import Hygiene


@dataclass
class DirectorySummary:
    """What a directory import did. ``read`` = ``imported + rejected``; ``replaced``: rows of the
    previous file of this directory, now gone; ``warnings``: identifiers dropped from kept rows."""

    directory: str
    file: str
    read: int = 0
    imported: int = 0
    rejected: int = 0
    replaced: int = 0
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def listed(rs: list[Reject]) -> list[dict[str, Any]]:
            return [{"file": r.file, "line": r.line, "reason": r.reason} for r in rs]

        return {"directory": self.directory, "file": self.file, "read": self.read, "imported": self.imported,
                "rejected": self.rejected, "replaced": self.replaced, "rejects": listed(self.rejects),
                "warnings": listed(self.warnings), "notes": self.notes}


def check_kind(kind: str, allowed: tuple[str, ...] = KINDS) -> Kind:
    from recontact.errors import InputFileError

    if kind not in allowed:
        raise InputFileError(f"no directory called {kind!r}; use one of {', '.join(allowed)}")
    return kind  # type: ignore[return-value]


def import_directory(db: Path, kind: str, path: Path, settings: Settings) -> DirectorySummary:
    """Read directory ``kind`` (customers, agents, employees, orders) from the CSV at ``path`` and
    replace that directory in the store with it, in one transaction; identities are resolved again.
    InputFileError (nothing changes) when the file cannot be read or holds no valid row."""
    from recontact.desk import format_key, report_settings
    from recontact.errors import InputFileError
    from recontact.store.directories import replace_directory
    from recontact.store.ledger import file_sha256

    which = check_kind(kind)
    if store_exists(db):  # national numbers read in the phone region the contacts were
        with open_store(db, read_only=True) as store:
            settings = report_settings(store, settings)
    rows = read_directory(path, which, region=settings.default_region, placeholders=settings.placeholders)
    if not rows.rows:
        first = f"; first: line {rows.rejects[0].line}: {rows.rejects[0].reason}" if rows.rejects else ""
        raise InputFileError(f"{path}: no valid row in {rows.read} rows{first}")
    summary = DirectorySummary(which, str(path), rows.read, len(rows.rows), len(rows.rejects),
                               rejects=rows.rejects, warnings=rows.warnings, notes=list(rows.notes))
    created = not store_exists(db)
    try:
        with open_store(db, memory_limit=settings.memory_limit) as store:
            store.con.execute("BEGIN TRANSACTION")
            try:
                done = replace_directory(store.con, rows, Hygiene.from_settings(settings), file_sha256(path))
                store.con.execute("COMMIT")
            except BaseException:
                store.con.execute("ROLLBACK")
                raise
    except BaseException:
        if created:
            remove_store(db)
        raise
    summary.replaced = done["replaced"]
    if summary.replaced:
        summary.notes.insert(0, f"replaced the {which} directory ({summary.replaced:,} rows of the previous file "
                                "are gone, with the links they made)")
    for line, keys in done["merges"][:5]:
        summary.notes.append(f"line {line} joins customers {', '.join(map(format_key, keys))}: its identifiers "
                             "are one person now")
    if len(done["merges"]) > 5:
        summary.notes.append(f"… {len(done['merges']) - 5:,} more rows join customers")
    if done["no_one"] and which != "agents":
        lines = ", ".join(map(str, done["no_one"][:10]))
        summary.notes.append(f"{len(done['no_one']):,} rows identify no one (their identifiers are deny-listed "
                             f"or shared hubs): lines {lines}{' …' if len(done['no_one']) > 10 else ''}")
    return summary


def list_directory(db: Path, kind: str, settings: Settings) -> list[dict[str, Any]]:
    """The rows of directory ``kind`` in file order, each with the customer key its identifiers
    resolve to now (``customer_key``, None when they identify no one) and ``identifiers``."""
    from recontact.desk import format_key, open_for_reading
    from recontact.store.directories import directory_rows

    which = check_kind(kind)
    with open_for_reading(db, settings) as store:
        rows = directory_rows(store.con, which)
    for r in rows:
        key = r.pop("customer_key")
        if which != "agents":
            r["customer_key"] = format_key(key) if key is not None else None
        else:
            r.pop("identifiers")
        if "ordered_on" in r:
            r["ordered_on"] = r["ordered_on"].isoformat()
    return rows


def list_directories(db: Path, settings: Settings) -> list[dict[str, Any]]:
    """Which directories the store holds: file, SHA-256, when imported, counts."""
    from recontact.desk import open_for_reading
    from recontact.store.directories import directory_ledger

    with open_for_reading(db, settings) as store:
        return directory_ledger(store.con)
