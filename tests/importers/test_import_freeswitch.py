"""FreeSWITCH CDR CSV (tests/data/freeswitch/Master.csv), written by hand from mod_cdr_csv's default
``example`` template (15 quoted fields, no header): caller_id_name, caller_id_number,
destination_number, context, start_stamp, answer_stamp, end_stamp, duration, billsec, hangup_cause,
uuid, bleg_uuid, accountcode, read_codec, write_codec. Times are the switch's local time (read in
America/Los_Angeles here, UTC-8 in January). Counted by hand:

line 1  …01 public, answered, 312/300 s, "Ann Lee" 4155550134        -> inbound, wait 12, talk 300
line 2  …02 public, no answer_stamp, ORIGINATOR_CANCEL              -> abandoned
line 3  …03 default, 1001 -> 4155550134 (7+ digits)                  -> outbound, customer 4155550134
line 4  …04 default, 2001 -> 7000 (an employee calls the desk queue) -> inbound, extension 2001
line 5  …05 public, anonymous, USER_BUSY                              -> withheld, neither outcome
line 6  billsec 90 > duration 60                                     -> rejected
line 7  no hangup_cause                                              -> rejected
line 8  line 1 again                                                 -> duplicate
line 9  three fields                                                 -> rejected (missing columns)
line 10 start_stamp "not a time"                                     -> rejected
line 11 …11 public, +442079460018, NO_ANSWER                          -> abandoned
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact.errors import InputFileError
from recontact.importers import detect_format, freeswitch

LA = "America/Los_Angeles"


def uuid(n: int) -> str:
    return f"5e0c6a3e-0000-4000-8000-{n:012d}"


@pytest.fixture
def master(samples):
    return samples / "freeswitch" / "Master.csv"


def test_counts_and_rejects(master, run_import):
    s = run_import(master, tz=LA)
    assert s.source == "freeswitch"
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped) == (11, 6, 1, 0, 4, 0)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (6, 'duration/billsec "60"/"90" are not seconds with billsec <= duration'),
        (7, "hangup_cause is missing"),
        (9, "missing columns: Expected Number of Columns: 15 Found: 3"),
        (10, 'started_at "not a time" is not an ISO 8601 time (give --time-format for other layouts)'),
    ]
    assert "FreeSWITCH default cdr_csv template, 15 fields" in s.notes


def test_fields(master, run_import, contact_rows):
    run_import(master, tz=LA)
    rows = {r["contact_id"]: r for r in contact_rows()}
    assert set(rows) == {uuid(n) for n in (1, 2, 3, 4, 5, 11)}
    ann = rows[uuid(1)]
    assert ann["started_at"] == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)  # 09:00 PST
    assert (ann["direction"], ann["phone"], ann["customer_name"]) == ("inbound", "+14155550134", "Ann Lee")
    assert (ann["wait_s"], ann["talk_s"], ann["answered"], ann["abandoned"]) == (12, 300, True, False)
    bob = rows[uuid(2)]
    assert (bob["answered"], bob["abandoned"], bob["wait_s"], bob["talk_s"]) == (False, True, 25, 0)
    out = rows[uuid(3)]
    assert (out["direction"], out["phone"], out["customer_name"]) == ("outbound", "+14155550134", None)
    assert out["customer_key"] == ann["customer_key"]
    staff = rows[uuid(4)]
    assert (staff["direction"], staff["phone"], staff["extension"]) == ("inbound", None, "2001")
    anon = rows[uuid(5)]
    assert (anon["withheld"], anon["answered"], anon["abandoned"], anon["customer_name"]) == (True, False, False, None)
    carol = rows[uuid(11)]
    assert (carol["phone"], carol["abandoned"]) == ("+442079460018", True)


def test_other_variables_are_kept(master, run_import, contact_rows):
    run_import(master, tz=LA)
    extra = json.loads(contact_rows()[0]["extra"])
    assert extra == {"caller_id_name": "Ann Lee", "caller_id_number": "4155550134", "destination_number": "8005550100",
                     "context": "public", "answer_stamp": "2026-01-05 09:00:12", "end_stamp": "2026-01-05 09:05:12",
                     "hangup_cause": "NORMAL_CLEARING", "bleg_uuid": uuid(101), "accountcode": None,
                     "read_codec": "PCMU", "write_codec": "PCMU"}


def test_utc_without_tz_is_said(master, run_import):
    s = run_import(master)
    assert "CDR times carry no zone and were read as UTC; pass --tz for the switch's zone" in s.notes


def test_a_header_row_naming_the_variables(tmp_path, run_import, contact_rows):
    path = tmp_path / "cdr.csv"
    path.write_text("uuid,caller_id_number,destination_number,context,start_stamp,answer_stamp,duration,billsec,"
                    "hangup_cause\n"
                    f"{uuid(20)},4155550134,8005550100,public,2026-01-05 09:00:00,,10,0,NO_ANSWER\n")
    s = run_import(path)
    assert (s.source, s.imported) == ("freeswitch", 1)
    assert s.notes[0].startswith("read as freeswitch: header has caller_id_number, start_stamp")
    (row,) = contact_rows()
    assert (row["contact_id"], row["abandoned"], row["line"]) == (uuid(20), True, 2)


def test_detected_without_a_header(master):
    module, why = detect_format(master)
    assert module is freeswitch
    assert why.startswith("no header; 15 fields with start_stamp")


def test_source_freeswitch_on_another_file(samples, run_import):
    with pytest.raises(InputFileError, match="line 1: not a FreeSWITCH CDR record"):
        run_import(samples / "twilio" / "call_log.csv", source="freeswitch")
