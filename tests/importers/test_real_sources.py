"""Real exports imported with one command and no ``--map`` (their source or a shipped profile),
checked against figures derived independently from the raw files with the csv module, and against
the brute-force flags / top-callers reference (tests/reference.py) fed with those contacts.

Read in place from ../shared/data (never copied into the repository).
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import reference
from recontact import desk
from recontact.config import Settings
from reference import Contact

pytestmark = pytest.mark.real_data


def _missing(value: str) -> str | None:
    return None if value.strip() in ("", "?") else value


def _as_reference(ident: str) -> str:
    """The store's ``employee:X`` is the reference's ``account:X`` (the reference knows one kind of id)."""
    kind, _, value = ident.partition(":")
    return f"account:{value}" if kind == "employee" else ident


def _keys(store_path: Path) -> dict[frozenset[str], int]:
    import duckdb

    con = duckdb.connect(str(store_path), read_only=True)
    try:
        rows = con.execute("SELECT ident, customer_key FROM identifiers WHERE customer_key IS NOT NULL").fetchall()
    finally:
        con.close()
    return {frozenset({_as_reference(ident)}): key for ident, key in rows}


def _flag_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["rule"], frozenset(map(_as_reference, r["identifiers"])), r["crossed_at"], r["count"],
             r["contact_id"], r["category"], r["closed_at"]) for r in rows]


def _top_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["period"], r["rank"], frozenset(map(_as_reference, r["identifiers"])), r["contacts"],
             float(r["handle_s"])) for r in rows]


def check_against_reference(store_path: Path, contacts: list[Contact], settings: Settings) -> None:
    """flags and top (week and month) from the store equal the reference's on ``contacts``."""
    keys = _keys(store_path)
    got = desk.list_flags(store_path, settings)
    expected = reference.flags(contacts, settings.rules, key_of=keys)
    assert _flag_rows(got) == [(f.rule, f.customer, f.crossed_at, f.count, f.contact_id, f.category, f.closed_at)
                               for f in expected]
    for period in ("week", "month"):
        top = desk.top_callers(store_path, settings, period, 5)
        want = reference.top_callers(contacts, period, 5, settings.timezone, key_of=keys)
        assert _top_rows(top) == [(r.period, r.rank, r.customer, r.contacts, r.handle_s) for r in want]


# --- UCI incident event log: --source servicenow (guessed) ---------------------------------------


def uci_contacts(path: Path) -> list[Contact]:
    """One contact per incident, from the definition: at its (earliest) opened_at; caller and
    category from its latest update (highest sys_mod_count, then latest sys_updated_at, then the
    later row); ``?`` is missing."""
    fmt = "%d/%m/%Y %H:%M"
    latest: dict[str, tuple[tuple[int, datetime, int], dict[str, str]]] = {}
    opened: dict[str, datetime] = {}
    with path.open(newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            n = row["number"]
            at = datetime.strptime(row["opened_at"], fmt).replace(tzinfo=UTC)
            opened[n] = min(opened.get(n, at), at)
            mod = -1 if row["sys_mod_count"] == "?" else int(row["sys_mod_count"])
            key = (mod, datetime.strptime(row["sys_updated_at"], fmt), i)
            if n not in latest or key > latest[n][0]:
                latest[n] = (key, row)
    return [Contact(contact_id=n, started_at=opened[n], account_id=_missing(row["caller_id"]),
                    category=_missing(row["category"]), channel=None)
            for n, (_, row) in latest.items()]


@pytest.fixture(scope="module")
def uci_log(shared_data: Path) -> Path:
    return shared_data / "uci-incident-event-log" / "incident_event_log.csv"


def test_uci_imports_one_contact_per_incident(uci_log, run_import, query):
    s = run_import(uci_log)  # no --source, no --map
    assert s.source == "servicenow"
    # SOURCE.md: 141,712 rows, 24,918 incidents; every row is an incident's (no reject).
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (
        141_712, 24_918, 0, 0, 0, 0, 116_794)
    contacts = uci_contacts(uci_log)
    by_caller = Counter(c.account_id for c in contacts)
    # Three incidents' latest caller is '?': unidentified. Caller 1904 has the most incidents: 438
    # (SOURCE.md's figure too).
    assert s.unidentified == by_caller[None] == 3
    assert by_caller.most_common(2)[0] == ("Caller 1904", 438)
    assert query("SELECT employee_id, count(*) FROM contacts GROUP BY 1 ORDER BY 2 DESC LIMIT 1") == [
        ("Caller 1904", 438)]
    assert query("SELECT count(DISTINCT customer_key) FROM contacts") == [(len(by_caller) - 1,)]
    # reopen and reassignment counts are kept, from the latest update: SOURCE.md: 275 incidents
    # reopened, 11,369 reassigned.
    assert query("SELECT count(*) FILTER (WHERE CAST(extra->>'reopen_count' AS INT) > 0), "
                 "count(*) FILTER (WHERE CAST(extra->>'reassignment_count' AS INT) > 0) FROM contacts") == [
        (275, 11_369)]


def test_uci_flags_and_top_equal_the_reference(uci_log, run_import, store_path):
    run_import(uci_log)
    check_against_reference(store_path, uci_contacts(uci_log), Settings())
