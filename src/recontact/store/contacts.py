"""The contact store's schema (DuckDB file) and how to open it.

Tables: ``contacts`` (canonical contacts plus where they came from and whose they are),
``identifiers`` (``kind:value`` -> customer key), ``identifier_links``, ``key_history`` (see
``store/identities.py``), ``imports`` (one row per import), ``meta``.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from recontact.engines.duckdb import connect, ibis_connection
from recontact.errors import StoreError
from recontact.schema import CONTACT_FIELDS
from recontact.store.directories import DDL as DIRECTORY_DDL
from recontact.store.directories import TABLE_NAMES as DIRECTORY_TABLES

SCHEMA_VERSION = 8  # 2: contacts.content_hash replaces dedupe_key; 3: identifiers (ident, key);
# 4: import ledger (imports: system, format, size, sha256, options, conflicts), contacts.content,
# identifiers.first_key; 5: no contacts.content (contents are compared field by field);
# 6: identifiers (seq, contacts, valid, role, people), identifier_links, key_history; 7: imports.folded;
# 8: directories (customers, agents, employees, orders; store/directories.py)
#: Stores of an older schema brought up to this one in place: version -> statements to the next.
MIGRATIONS: dict[int, list[str]] = {6: ["ALTER TABLE imports ADD COLUMN folded BIGINT"], 7: DIRECTORY_DDL}

CONTACT_COLUMNS: dict[str, str] = {
    # The system the contact came from (--system; default: the format name). A contact's identity
    # is (source, contact_id), or (source, content_hash) when the source gives no id.
    "source": "VARCHAR NOT NULL",
    "content_hash": "VARCHAR",  # when the source gives no contact_id: the key rows are deduplicated on
    "import_id": "INTEGER NOT NULL",
    "line": "BIGINT",  # line in the imported file (first line of the record)
    **CONTACT_FIELDS,
    "extension": "VARCHAR",  # caller id that is not a phone number (internal extension, SIP user)
    "phone_raw": "VARCHAR",  # caller id as the source wrote it
    "withheld": "BOOLEAN NOT NULL",  # caller id withheld (anonymous, restricted, empty…)
    "shared": "BOOLEAN NOT NULL",  # at import: an identifier was deny-listed or a hub (a shared line)
    "customer_key": "BIGINT",  # NULL: unidentified
    "extra": "VARCHAR",  # JSON object of source columns recontact does not know
}

#: Text columns of one value per row or per customer, mostly distinct (ids, identifiers, raw caller
#: ids): stored with Zstandard, which DuckDB writes two to three times faster than its default
#: dictionary-FSST, and here smaller too (the contacts of a generated year: 362 blocks, not 394).
#: Columns of a few repeated values (channel, team, category…) stay with the default.
ZSTD_COLUMNS = frozenset({"content_hash", "contact_id", "ticket_id", "phone_raw", "phone", "extension", "email",
                          "account_id", "employee_id"})


def _column(name: str, sql_type: str) -> str:
    return f"{name} {sql_type}{' USING COMPRESSION zstd' if name in ZSTD_COLUMNS else ''}"


DDL = [
    f"CREATE TABLE IF NOT EXISTS contacts ({', '.join(_column(k, v) for k, v in CONTACT_COLUMNS.items())})",
    # ident is "kind:value" (phone:+14155550134); the kind is the text before the first colon. seq
    # numbers identifiers in order of first sighting (with gaps); customer_key is NULL when the identifier
    # identifies no one, and role says why (invalid, placeholder, denied, hub); people: how many
    # people a hub touches; first_key: the first key it had (a part split off takes it back).
    "CREATE TABLE IF NOT EXISTS identifiers (ident VARCHAR NOT NULL, seq BIGINT NOT NULL, customer_key BIGINT, "
    "first_key BIGINT, contacts BIGINT NOT NULL, valid BOOLEAN NOT NULL, role VARCHAR, people BIGINT, "
    "builtin_placeholder BOOLEAN NOT NULL)",
    # distinct pairs (a < b) of identifiers (seq) seen on one record
    "CREATE TABLE IF NOT EXISTS identifier_links (a BIGINT NOT NULL, b BIGINT NOT NULL)",
    # old_key -> new_key: merge (old lives on as new), split (part of old became new), gone (new NULL)
    "CREATE TABLE IF NOT EXISTS key_history (old_key BIGINT NOT NULL, new_key BIGINT, kind VARCHAR NOT NULL, "
    "changed_at TIMESTAMPTZ NOT NULL)",
    # the import ledger: one row per import; options is a JSON object (column map, time zone…)
    "CREATE TABLE IF NOT EXISTS imports (import_id INTEGER NOT NULL, file VARCHAR NOT NULL, size BIGINT, "
    "sha256 VARCHAR, system VARCHAR NOT NULL, format VARCHAR NOT NULL, options VARCHAR, "
    "imported_at TIMESTAMPTZ NOT NULL, read BIGINT, imported BIGINT, duplicates BIGINT, conflicts BIGINT, "
    "rejected BIGINT, skipped BIGINT, unidentified BIGINT, folded BIGINT)",
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR NOT NULL, value VARCHAR NOT NULL)",
    *DIRECTORY_DDL,
]
STORE_TABLES = frozenset({"contacts", "identifiers", "identifier_links", "key_history", "imports", "meta",
                          *DIRECTORY_TABLES})


@dataclass
class Store:
    """An open contact store."""

    path: Path
    con: duckdb.DuckDBPyConnection
    _ibis: Any = None

    def ibis(self) -> Any:
        """The Ibis backend over this store's connection (made once: making one costs, and resets
        the session time zone to UTC)."""
        if self._ibis is None:
            self._ibis = ibis_connection(self.con)
        return self._ibis

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def release_memory(self) -> None:
        """Give back the blocks DuckDB keeps cached (a large import leaves up to ``memory_limit`` of
        them resident): the limit is set low, which evicts them, then put back. Later queries read
        what they need again."""
        limit = self.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        self.con.execute("SET memory_limit = '64MB'")
        self.con.execute("SET memory_limit = ?", [limit])

    def meta(self, key: str) -> str | None:
        rows = self.con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
        return str(rows[0][0]) if rows else None

    def set_meta(self, key: str, value: str) -> None:
        self.con.execute("DELETE FROM meta WHERE key = ?", [key])
        self.con.execute("INSERT INTO meta VALUES (?, ?)", [key, value])


def store_files(path: Path) -> list[Path]:
    """The store file and what DuckDB keeps beside it: its write-ahead log and spill folder."""
    return [path, path.with_name(path.name + ".wal"), path.with_name(path.name + ".tmp")]


def store_exists(path: Path) -> bool:
    """True when there is a store file (or its log) at ``path``."""
    return any(p.exists() for p in store_files(path)[:2])


def remove_store(path: Path) -> None:
    """Delete the store at ``path`` with its log and spill folder (only for a store this process
    just created and failed to fill: its first import did not land)."""
    for p in store_files(path):
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def open_store(path: Path | str, *, create: bool = True, read_only: bool = False,
               memory_limit: str | None = None) -> Store:
    """Open the store at ``path``; create the schema when ``create`` (else it must exist).

    ``read_only`` opens it for reading only: any number of readers may share the file, but not
    while an import (a writer) holds it — then StoreError ``store busy: …``. ``memory_limit`` caps
    the engine's memory (work beyond it spills to ``<store>.tmp``)."""
    p = Path(path)
    if read_only:
        create = False
    con = connect(p, read_only=read_only or (not create and not p.exists()))
    if memory_limit:
        con.execute("SET memory_limit = ?", [memory_limit])
    store = Store(p, con)
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    if not create and "contacts" not in tables:
        con.close()
        raise StoreError(f"{p}: no contacts here yet; import some first (recontact import FILE --db {p})")
    if tables and "contacts" in tables and "meta" in tables:
        version = store.meta("schema_version")
        if version is not None and int(version) > SCHEMA_VERSION:
            con.close()
            raise StoreError(f"{p}: written by a newer recontact (schema {version}); upgrade recontact")
        if version is not None and int(version) < SCHEMA_VERSION:
            if int(version) not in MIGRATIONS:
                con.close()
                raise StoreError(f"{p}: written by an older recontact (schema {version}, this one reads "
                                 f"{SCHEMA_VERSION}); import your exports again into a new store")
            con.close()
            migrate(p, int(version))
            return open_store(p, create=create, read_only=read_only, memory_limit=memory_limit)
    elif tables - STORE_TABLES and "contacts" not in tables:
        con.close()
        raise StoreError(f"{p}: this DuckDB file is not a recontact store (it has other tables)")
    if "contacts" not in tables:
        for stmt in DDL:
            con.execute(stmt)
        store.set_meta("schema_version", str(SCHEMA_VERSION))
    return store


def migrate(path: Path, version: int) -> None:
    """Bring the store at ``path`` from schema ``version`` up to ``SCHEMA_VERSION`` in one
    transaction (a brief read-write open, also for a reader: ``store busy`` while an import runs)."""
    con = connect(path, read_only=False)
    try:
        con.execute("BEGIN TRANSACTION")
        while version < SCHEMA_VERSION:
            for stmt in MIGRATIONS[version]:
                con.execute(stmt)
            version += 1
        con.execute("DELETE FROM meta WHERE key = 'schema_version'")
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(version)])
        con.execute("COMMIT")
    finally:
        con.close()
