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
from zoneinfo import ZoneInfo

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


# --- shared: profiles applied as the CLI applies them ----------------------------------------------


def local(naive: datetime, zone: str) -> datetime:
    """Wall-clock time in ``zone`` as docs/importing.md defines it (a time that happens twice is the
    later occurrence; a time that does not exist is read one hour later), as a UTC instant: windows
    are durations (Python adds a timedelta to a zoned time on the wall clock)."""
    tz = ZoneInfo(zone)
    early, late = naive.replace(tzinfo=tz, fold=0), naive.replace(tzinfo=tz, fold=1)
    offsets = (early.utcoffset(), late.utcoffset())
    if offsets[0] is not None and offsets[1] is not None and offsets[0] > offsets[1]:
        return late.astimezone(UTC)  # fall back: the later (standard-time) occurrence
    return early.astimezone(UTC)  # a gap: zoneinfo's fold=0 reads it with the offset before: one hour later


@pytest.fixture
def profile_import(store_path: Path):
    def run(path: Path, name: str) -> Any:
        from recontact.importers import profiles
        from recontact.importers.base import ImportOptions

        options, source, system, desk_tz = profiles.with_profile(name, ImportOptions(), frozenset(), None, None)
        request = desk.ImportRequest(path=path, source=source, options=options, system=system,
                                     desk_timezone=desk_tz)
        return desk.import_contacts(store_path, request, Settings())

    return run


# --- Technion "Anonymous Bank", February 1999: --profile anonymous-bank ----------------------------


def bank_contacts(path: Path) -> list[Contact]:
    """One contact per row but PHANTOM calls, from the Technion documentation: at date + vru_entry
    (Israel time); customer_id 0 is no one; talk = ser_time (the handle time)."""
    out = []
    with path.open(newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["outcome"] == "PHANTOM":
                continue
            at = local(datetime.strptime(f"{row['date']} {row['vru_entry']}", "%y%m%d %H:%M:%S"), "Asia/Jerusalem")
            out.append(Contact(contact_id=f"{row['date']} {row['vru+line']} {row['call_id']}", started_at=at,
                               account_id=None if row["customer_id"] == "0" else row["customer_id"],
                               category=row["type"], channel="phone", talk_s=float(row["ser_time"])))
    return out


@pytest.fixture(scope="module")
def bank_file(shared_data: Path) -> Path:
    return shared_data / "anonymous-bank-callcenter" / "data_anonymous_bank_february.txt"


def test_bank_imports_every_call(bank_file, run_import, profile_import, query):
    s = profile_import(bank_file, "anonymous-bank")
    # SOURCE.md: 33,344 rows, 278 PHANTOM; no duplicate (date, vru+line, call_id).
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (
        33_344, 33_066, 0, 0, 0, 278, 0)
    contacts = bank_contacts(bank_file)
    assert len(contacts) == 33_066 == len({c.contact_id for c in contacts})
    by_customer = Counter(c.account_id for c in contacts if c.account_id)
    assert s.unidentified == sum(c.account_id is None for c in contacts) == 19_502
    assert s.no_identifier == s.unidentified  # customer_id 0, read as missing: no identifier at all
    # SOURCE.md: the top callers made 170, 170 and 126 calls (PHANTOM rows included there).
    top = by_customer.most_common(3)
    assert query("SELECT account_id, count(*) FROM contacts WHERE account_id IS NOT NULL "
                 "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 3") == sorted(top, key=lambda t: (-t[1], t[0]))
    # outcome codes: awk -F'\t' '{print $13}' | sort | uniq -c -> AGENT 27,162, HANG 5,904
    assert query("SELECT answered, abandoned, count(*) FROM contacts GROUP BY ALL ORDER BY ALL") == [
        (False, True, 5_904), (True, False, 27_162)]
    assert query("SELECT count(*) FROM contacts WHERE agent_id IS NULL") == [
        (sum(1 for c in csv.DictReader(bank_file.open(newline=""), delimiter="\t")
             if c["server"] == "NO_SERVER" and c["outcome"] != "PHANTOM"),)]


def test_bank_flags_and_top_equal_the_reference(bank_file, profile_import, store_path):
    profile_import(bank_file, "anonymous-bank")
    check_against_reference(store_path, bank_contacts(bank_file), Settings(timezone="Asia/Jerusalem"))


# --- Italian help desk event log: --profile italian-helpdesk ---------------------------------------


def helpdesk_contacts(path: Path) -> list[Contact]:
    """One contact per Case ID at its first activity; customer and product of its latest (by
    Complete Timestamp, then the later row)."""
    fmt = "%Y/%m/%d %H:%M:%S.%f"
    first: dict[str, datetime] = {}
    latest: dict[str, tuple[tuple[str, int], dict[str, str]]] = {}
    with path.open(newline="") as f:
        for i, row in enumerate(csv.DictReader(f)):
            case, stamp = row["Case ID"], row["Complete Timestamp"]
            at = local(datetime.strptime(stamp, fmt), "Europe/Rome")
            first[case] = min(first.get(case, at), at)
            if case not in latest or (stamp, i) > latest[case][0]:
                latest[case] = ((stamp, i), row)
    return [Contact(contact_id=case, started_at=first[case], account_id=row["customer"], category=row["product"],
                    channel=None) for case, (_, row) in latest.items()]


def test_italian_helpdesk_one_contact_per_ticket(shared_data, profile_import, query, store_path):
    path = shared_data / "italian-helpdesk" / "finale.csv"
    s = profile_import(path, "italian-helpdesk")
    # SOURCE.md: 21,348 rows, 4,580 tickets, no missing cells.
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (
        21_348, 4_580, 0, 0, 0, 0, 16_768)
    contacts = helpdesk_contacts(path)
    by_customer = Counter(c.account_id for c in contacts)
    assert query("SELECT account_id, count(*) FROM contacts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1") == [
        by_customer.most_common(1)[0]]
    check_against_reference(store_path, contacts, Settings(timezone="Europe/Rome"))


# --- BPI Challenge 2016 complaints: --profile bpi2016 ------------------------------------------------


def test_bpi2016_one_command(shared_data, profile_import, query, store_path):
    path = shared_data / "bpi2016-complaints" / "BPI2016_Complaints.csv"
    s = profile_import(path, "bpi2016")
    # SOURCE.md: 289 complaints; 226 customers, the most frequent one with 5.
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (
        289, 289, 0, 0, 0, 0, 0)
    with path.open(newline="", encoding="latin-1") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    by_customer = Counter(r["CustomerID"] for r in rows)
    assert by_customer.most_common(1)[0][1] == 5
    assert query("SELECT count(DISTINCT customer_key), max(n) FROM (SELECT customer_key, count(*) OVER "
                 "(PARTITION BY customer_key) AS n FROM contacts)") == [(226, 5)]
    contacts = [Contact(contact_id=r["ComplaintID"], account_id=r["CustomerID"], category=r["ComplaintTheme_EN"],
                        started_at=local(datetime.strptime(r["ContactDate"], "%Y-%m-%d"), "Europe/Amsterdam"),
                        channel=None) for r in rows]
    check_against_reference(store_path, contacts, Settings(timezone="Europe/Amsterdam"))
