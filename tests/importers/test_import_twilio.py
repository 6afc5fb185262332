"""Twilio call log CSV (tests/data/twilio/call_log.csv), written by hand from Twilio's Call resource
documentation: columns as the Console download spells them; directions inbound, outbound-api,
outbound-dial; statuses completed, no-answer, canceled, busy, queued; one RFC 2822 start time (as
the API writes it). Counted by hand:

line 2  CA…01 inbound completed, +14155550134, 300 s, Caller Name ANN LEE
line 3  CA…02 inbound no-answer (RFC 2822 time)   -> abandoned
line 4  CA…03 outbound-api to +14155550134        -> outbound, customer = To
line 5  CA…04 outbound-dial child leg of CA…01    -> outbound, customer = To
line 6  CA…05 inbound canceled from "anonymous"   -> abandoned, withheld
line 7  CA…06 Inbound Busy (capitalised)          -> neither answered nor abandoned
line 8  status "exploded"                          -> rejected
line 9  direction "sideways"                       -> rejected
line 10 start "yesterday"                          -> rejected
line 11 duration "abc"                             -> rejected
line 12 line 2 again                               -> duplicate
line 13 three fields                               -> rejected (missing columns)
line 14 CA…0b inbound queued                       -> no outcome yet
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact.errors import InputFileError
from recontact.importers import detect_format, twilio


def sid(n: int) -> str:
    return "CA" + f"{n:032x}"


@pytest.fixture
def call_log(samples):
    return samples / "twilio" / "call_log.csv"


def test_counts_and_rejects(call_log, run_import):
    s = run_import(call_log)
    assert s.source == "twilio"
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped) == (13, 7, 1, 0, 5, 0)
    assert s.read == s.imported + s.duplicates + s.conflicts + s.rejected + s.skipped
    assert [(r.line, r.reason) for r in s.rejects] == [
        (8, 'Status "exploded" is not one of completed, in-progress, no-answer, canceled, busy, failed, '
            "queued, ringing"),
        (9, 'Direction "sideways" is not one of inbound, trunking-originating, outbound-api, outbound-dial, '
            "trunking-terminating"),
        (10, 'started_at "yesterday" is not an ISO 8601 time (give --time-format for other layouts)'),
        (11, 'Duration "abc" is not seconds'),
        (13, "missing columns: Expected Number of Columns: 12 Found: 3"),
    ]
    assert s.notes[0] == ("read as twilio: header has From, To, Direction, Status "
                          "(say --source to choose another format)")


def test_fields(call_log, run_import, contact_rows):
    run_import(call_log)
    rows = {r["contact_id"]: r for r in contact_rows()}
    assert set(rows) == {sid(n) for n in (1, 2, 3, 4, 5, 6, 11)}
    ann = rows[sid(1)]
    assert ann["started_at"] == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    assert (ann["channel"], ann["direction"], ann["phone"], ann["customer_name"]) == (
        "phone", "inbound", "+14155550134", "ANN LEE")
    assert (ann["talk_s"], ann["answered"], ann["abandoned"]) == (300, True, False)
    missed = rows[sid(2)]  # RFC 2822 start time
    assert missed["started_at"] == datetime(2026, 1, 5, 17, 30, tzinfo=UTC)
    assert (missed["phone"], missed["answered"], missed["abandoned"]) == ("+16505550199", False, True)
    api = rows[sid(3)]  # the desk calls the customer: To is the customer
    assert (api["direction"], api["phone"], api["answered"], api["abandoned"]) == (
        "outbound", "+14155550134", True, False)
    assert api["customer_key"] == ann["customer_key"]
    leg = rows[sid(4)]
    assert (leg["direction"], leg["phone"]) == ("outbound", "+12125550123")
    anon = rows[sid(5)]
    assert (anon["withheld"], anon["customer_key"], anon["abandoned"]) == (True, None, True)
    busy = rows[sid(6)]
    assert (busy["answered"], busy["abandoned"]) == (False, False)
    queued = rows[sid(11)]
    assert (queued["answered"], queued["abandoned"]) == (None, None)


def test_unmapped_columns_are_kept(call_log, run_import, contact_rows):
    run_import(call_log)
    leg = next(r for r in contact_rows() if r["contact_id"] == sid(4))
    assert json.loads(leg["extra"]) == {
        "Parent Call Sid": sid(1), "End Time": "2026-01-05T17:05:00Z", "From": "+14155550134",
        "To": "+12125550123", "Direction": "outbound-dial", "Status": "completed", "Price": "-0.013",
        "Price Unit": "USD"}


def test_api_spelling_of_the_columns(tmp_path, run_import, contact_rows):
    path = tmp_path / "calls.csv"
    path.write_text("sid,from,to,direction,status,start_time,duration\n"
                    f"{sid(7)},+14155550134,+18005550100,inbound,completed,\"Tue, 06 Jan 2026 10:00:00 +0000\",42\n")
    s = run_import(path)
    assert (s.source, s.imported) == ("twilio", 1)
    (row,) = contact_rows()
    assert (row["contact_id"], row["phone"], row["talk_s"]) == (sid(7), "+14155550134", 42)
    assert row["started_at"] == datetime(2026, 1, 6, 10, 0, tzinfo=UTC)


def test_detected_from_the_header(call_log):
    assert detect_format(call_log) == (twilio, "header has From, To, Direction, Status")


def test_no_start_column_is_an_error(tmp_path, run_import):
    path = tmp_path / "calls.csv"
    path.write_text("From,To,Direction,Status\n+14155550134,+18005550100,inbound,completed\n")
    with pytest.raises(InputFileError, match="no Start Time or Date Created column among From, To"):
        run_import(path)


# --- the Calls API's JSON list pages (issue 26) -------------------------------------------------


@pytest.mark.parametrize("name", ["calls_page.json", "calls_pages.jsonl"])
def test_api_json_pages(name, samples, run_import, contact_rows):
    """calls_page.json: one pretty-printed page of 7 calls, written after the Calls API reference
    (2010 API's RFC 2822 dates on calls 1-4, ISO 8601 on 5-7); calls_pages.jsonl: the same calls
    as two compact pages. Call 2 is the outbound-dial leg of call 1 (``parent_call_sid``); call 4
    has no ``start_time`` (its ``date_created`` is taken); call 7's direction is unknown."""
    path = samples / "twilio" / name
    assert detect_format(path)[0] is twilio
    s = run_import(path)
    assert (s.source, s.read, s.imported, s.rejected, s.duplicates, s.conflicts) == ("twilio", 7, 6, 1, 0, 0)
    assert [(r.line, r.unit) for r in s.rejects] == [(7, "record")]
    rows = {r["contact_id"]: r for r in contact_rows()}
    first = rows[sid(1)]
    assert first["started_at"] == datetime(2011, 2, 15, 4, 21, tzinfo=UTC)
    assert (first["direction"], first["phone"], first["customer_name"]) == ("inbound", "+14155550134", "ANN LEE")
    assert (first["answered"], first["abandoned"], first["talk_s"]) == (True, False, 300)
    leg = rows[sid(2)]
    assert (leg["direction"], leg["phone"]) == ("outbound", "+14155550177")
    assert json.loads(leg["extra"])["parent_call_sid"] == sid(1)
    assert (rows[sid(3)]["answered"], rows[sid(3)]["abandoned"]) == (False, True)
    assert rows[sid(4)]["started_at"] == datetime(2011, 2, 15, 5, 10, tzinfo=UTC)
    assert rows[sid(5)]["started_at"] == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)
    assert (rows[sid(6)]["answered"], rows[sid(6)]["abandoned"]) == (False, True)
