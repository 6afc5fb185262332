"""Freshdesk ticket export CSV (tests/data/freshdesk/tickets.csv), written by hand after Freshdesk's
documented ticket fields and export columns (Ticket ID, Status, Source, Type, Agent, Group, Created
time, Resolved time, Tags, Survey results, the requester's Full name, Email, Work phone, Mobile
phone, Contact ID). Times are the helpdesk's local time (read in Europe/Rome here, UTC+1).
Counted by hand:

line 2     ticket 1  Email, Closed, tags "printer, floor-3", Ann Lee       -> resolved, email
line 3     ticket 2  Phone, Resolved, Work phone (415) 555-0134, Ann Lee   -> phone channel, same customer
line 4     ticket 3  Portal, Open, Mobile phone only, Bob Roe              -> web
line 5     ticket 4  Outbound Email, Pending                               -> outbound
line 6     ticket 5  Chat, Waiting on Customer                             -> chat, not resolved
line 7     ticket 6  Created time "5th Jan"                                -> rejected
line 8     ticket 7  three fields                                          -> rejected
line 9     ticket 1 again                                                  -> duplicate
line 10-11 ticket 8  Subject over two lines, Feedback Widget               -> web, line 10
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact.config import Settings
from recontact.errors import InputFileError
from recontact.importers import detect_format, freshdesk

ROME = "Europe/Rome"
#: The sample's numbers are US numbers in a Rome desk: the region is said, not taken from the zone.
US_NUMBERS = Settings(default_region="US")


@pytest.fixture
def export(samples):
    return samples / "freshdesk" / "tickets.csv"


def test_counts_and_rejects(export, run_import):
    s = run_import(export, settings=US_NUMBERS, tz=ROME)
    assert s.source == "freshdesk"
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped) == (9, 6, 1, 0, 2, 0)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (7, 'started_at "5th Jan" is not an ISO 8601 time (give --time-format for other layouts)'),
        (8, "missing columns: Expected Number of Columns: 22 Found: 3"),
    ]


def test_fields(export, run_import, contact_rows):
    run_import(export, settings=US_NUMBERS, tz=ROME)
    rows = {r["contact_id"]: r for r in contact_rows()}
    assert set(rows) == {"1", "2", "3", "4", "5", "8"}
    one = rows["1"]
    assert one["started_at"] == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)  # 09:00 in Rome
    assert (one["channel"], one["direction"], one["email"], one["customer_name"], one["account_id"]) == (
        "email", "inbound", "ann.lee@example.com", "Ann Lee", "1001")
    assert (one["agent_id"], one["team"], one["category"], one["ticket_id"]) == (
        "Sam Agent", "IT Desk", "Incident", "1")
    assert (one["resolved"], one["tags"]) == (True, "printer,floor-3")
    two = rows["2"]
    assert (two["channel"], two["phone"], two["resolved"]) == ("phone", "+14155550134", True)
    assert two["customer_key"] == one["customer_key"]
    three = rows["3"]
    assert (three["channel"], three["phone"], three["resolved"], three["agent_id"]) == (
        "web", "+16505550199", False, None)
    assert (rows["4"]["direction"], rows["4"]["channel"]) == ("outbound", "email")
    assert (rows["5"]["channel"], rows["5"]["resolved"]) == ("chat", False)
    assert (rows["8"]["line"], rows["8"]["channel"]) == (10, "web")


def test_other_columns_are_kept(export, run_import, contact_rows):
    run_import(export, settings=US_NUMBERS, tz=ROME)
    extra = json.loads(contact_rows()[0]["extra"])
    assert extra["Subject"] == "Cannot print"
    assert extra["Resolved time"] == "2026-01-05 11:00:00"
    assert extra["Survey results"] == "Extremely happy"
    assert extra["Company Name"] == "Acme"
    assert extra["Status"] == "Closed" and extra["Source"] == "Email"


def test_detected_from_the_header(export):
    assert detect_format(export) == (freshdesk, "header has Ticket ID, Created time")


def test_no_created_time_is_an_error(tmp_path, run_import):
    path = tmp_path / "t.csv"
    path.write_text("Ticket ID,Subject\n1,x\n")
    with pytest.raises(InputFileError, match="no Created time column among Ticket ID, Subject"):
        run_import(path, source="freshdesk")
