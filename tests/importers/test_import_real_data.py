"""Real exports, read in place from ../shared/data (never copied into the repository).

The figures were checked by hand, independently of recontact, with the one-off commands quoted
beside each assert (run in /work/shared/data).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

pytestmark = pytest.mark.real_data

BPI_MAP = {"CustomerID": "account_id", "ContactDate": "started_at", "ComplaintID": "contact_id",
           "ComplaintTheme_EN": "category"}


# --- Asterisk cdr_custom Master.csv --------------------------------------------------------------


@pytest.fixture
def master_csv(shared_data):
    return shared_data / "asterisk-cdr-custom-sample" / "Master.csv"


def test_asterisk_master_csv_imports_every_row(master_csv, run_import):
    s = run_import(master_csv)  # format guessed
    assert s.source == "asterisk"
    assert "Asterisk cdr_custom column order, 19 fields" in s.notes
    # 14 rows per SOURCE.md; `wc -l Master.csv` -> 14.
    assert (s.read, s.imported, s.duplicates, s.rejected) == (14, 14, 0, 0)
    assert (s.unidentified, s.withheld) == (0, 0)


def test_asterisk_master_csv_callers(master_csv, run_import, query):
    run_import(master_csv, tz="UTC")
    # awk -F'","' '{print $2}' Master.csv | sort | uniq -c   ->   9 client1, 5 client2
    assert query("""SELECT i.ident, count(*) FROM contacts c JOIN identifiers i USING (customer_key)
                    GROUP BY 1 ORDER BY 1""") == [("extension:client1", 9), ("extension:client2", 5)]
    assert query("SELECT count(*) FROM contacts WHERE phone IS NOT NULL") == [(0,)]


def test_asterisk_master_csv_dispositions_and_durations(master_csv, run_import, query):
    run_import(master_csv, tz="UTC")
    # awk -F'","' '{print $14}' Master.csv | sort | uniq -c   ->   11 ANSWERED, 3 NO ANSWER
    assert query("SELECT answered, abandoned, count(*) FROM contacts GROUP BY ALL ORDER BY ALL") == [
        (False, True, 3), (True, False, 11),
    ]
    # awk -F'","' '{d+=$12; b+=$13} END {print d, b}' Master.csv   ->   durations 187, billsecs 78:
    # talk = billsec 78, wait = duration - billsec = 109.
    assert query("SELECT sum(talk_s), sum(wait_s) FROM contacts") == [(78.0, 109.0)]
    # First row: "2023-07-26 01:51:32", duration 31, billsec 13, uniqueid 1690325492.2.
    assert query("SELECT started_at, talk_s, wait_s, agent_id FROM contacts WHERE contact_id = '1690325492.2'") == [
        (datetime(2023, 7, 26, 1, 51, 32, tzinfo=UTC), 13.0, 18.0, "PJSIP/client2"),
    ]


def test_asterisk_master_csv_twice_adds_nothing(master_csv, run_import, query):
    """``sequence`` and channel suffixes restart after a PBX restart (SOURCE.md); only uniqueid is
    unique, so a second import must find every row already there."""
    run_import(master_csv)
    again = run_import(master_csv)
    assert (again.imported, again.duplicates, again.rejected) == (0, 14, 0)
    assert query("SELECT count(*), count(DISTINCT contact_id) FROM contacts") == [(14, 14)]


# --- BPI Challenge 2016 complaints (semicolon, Latin-1, CRLF) ------------------------------------


@pytest.fixture
def bpi_csv(shared_data):
    return shared_data / "bpi2016-complaints" / "BPI2016_Complaints.csv"


def test_bpi2016_complaints(bpi_csv, run_import, query):
    raw = bpi_csv.read_bytes()
    assert b"\r\n" in raw and b";" in raw[:200]  # the shape SOURCE.md promises
    s = run_import(bpi_csv, column_map=BPI_MAP)
    assert "read as latin-1" in s.notes
    # SOURCE.md: 289 data rows. python3: len(list(csv.DictReader(open(f, encoding='latin-1'),
    # delimiter=';'))) -> 289, with 289 distinct ComplaintIDs.
    assert (s.read, s.imported, s.duplicates, s.rejected) == (289, 289, 0, 0)
    assert s.unidentified == 0
    # SOURCE.md: 226 distinct customers; python3: len({r['CustomerID'] for r in rows}) -> 226.
    assert query("SELECT count(DISTINCT customer_key) FROM contacts") == [(226,)]
    assert query("SELECT count(*), count(DISTINCT customer_key) FROM identifiers") == [(226, 226)]
    # SOURCE.md: ContactDate runs from 2015-07-03 to 2016-02-28 (dates only, read as UTC midnight).
    assert query("SELECT min(started_at), max(started_at) FROM contacts") == [
        (datetime(2015, 7, 3, tzinfo=UTC), datetime(2016, 2, 28, tzinfo=UTC)),
    ]


def test_bpi2016_customers_and_latin1_text(bpi_csv, run_import, query):
    run_import(bpi_csv, column_map=BPI_MAP)
    # SOURCE.md: 46 customers with 2 or more complaints, the most frequent one has 5.
    # python3: Counter(r['CustomerID'] for r in rows) -> 46 ids with count >= 2, max 5.
    assert query("SELECT count(*) FROM (SELECT customer_key FROM contacts GROUP BY 1 HAVING count(*) >= 2)") == [
        (46,)
    ]
    assert query("SELECT max(n) FROM (SELECT count(*) AS n FROM contacts GROUP BY customer_key)") == [(5,)]
    # python3: Counter(r['ComplaintTheme_EN'] ...) -> services 246, treatment (attitude/behavior) 41,
    # duration of treatment 2.
    assert query("SELECT category, count(*) FROM contacts GROUP BY 1 ORDER BY 2 DESC") == [
        ("services", 246), ("treatment (attitude/behavior)", 41), ("duration of treatment", 2),
    ]
    # ComplaintID 212 has the topic "boos over beëindiging gesprek" (ë is byte 0xEB in the file).
    (extra,) = query("SELECT extra FROM contacts WHERE contact_id = '212'")[0]
    assert json.loads(extra)["ComplaintTopic"] == "boos over beëindiging gesprek"
    assert query("SELECT account_id FROM contacts WHERE contact_id = '212'") == [("1001033",)]


def test_bpi2016_without_an_id_column_loses_nothing(bpi_csv, run_import):
    """Without ``ComplaintID=contact_id`` rows are deduplicated on a hash of their content, which
    must include the columns kept in ``extra``: 28 complaints share customer, date and theme with
    another and differ only in unmapped columns (python3: 289 rows, 261 distinct
    (CustomerID, ContactDate, ComplaintTheme_EN)). They were dropped as duplicates before the
    hash included ``extra``."""
    s = run_import(bpi_csv, column_map={k: v for k, v in BPI_MAP.items() if k != "ComplaintID"})
    assert (s.imported, s.duplicates) == (289, 0)


# --- UCI incident event log (ServiceNow audit rows; one row per update) ---------------------------


def test_uci_incident_log_keeps_one_contact_per_incident(shared_data, run_import, query):
    """Keyed on the incident number, the 141,712 update rows collapse to one contact per incident
    (the first row); every later row of an incident differs from its first (a conflict, not a
    silent duplicate), the file is named an event log, and the literal ``?`` caller is no customer.

    python: first = {}; for r in csv.DictReader(f): first.setdefault(r['number'], r['caller_id'])
    -> 24,918 incidents; 3 whose first row has caller '?'; 5,244 distinct other callers.
    python: rows whose columns other than number all equal the first row of their number -> 0."""
    s = run_import(shared_data / "uci-incident-event-log" / "incident_event_log.csv", source="csv",
                   column_map={"caller_id": "account_id", "opened_at": "started_at", "number": "contact_id"},
                   time_format="%d/%m/%Y %H:%M")  # the generic reading (guessed, it is read as servicenow)
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected) == (141_712, 24_918, 0, 116_794, 0)
    assert any("event log" in n and "docs/importing.md#event-logs" in n for n in s.notes)
    assert s.unidentified == 3
    assert query("SELECT count(DISTINCT customer_key) FROM contacts") == [(5_244,)]
    assert query("SELECT count(*) FROM identifiers WHERE ident LIKE '%:?' AND customer_key IS NOT NULL") == [(0,)]
    assert query("SELECT role FROM identifiers WHERE ident = 'account:?'") == [("placeholder",)]


# --- Technion "Anonymous Bank", February 1999 (tab separated; call_id is not unique) -------------


def test_bank_call_ids_repeat_and_are_conflicts_not_duplicates(shared_data, run_import, query):
    """``call_id`` repeats across days: keyed on it, the later rows of an id are conflicts (the
    issue: 53 % of calls were dropped as duplicates). Mapped to another field instead, the same file
    replaces that import and every call is a contact.

    python: first = {}; for r in csv.DictReader(f, delimiter='\\t'): compare r (all columns but
    call_id) with the first row of its call_id -> 33,344 rows, 15,516 ids, 0 equal, 17,828 differ."""
    bank = shared_data / "anonymous-bank-callcenter" / "data_anonymous_bank_february.txt"
    keyed = run_import(bank, column_map={"call_id": "contact_id", "date": "started_at"}, time_format="%y%m%d",
                       tz="Asia/Jerusalem")
    assert (keyed.read, keyed.imported, keyed.duplicates, keyed.conflicts, keyed.rejected) == (
        33_344, 15_516, 0, 17_828, 0)
    assert any("--system NAME" in n for n in keyed.notes)
    assert not any("event log" in n for n in keyed.notes)  # an id reused by other callers, not ticket updates
    unkeyed = run_import(bank, column_map={"call_id": "ticket_id", "date": "started_at"}, time_format="%y%m%d",
                         tz="Asia/Jerusalem")
    assert (unkeyed.replaced, unkeyed.imported, unkeyed.duplicates, unkeyed.conflicts) == (1, 33_344, 0, 0)
    assert query("SELECT count(*), count(contact_id), count(DISTINCT ticket_id) FROM contacts") == [
        (33_344, 0, 15_516)]


def test_bank_customer_id_zero_is_a_placeholder_and_accounts_can_be_denied(shared_data, run_import, query,
                                                                           store_path):
    """Identifier hygiene on the bank file: ``customer_id = 0`` (the anonymous callers) is a
    placeholder, not one customer of every anonymous call; ``deny_list = ["account:…"]`` takes one
    account out, on the next command, without a re-import.

    awk -F'\\t' 'NR>1 && $3=="0"' | wc -l -> 19,558; awk -F'\\t' 'NR>1 {print $3}' | sort -u | wc -l
    -> 4,082 (0 among them); awk -F'\\t' 'NR>1 && $3=="7191646"' | wc -l -> 170 (the busiest)."""
    from recontact import desk
    from recontact.config import Settings

    bank = shared_data / "anonymous-bank-callcenter" / "data_anonymous_bank_february.txt"
    s = run_import(bank, column_map={"call_id": "ticket_id", "date": "started_at", "customer_id": "account_id"},
                   time_format="%y%m%d", tz="Asia/Jerusalem")
    assert (s.imported, s.placeholders, s.unidentified) == (33_344, 19_558, 19_558)
    assert query("SELECT count(DISTINCT customer_key) FROM contacts") == [(4_081,)]
    assert query("SELECT role, contacts, customer_key FROM identifiers WHERE ident = 'account:0'") == [
        ("placeholder", 19_558, None)]
    top = desk.top_callers(store_path, Settings(timezone="Asia/Jerusalem"), "month", 1)
    assert [(r["identifiers"], r["contacts"]) for r in top] == [(["account:7191646"], 170)]
    denied = Settings(timezone="Asia/Jerusalem", deny_list=("account:7191646",))
    assert desk.top_callers(store_path, denied, "month", 1)[0]["identifiers"] != ["account:7191646"]
    assert query("SELECT role FROM identifiers WHERE ident = 'account:7191646'") == [("denied",)]
    assert desk.top_callers(store_path, Settings(timezone="Asia/Jerusalem"), "month", 1) == top  # and back
