"""Helpers shared by the store-level metric and rule tests (not a reference: it uses recontact)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import reference
from recontact import desk
from recontact.config import Settings
from recontact.store.contacts import open_store
from reference import Contact


def import_store(tmp: Path, contacts: list[Contact], config: Settings) -> Path:
    """Write ``contacts`` as a canonical CSV and import them into a new store; every row must land."""
    path = reference.write_csv(tmp / "contacts.csv", contacts)
    db = tmp / "store.duckdb"
    summary = desk.import_contacts(db, desk.ImportRequest(path, source="csv"), config)
    assert (summary.imported, summary.rejected) == (len(contacts), 0), summary.rejects
    return db


def store_keys(db: Path, contacts: list[Contact], deny: Iterable[str] = ()) -> dict[frozenset[str], int]:
    """Reference customer -> the store's customer key; the store must group identifiers exactly as
    the reference does (DESIGN.md, "Concepts": Customer — identifiers seen together are one; a
    deny-listed identifier, ``deny``, and a hub identify no one)."""
    with open_store(db, create=False) as store:
        rows = store.con.execute("SELECT ident, customer_key FROM identifiers").fetchall()
    key = dict(rows)
    by_key: dict[int, set[str]] = {}
    for ident, k in rows:
        by_key.setdefault(k, set()).add(ident)
    out = {}
    for who in set(reference.customers(contacts, deny).values()):
        keys = {key[i] for i in who}
        assert len(keys) == 1, f"{sorted(who)} split over keys {keys}"
        (k,) = keys
        assert by_key[k] == who
        out[who] = k
    return out
