"""Asterisk CDR importer (tests/data/asterisk): both column orders, dispositions, durations, the
``"Name" <number>`` clid, uniqueid dedupe and unknown dispositions.

The two samples were written by hand following the column orders in
``recontact/importers/asterisk_cdr.py``: ``cdr_csv.csv`` (accountcode, src, dst, dcontext, clid,
channel, dstchannel, …, 18 fields) and ``cdr_custom.csv`` (clid, src, dst, dcontext, channel,
dstchannel, …, 19 fields). Times are PBX wall-clock times, read in ``tz``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact import desk
from recontact.config import AsteriskSettings, Settings, load_settings
from recontact.errors import ConfigError, InputFileError
from recontact.importers import asterisk_cdr, guess_format

LA = "America/Los_Angeles"  # UTC-8 in January and early March 2026


def by_id(contact_rows):
    return {r["contact_id"]: r for r in contact_rows()}


# --- cdr_csv (standard order) -------------------------------------------------------------------


def test_cdr_csv_counts_and_the_unknown_disposition(samples, run_import):
    path = samples / "asterisk" / "cdr_csv.csv"
    s = run_import(path, tz=LA)
    assert s.source == "asterisk"
    assert "Asterisk cdr_csv column order, 18 fields" in s.notes
    # 6 records: 1767603600.1 twice (lines 1 and 6), an EXPLODED disposition on line 5.
    assert (s.read, s.imported, s.duplicates, s.rejected) == (6, 4, 1, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (5, 'disposition "EXPLODED" is not one of ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION'),
    ]
    assert (s.withheld, s.unidentified) == (1, 1)  # the anonymous caller


def test_cdr_csv_fields(samples, run_import, contact_rows):
    run_import(samples / "asterisk" / "cdr_csv.csv", tz=LA)
    rows = by_id(contact_rows)
    assert set(rows) == {"1767603600.1", "1767604200.3", "1767604800.5", "1767605400.7"}
    ann = rows["1767603600.1"]  # ANSWERED, duration 312, billsec 300
    assert ann["started_at"] == datetime(2026, 1, 5, 17, 0, tzinfo=UTC)  # 09:00 PST
    assert (ann["phone"], ann["customer_name"]) == ("+14155550134", "Ann Lee")
    assert (ann["channel"], ann["direction"]) == ("phone", "inbound")
    assert (ann["talk_s"], ann["wait_s"]) == (300, 12)  # billsec; duration - billsec
    assert (ann["answered"], ann["abandoned"]) == (True, False)
    assert (ann["agent_id"], ann["queue"]) == ("SIP/100", "from-pstn")  # dstchannel without its suffix
    bob = rows["1767604200.3"]  # NO ANSWER, empty src: the number comes from the clid
    assert (bob["phone"], bob["customer_name"]) == ("+16505550199", "Bob")
    assert (bob["answered"], bob["abandoned"], bob["talk_s"], bob["wait_s"]) == (False, True, 0, 25)
    anon = rows["1767604800.5"]  # BUSY from an anonymous caller
    assert (anon["answered"], anon["abandoned"]) == (False, False)
    assert (anon["withheld"], anon["customer_key"], anon["phone"]) == (True, None, None)
    failed = rows["1767605400.7"]  # FAILED, no dstchannel
    assert (failed["answered"], failed["abandoned"], failed["agent_id"]) == (False, False, None)
    assert ann["customer_key"] == failed["customer_key"] != bob["customer_key"]


def test_cdr_columns_not_mapped_are_kept_in_extra(samples, run_import, contact_rows):
    run_import(samples / "asterisk" / "cdr_csv.csv", tz=LA)
    extra = json.loads(by_id(contact_rows)["1767603600.1"]["extra"])
    assert extra["disposition"] == "ANSWERED"
    assert extra["clid"] == '"Ann Lee" <4155550134>'
    assert extra["lastdata"] == "SIP/100,30"
    assert extra["dst"] == "100"


def test_times_are_read_as_utc_without_tz_and_a_note_says_so(samples, run_import, query):
    s = run_import(samples / "asterisk" / "cdr_csv.csv")
    assert "CDR times carry no zone and were read as UTC; pass --tz for the PBX's zone" in s.notes
    assert query("SELECT started_at FROM contacts WHERE contact_id = '1767603600.1'") == [
        (datetime(2026, 1, 5, 9, 0, tzinfo=UTC),)
    ]


# --- cdr_custom (sample template order) ---------------------------------------------------------


def test_cdr_custom_counts_and_rejects(samples, run_import):
    s = run_import(samples / "asterisk" / "cdr_custom.csv", tz=LA)
    assert "Asterisk cdr_custom column order, 19 fields" in s.notes
    # 8 records: line 8 repeats line 1's uniqueid; line 6 bills more seconds than it lasted.
    assert (s.read, s.imported, s.duplicates, s.rejected) == (8, 6, 1, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (6, 'duration/billsec "10"/"30" are not seconds with billsec <= duration'),
    ]


def test_cdr_custom_fields(samples, run_import, contact_rows):
    run_import(samples / "asterisk" / "cdr_custom.csv", tz=LA)
    rows = by_id(contact_rows)
    first = rows["1772438400.16"]
    assert first["started_at"] == datetime(2026, 3, 2, 16, 0, tzinfo=UTC)  # 08:00 PST
    assert (first["talk_s"], first["wait_s"], first["answered"]) == (600, 45, True)
    assert (first["agent_id"], first["queue"]) == ("PJSIP/6001", "from-trunk")
    extra = json.loads(first["extra"])
    assert (extra["accountcode"], extra["userfield"], extra["sequence"]) == ("acct-7", "vip", "16")
    # Empty src: the caller comes from the clid.
    assert rows["1772442000.18"]["phone"] == "+14155550134"
    assert (rows["1772442000.18"]["answered"], rows["1772442000.18"]["abandoned"]) == (False, True)
    # An extension calling in: an extension identifier, the clid name as customer name.
    reception = rows["1772443800.20"]
    assert (reception["extension"], reception["phone"], reception["customer_name"]) == ("client1", None,
                                                                                       "Reception")
    # "Restricted" is a withheld caller id.
    assert (rows["1772445600.22"]["withheld"], rows["1772445600.22"]["customer_key"]) == (True, None)
    # CONGESTION is a known disposition: neither answered nor abandoned.
    assert (rows["1772447400.24"]["answered"], rows["1772447400.24"]["abandoned"]) == (False, False)


def test_uniqueid_dedupes_across_imports(samples, run_import, query):
    path = samples / "asterisk" / "cdr_custom.csv"
    run_import(path, tz=LA)
    again = run_import(path, tz=LA)
    assert (again.imported, again.duplicates) == (0, 7)
    assert query("SELECT count(*), count(DISTINCT contact_id) FROM contacts") == [(6, 6)]


# --- layout detection ---------------------------------------------------------------------------

CUSTOM_RECORD = ['"" <client1>', "client1", "6789", "default", "PJSIP/client1-00000002",
                 "PJSIP/client2-00000003", "Dial", "PJSIP/client2", "2023-07-26 01:51:32",
                 "2023-07-26 01:51:50", "2023-07-26 01:52:04", "31", "13", "ANSWERED", "DOCUMENTATION", "",
                 "1690325492.2", "", "2"]
STANDARD_RECORD = ["", "4155550134", "100", "from-pstn", '"Doe/John" <4155550134>', "SIP/trunk-00000001",
                   "SIP/100-00000002", "Dial", "SIP/100,30", "2026-01-05 09:00:00", "2026-01-05 09:00:12",
                   "2026-01-05 09:05:12", "312", "300", "ANSWERED", "DOCUMENTATION", "1767603600.1", ""]


def test_detect_layout_custom_with_a_channel_in_both_channel_fields():
    """cdr_custom puts channel and dstchannel in fields 5 and 6: both look like channels. (This
    was read as cdr_csv before, which rejected every row of a real Master.csv.)"""
    assert asterisk_cdr.detect_layout(CUSTOM_RECORD) == asterisk_cdr.CUSTOM


def test_detect_layout_standard_with_a_slash_in_the_clid():
    """A caller name with a slash makes field 5 (clid) look like a channel; the start time in
    field 10 settles it."""
    assert asterisk_cdr.detect_layout(STANDARD_RECORD) == asterisk_cdr.STANDARD


def test_detect_layout_extra_columns_are_named():
    names = asterisk_cdr.detect_layout([*STANDARD_RECORD, "seq", "more"])
    assert names == [*asterisk_cdr.STANDARD, "extra_19", "extra_20"]


@pytest.mark.parametrize("fields", [["a", "b"], ["x"] * 18])
def test_detect_layout_rejects_other_shapes(fields):
    assert asterisk_cdr.detect_layout(fields) is None


def test_both_samples_are_guessed_as_asterisk(samples):
    for name in ("cdr_csv.csv", "cdr_custom.csv"):
        assert guess_format(samples / "asterisk" / name) is asterisk_cdr


def test_source_asterisk_on_a_file_that_is_not_a_cdr(samples, run_import):
    path = samples / "csv" / "crlf.csv"
    with pytest.raises(InputFileError) as e:
        run_import(path, source="asterisk")
    assert str(e.value).startswith(f"{path}: line 1: not an Asterisk CDR record (4 fields;")


# --- direction: the desk's own extensions, queues and contexts ----------------------------------

DESK = AsteriskSettings(desk_extensions=("6001", "6002"), desk_queues=("6000",),
                        desk_contexts=("desk-out", "from-internal"))


def test_direction_from_the_desks_own_lines(samples, run_import, contact_rows):
    """desk_calls.csv, line by line: a customer calls the desk queue; an employee's extension calls
    the IT desk from the context the desk's phones share (a contact); agent 6001 calls a customer;
    an unlisted softphone in the desk's outbound context calls a customer; agent 6001 calls agent
    6002 (placed by the desk); a trunk call to extension 3000, not the desk's (inbound, as without
    configuration)."""
    s = run_import(samples / "asterisk" / "desk_calls.csv", settings=Settings(asterisk=DESK))
    assert (s.read, s.imported, s.rejected) == (6, 6, 0)
    assert any("calls the desk places are outbound" in n for n in s.notes)
    rows = [(r["line"], r["direction"], r["phone"], r["extension"], r["agent_id"], r["customer_name"])
            for r in contact_rows()]
    assert rows == [
        (1, "inbound", "+14155550134", None, "PJSIP/6001", "Ann Lee"),
        (2, "inbound", None, "2001", "PJSIP/6002", "Payroll"),
        (3, "outbound", "+14155550199", None, "PJSIP/6001", None),
        (4, "outbound", "+14155550177", None, "PJSIP/6099", None),
        (5, "outbound", None, "6002", "PJSIP/6001", None),
        (6, "inbound", "+16505550100", None, "PJSIP/3000", "Bob"),
    ]


def test_without_configuration_every_call_is_inbound_from_src(samples, run_import, contact_rows):
    s = run_import(samples / "asterisk" / "desk_calls.csv")
    assert not any("outbound" in n for n in s.notes)
    rows = contact_rows()
    assert {r["direction"] for r in rows} == {"inbound"}
    assert [r["phone_raw"] for r in rows] == ["4155550134", "2001", "6001", "6099", "6001", "6505550100"]


def test_outbound_calls_are_not_counted_as_the_customers_contacts(samples, run_import, store_path):
    run_import(samples / "asterisk" / "desk_calls.csv", settings=Settings(asterisk=DESK))
    top = desk.top_callers(store_path, Settings(), "week", 10)
    assert sorted((r["identifiers"][0], r["contacts"]) for r in top) == [
        ("extension:2001", 1), ("phone:+14155550134", 1), ("phone:+16505550100", 1),
    ]


def test_real_master_csv_with_client2_as_the_desk(shared_data, run_import, query):
    """Master.csv: client1 calls 6789 (ringing client2) 9 times, client2 calls 1234 (client1) 5
    times (awk -F'","' '{print $2, $3}' Master.csv | sort | uniq -c). With client2 the desk's
    extension: 9 inbound from client1, 5 outbound to 1234."""
    s = run_import(shared_data / "asterisk-cdr-custom-sample" / "Master.csv",
                   settings=Settings(asterisk=AsteriskSettings(desk_extensions=("client2",))))
    assert (s.read, s.imported, s.rejected) == (14, 14, 0)
    assert query("SELECT direction, coalesce(phone, extension), count(*) FROM contacts GROUP BY ALL ORDER BY ALL") == [
        ("inbound", "client1", 9), ("outbound", "1234", 5),
    ]
    assert query("SELECT DISTINCT agent_id FROM contacts WHERE direction = 'outbound'") == [("PJSIP/client2",)]


def test_asterisk_settings_from_toml(tmp_path):
    path = tmp_path / "recontact.toml"
    path.write_text('[asterisk]\ndesk_extensions = ["6001", " PJSIP/6002 "]\ndesk_queues = ["6000"]\n')
    settings = load_settings(path)
    assert settings.asterisk.desk_extensions == ("6001", "PJSIP/6002")
    path.write_text('[asterisk]\ndesk_extension = ["6001"]\n')
    with pytest.raises(ConfigError, match=r"asterisk\.desk_extension"):
        load_settings(path)


# --- cdr_csv with newcdrcolumns (21 fields: peeraccount, linkedid, sequence) --------------------


def test_legs_of_one_call_fold_into_one_contact(samples, run_import, contact_rows):
    """master_linkedid.csv (Latin-1, 13 records written by hand after cdr_csv.c's field order): a
    queue fan-out answered by the second of three agents, a call forwarded on no answer, a fan-out
    nobody answers, a busy call, one record written twice, an unknown disposition and a blind
    transfer. Legs share the linkedid; the uniqueid differs on the forwarded leg."""
    s = run_import(samples / "asterisk" / "master_linkedid.csv", tz=LA)
    assert "Asterisk cdr_csv column order, 21 fields" in s.notes
    assert (s.read, s.imported, s.folded, s.duplicates, s.rejected, s.conflicts) == (13, 6, 5, 1, 1, 0)
    assert s.read == s.imported + s.folded + s.duplicates + s.rejected + s.conflicts + s.skipped
    assert any(n.startswith("call legs: 11 CDR rows folded by linkedid, else uniqueid into 6 calls") for n in s.notes)
    rows = by_id(contact_rows)
    assert set(rows) == {"1772614800.101", "1772615400.110", "1772616000.120", "1772616600.130",
                         "1772617200.140", "1772618400.160"}
    fan = rows["1772614800.101"]  # 6002 answered 15 s in and talked 300 s
    assert (fan["answered"], fan["abandoned"], fan["wait_s"], fan["talk_s"]) == (True, False, 15, 300)
    assert (fan["agent_id"], fan["customer_name"], fan["phone"]) == ("PJSIP/6002", "José Núñez", "+14155550101")
    assert fan["started_at"] == datetime(2026, 3, 4, 17, 0, tzinfo=UTC)
    forwarded = rows["1772615400.110"]  # 20 s on 100, then 200 answered 5 s later
    assert (forwarded["answered"], forwarded["wait_s"], forwarded["talk_s"]) == (True, 25, 120)
    assert forwarded["agent_id"] == "PJSIP/200"
    nobody = rows["1772616000.120"]
    assert (nobody["answered"], nobody["abandoned"], nobody["wait_s"], nobody["talk_s"]) == (False, True, 30, 0)
    busy = rows["1772616600.130"]
    assert (busy["answered"], busy["abandoned"], busy["wait_s"]) == (False, False, 2)
    twice = rows["1772617200.140"]
    assert (twice["wait_s"], twice["talk_s"]) == (4, 60)  # the repeated record is a duplicate, not a leg
    transferred = rows["1772618400.160"]
    assert (transferred["wait_s"], transferred["talk_s"], transferred["agent_id"]) == (5, 180, "PJSIP/6002")


def test_reimporting_a_file_of_legs_is_all_duplicates(samples, run_import, tmp_path):
    data = (samples / "asterisk" / "master_linkedid.csv").read_bytes()
    run_import(samples / "asterisk" / "master_linkedid.csv", tz=LA)
    copy = tmp_path / "Master-copy.csv"
    copy.write_bytes(data + b"\n")  # other bytes, same records
    s = run_import(copy, tz=LA)
    assert (s.imported, s.duplicates, s.conflicts, s.folded) == (0, 7, 0, 5)


def test_detect_layout_new_cdr_columns():
    assert asterisk_cdr.detect_layout([*STANDARD_RECORD, "", "1767603600.1", "4"]) == [
        *asterisk_cdr.STANDARD, *asterisk_cdr.NEW_COLUMNS]
    without_userfield = [*STANDARD_RECORD[:17], "", "1767603600.1", "4"]
    assert asterisk_cdr.detect_layout(without_userfield) == [*asterisk_cdr.STANDARD[:17], *asterisk_cdr.NEW_COLUMNS]
