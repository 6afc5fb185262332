"""Zendesk tickets and Talk calls (tests/data/zendesk), written by hand after Zendesk's documented
JSON: the incremental ticket export (pages with ``tickets``, side-loaded ``users`` and
``metric_sets``, ``after_cursor``, ``end_of_stream``), ticket objects (``via.channel``,
``via.source.from``, ``requester_id``, ``satisfaction_rating.score``…), the Talk incremental calls
export (``calls`` with ``completion_status``, ``wait_time``, ``talk_time``…) and the CSV export.

incremental_tickets.json: three lines, compact JSON as the API returns it.
  line 1  page 1: tickets 101 (email, solved, good), 102 (voice, open), 103 (web, pending, bad),
          then 5 (not an object: rejected) and a ticket with "id": null (rejected)
  line 2  a page cut off mid-way: not valid JSON (rejected)
  line 3  page 2: 104 with created_at "not a time" (rejected), 101 unchanged and 102 updated to
          solved: each folds with its earlier version into one contact, the latest winning
talk_calls.json: one page pretty-printed over 163 lines: records, not lines, are numbered.
  1 call 7001 inbound completed; 2 7002 abandoned_in_queue; 3 7003 outbound; 4 direction
  "sideways" (rejected); 5 no created_at (rejected); 6 7002 again (folded into record 2)
tickets.jsonl: 101 / blank / 103 / a cut-off line (rejected) / 106 (native_messaging, closed) /
  107 deleted (skipped)
tickets_export.csv: 201 Mail Solved Good, 202 Web Form Open Offered, 203 Phone call Pending Bad,
  204 created "07/01/2026" (rejected), 205 two fields (rejected), 201 again (duplicate)
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact.importers import detect_format, zendesk


@pytest.fixture
def folder(samples):
    return samples / "zendesk"


def by_id(contact_rows):
    return {r["contact_id"]: r for r in contact_rows()}


def test_incremental_pages_counts(folder, run_import):
    s = run_import(folder / "incremental_tickets.json")
    assert s.source == "zendesk"
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (9, 3, 0, 0, 4, 0, 2)
    assert s.read == s.imported + s.duplicates + s.conflicts + s.rejected + s.skipped + s.folded
    assert [(r.line, r.reason) for r in s.rejects] == [
        (1, "a ticket that is not a JSON object"),
        (1, "a ticket without an id"),
        (2, "not valid JSON"),
        (3, 'started_at "not a time" is not an ISO 8601 time (give --time-format for other layouts)'),
    ]
    assert s.notes[0].startswith('read as zendesk: JSON with a "tickets" array')


def test_ticket_fields(folder, run_import, contact_rows):
    run_import(folder / "incremental_tickets.json")
    rows = by_id(contact_rows)
    assert set(rows) == {"101", "102", "103"}
    t101 = rows["101"]
    assert t101["started_at"] == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert (t101["channel"], t101["direction"], t101["email"], t101["customer_name"], t101["account_id"]) == (
        "email", "inbound", "ann.lee@example.com", "Ann Lee", "9001")
    assert (t101["agent_id"], t101["team"], t101["category"], t101["ticket_id"]) == ("501", "40", "incident", "101")
    assert (t101["resolved"], t101["csat"], t101["tags"]) == (True, 1, "billing,refund")
    extra = json.loads(t101["extra"])
    assert extra["solved_at"] == "2026-01-05T12:00:00Z"  # from the side-loaded metric set
    assert extra["satisfaction_rating"]["comment"] == "Quick, thanks"
    assert extra["status"] == "solved" and extra["subject"] == "Refund, please"
    assert not {"id", "created_at", "tags", "type", "assignee_id", "group_id", "requester_id"} & set(extra)
    t102 = rows["102"]  # a phone ticket: the number from via, the e-mail from the side-loaded user
    assert (t102["channel"], t102["phone"], t102["email"], t102["csat"]) == (
        "phone", "+14155550134", "ann.lee@example.com", None)
    assert (t102["resolved"], t102["line"]) == (True, 3)  # its latest version (page 2) won
    assert t102["started_at"] == datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    assert t102["customer_key"] == t101["customer_key"]
    t103 = rows["103"]  # a web ticket: e-mail and phone from the side-loaded user 9002
    assert (t103["channel"], t103["email"], t103["phone"], t103["csat"], t103["resolved"]) == (
        "web", "bob@example.com", "+16505550199", 0, False)


def test_talk_calls_are_numbered_by_record(folder, run_import, contact_rows):
    s = run_import(folder / "talk_calls.json")
    assert (s.read, s.imported, s.duplicates, s.rejected, s.folded) == (6, 3, 0, 2, 1)
    assert (s.withheld, s.unidentified) == (0, 0)  # Talk exports carry no caller id: none is withheld
    assert [(r.line, r.unit, r.reason) for r in s.rejects] == [
        (4, "record", 'call direction "sideways" is not inbound or outbound'),
        (5, "record", "started_at is missing"),
    ]
    assert "JSON documents span lines: records are numbered 1, 2, … across pages instead of lines" in s.notes
    rows = by_id(contact_rows)
    c1 = rows["call:7001"]
    assert (c1["channel"], c1["direction"], c1["account_id"], c1["agent_id"], c1["ticket_id"]) == (
        "phone", "inbound", "9001", "501", "102")
    assert (c1["wait_s"], c1["talk_s"], c1["hold_s"], c1["wrap_s"], c1["answered"], c1["abandoned"]) == (
        30, 240, 10, 60, True, False)
    c2 = rows["call:7002"]
    assert (c2["answered"], c2["abandoned"], c2["wait_s"]) == (False, True, 95)
    assert rows["call:7003"]["direction"] == "outbound"
    assert json.loads(c1["extra"])["completion_status"] == "completed"


def test_calls_and_tickets_of_one_user_are_one_customer(folder, run_import, contact_rows):
    run_import(folder / "incremental_tickets.json")
    run_import(folder / "talk_calls.json")
    rows = by_id(contact_rows)
    assert rows["call:7001"]["customer_key"] == rows["101"]["customer_key"]
    assert rows["call:7002"]["customer_key"] == rows["103"]["customer_key"]


def test_json_lines_of_tickets(folder, run_import, contact_rows):
    s = run_import(folder / "tickets.jsonl")
    assert (s.read, s.imported, s.rejected, s.skipped) == (5, 3, 1, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [(4, "not valid JSON")]
    rows = by_id(contact_rows)
    assert [(r["contact_id"], r["line"]) for r in contact_rows()] == [("101", 1), ("103", 3), ("106", 5)]
    t106 = rows["106"]
    assert (t106["channel"], t106["resolved"], t106["customer_name"]) == ("chat", True, "Dee")
    assert t106["started_at"] == datetime(2026, 1, 8, 9, 0, tzinfo=UTC)
    assert rows["103"]["email"] is None  # no side-loaded users here: the account identifies Bob


def test_csv_export(folder, run_import, contact_rows):
    s = run_import(folder / "tickets_export.csv", tz="America/New_York")
    assert (s.read, s.imported, s.duplicates, s.rejected) == (6, 3, 1, 2)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (5, 'started_at "07/01/2026" is not an ISO 8601 time (give --time-format for other layouts)'),
        (6, "missing columns: Expected Number of Columns: 17 Found: 2"),
    ]
    rows = by_id(contact_rows)
    t201 = rows["201"]
    assert t201["started_at"] == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)  # 09:00 EST
    assert (t201["channel"], t201["email"], t201["account_id"], t201["customer_name"]) == (
        "email", "ann.lee@example.com", "9001", "Ann Lee")
    assert (t201["agent_id"], t201["team"], t201["category"], t201["resolved"], t201["csat"], t201["tags"]) == (
        "Sam Agent", "Billing", "Incident", True, 1, "billing,refund")
    assert json.loads(t201["extra"])["Solved at"] == "2026-01-05 12:00:00"
    assert (rows["202"]["channel"], rows["202"]["resolved"], rows["202"]["csat"]) == ("web", False, None)
    assert (rows["203"]["channel"], rows["203"]["csat"]) == ("phone", 0)


@pytest.mark.parametrize(("name", "why"), [
    ("incremental_tickets.json", 'JSON with a "tickets" array of Zendesk tickets (incremental export)'),
    ("talk_calls.json", 'JSON with a "calls" array of Zendesk calls (incremental export)'),
    ("tickets.jsonl", "JSON lines of Zendesk tickets (keys requester_id, via)"),
    ("tickets_export.csv", "header has Id, Requester, Created at"),
])
def test_detection(folder, name, why):
    assert detect_format(folder / name) == (zendesk, why)


# --- pages of the incremental export of any size (issue 26) ------------------------------------

_CHILD = """
import resource, sys
from pathlib import Path
sys.path.insert(0, sys.argv[4])
from zendesk_pages import write_page
from recontact import desk
from recontact.config import Settings
from recontact.importers.base import ImportOptions
page = write_page(Path(sys.argv[1]), 1, 1000, cursor=sys.argv[2] == "cursor")
request = desk.ImportRequest(path=page, source=None, options=ImportOptions(), rejects_path=None, system=None)
s = desk.import_contacts(Path(sys.argv[3]), request, Settings())
print(page.stat().st_size, s.source, s.read, s.imported, s.rejected, s.skipped, s.folded,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


@pytest.mark.parametrize("variant", ["time", "cursor"])
def test_a_page_of_1000_tickets_imports_in_a_bounded_memory(variant, tmp_path):
    """A compact page of 1,000 tickets (about 1.5 MB; zendesk_pages.py) in a fresh process: it was
    out of memory at the default 1 GB (json_each carried the whole page on each of its rows) and
    spent 36 s in csv.Sniffer before. The bound is the peak RSS of the whole child process (Python,
    DuckDB and the store included): 380-920 MB seen here depending on the machine's load, so it is
    held to the default memory limit plus the process's own overhead. The issue's target (tens of MB)
    is not met yet: DuckDB's staging of the page's tickets joined to its side-loads is what grows."""
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "-c", _CHILD, str(tmp_path / "page.json"), variant,
                          str(tmp_path / "store.duckdb"), str(Path(__file__).parent)],
                         capture_output=True, text=True, timeout=300, check=True).stdout.split()
    size, source, read, imported, rejected, skipped, folded, peak_mb = out
    assert int(size) > 1_000_000 and source == "zendesk"
    assert (int(read), int(imported), int(rejected), int(skipped), int(folded)) == (1000, 1000, 0, 0, 0)
    assert int(peak_mb) < 1400, f"peak RSS {peak_mb} MB"
