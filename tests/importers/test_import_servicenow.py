"""ServiceNow incidents: the event-log layout (one row per update) and the list export (labels,
quoted CSV, CRLF). Figures counted by hand from tests/data/servicenow/ (see each file's rows).

incident_event_log.csv (UCI column names, day-first times, ``?`` for missing): 12 rows.
INC0000101 on lines 2, 3, 5 (sys_mod_count 4, Closed), 6 (mod 3); INC0000102 on lines 4, 9
(mod 2), 10 (mod 1, Caller 9); INC0000103 on line 7 (caller ``?``, Self service); line 8 opened
31/2/2026 (no such day: rejected); line 11 has a 17th field (rejected); INC0000106 on lines 12
(updated 09:00) and 13 (updated 08:30), sys_mod_count ``?`` on both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact import importers
from recontact.importers import servicenow


@pytest.fixture
def event_log(samples):
    return samples / "servicenow" / "incident_event_log.csv"


@pytest.fixture
def incident_list(samples):
    return samples / "servicenow" / "incident_list.csv"


def test_event_log_one_contact_per_incident(event_log, run_import, contact_rows):
    s = run_import(event_log)  # guessed
    assert s.source == "servicenow"
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (12, 4, 0, 0, 2, 0, 6)
    assert [(r.line, r.reason[:40]) for r in s.rejects] == [
        (8, 'started_at "31/2/2026 10:00" does not ma'), (11, "too many columns: Expected Number of Col")]
    assert "times read as %d/%m/%Y %H:%M (give --time-format to choose another layout)" in s.notes
    assert any("10 rows of number folded into 4 contacts (2.5 rows per contact on average)" in n for n in s.notes)
    got = {r["contact_id"]: r for r in contact_rows()}
    assert sorted(got) == ["INC0000101", "INC0000102", "INC0000103", "INC0000106"]
    inc = got["INC0000101"]  # the latest update: sys_mod_count 4 on line 5, not the last row (line 6)
    assert (inc["line"], inc["started_at"], inc["employee_id"], inc["category"], inc["team"], inc["agent_id"],
            inc["ticket_id"], inc["channel"], inc["resolved"], inc["direction"]) == (
        5, datetime(2026, 3, 2, 9, 15, tzinfo=UTC), "Caller 7", "Category 4", "Group 2", "Resolver 5",
        "INC0000101", "phone", True, "inbound")
    extra = json.loads(inc["extra"])
    assert {k: extra[k] for k in ("incident_state", "reopen_count", "reassignment_count", "resolved_at", "closed_at",
                                  "priority")} == {
        "incident_state": "Closed", "reopen_count": "1", "reassignment_count": "1",
        "resolved_at": "2026-03-04T16:00:00Z", "closed_at": "2026-03-12T08:00:00Z",  # 4/3/2026 16:00 read in UTC
        "priority": "2 - High"}
    # sys_mod_count 2 (line 9) beats 1 (line 10, another caller)
    assert (got["INC0000102"]["line"], got["INC0000102"]["employee_id"], got["INC0000102"]["agent_id"]) == (
        9, "Caller 8", "Resolver 6")
    # ? is missing, never a string: no caller, no category, no agent; not resolved (state New)
    new = got["INC0000103"]
    assert (new["employee_id"], new["category"], new["agent_id"], new["channel"], new["resolved"],
            new["customer_key"]) == (None, None, None, "web", False, None)
    assert json.loads(new["extra"])["resolved_at"] is None
    # both sys_mod_count ?: the later sys_updated_at (line 12, 09:00) wins over file order
    assert (got["INC0000106"]["line"], got["INC0000106"]["category"]) == (12, "Category 5")


def test_event_log_callers(event_log, run_import, query):
    s = run_import(event_log, source="servicenow")
    assert s.unidentified == 1
    assert query("SELECT i.ident, count(*) FROM contacts c JOIN identifiers i USING (customer_key) "
                 "GROUP BY 1 ORDER BY 1") == [("employee:Caller 7", 2), ("employee:Caller 8", 1)]


def test_event_log_twice_adds_nothing(event_log, run_import):
    run_import(event_log)
    again = run_import(event_log)
    assert (again.imported, again.duplicates, again.folded, again.rejected) == (0, 4, 6, 2)


def test_incident_list_with_labels(incident_list, run_import, contact_rows):
    s = run_import(incident_list)
    assert s.source == "servicenow"
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.folded) == (5, 4, 0, 0, 1, 0)
    assert [r.line for r in s.rejects] == [5]
    assert s.rejects[0].reason.startswith('started_at "yesterday" is not an ISO 8601 time')
    assert not any(n.startswith(("event log", "times read as")) for n in s.notes)
    rows = {r["contact_id"]: r for r in contact_rows()}
    assert {k: (r["line"], r["employee_id"], r["agent_id"], r["team"], r["channel"], r["resolved"])
            for k, r in rows.items()} == {
        "INC0010001": (2, "Abel Tuter", "Beth Anglin", "Service Desk", "phone", True),
        "INC0010002": (3, "Abel Tuter", "Fred Luddy", "Hardware", "email", False),
        "INC0010003": (4, None, None, None, "web", False),
        "INC0010005": (6, "Bud Richman", "Beth Anglin", "Service Desk", "walk-in", True),
    }
    extra = json.loads(rows["INC0010002"]["extra"])
    assert (extra["Short description"], extra["Reassignment count"], extra["Resolved"]) == (
        'Laptop "fan" noise', "2", None)
    assert json.loads(rows["INC0010005"]["extra"])["Short description"] == "Outlook crashes\r\non start"


def test_sniff_and_missing_columns(incident_list, event_log, samples, tmp_path):
    assert importers.guess_format(event_log) is servicenow
    assert importers.guess_format(incident_list) is servicenow
    assert importers.guess_format(samples / "csv" / "canonical.csv") is not servicenow
    bad = tmp_path / "no_opened.csv"
    bad.write_text("number,caller_id\nINC1,Caller 1\n")
    from recontact.errors import InputFileError

    with pytest.raises(InputFileError, match="no opened_at column"):
        servicenow.scan(None, bad, importers.base.ImportOptions())


def test_time_format_detection():
    assert servicenow.time_format(["29/2/2016 01:16", "5/3/2016 12:00", "?"]) == "%d/%m/%Y %H:%M"
    assert servicenow.time_format(["2016-02-29 01:16:00", "bad"]) is None
    assert servicenow.time_format(["02/29/2016 01:16:00"]) == "%m/%d/%Y %H:%M:%S"
    assert servicenow.time_format(["03/02/2016 01:16"]) == "%d/%m/%Y %H:%M"  # ambiguous: day first
