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
from pathlib import Path

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
    assert (extra["Short description"], extra["reassignment_count"], extra["resolved_at"]) == (
        'Laptop "fan" noise', "2", None)  # the labels Reassignment count and Resolved, under their field names
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


LABELLED_COUNTS = "incident_list_counts.csv"
"""tests/data/servicenow/incident_list_counts.csv, a list export with the list view's labels:
INC0020001 resolved, never reopened nor reassigned; INC0020002 resolved, reopened once;
INC0020003 closed after 2 reassignments; INC0020004 in progress; INC0020005 closed with no
Resolved time. Opened to Resolved: 2 h, 24 h, 4 h, -, - (0: its one contact)."""
FIELD_NAMES = {"Number": "number", "Opened": "opened_at", "Caller": "caller_id", "Category": "category",
               "State": "state", "Assigned to": "assigned_to", "Reopen count": "reopen_count",
               "Reassignment count": "reassignment_count", "Resolved": "resolved_at", "Closed": "closed_at"}


def with_field_names(labelled: Path, target: Path) -> Path:
    """The same export with ServiceNow's field names as headers."""
    header, rest = labelled.read_text().split("\n", 1)
    target.write_text(",".join(f'"{FIELD_NAMES[h.strip(chr(34))]}"' for h in header.split(",")) + "\n" + rest)
    return target


@pytest.mark.parametrize("headers", ["labels", "field names"])
def test_list_labels_are_kept_under_the_field_names(samples, tmp_path, run_import, contact_rows, headers):
    path = samples / "servicenow" / LABELLED_COUNTS
    if headers == "field names":
        path = with_field_names(path, tmp_path / "incident_list_fields.csv")
    run_import(path, source="servicenow")
    extra = {r["contact_id"]: json.loads(r["extra"]) for r in contact_rows()}
    state = "State" if headers == "labels" else "state"  # other columns keep the file's header
    assert extra["INC0020003"] == {state: "Closed", "reopen_count": "0", "reassignment_count": "2",
                                   "resolved_at": "2026-04-02T12:00:00Z", "closed_at": "2026-04-03T12:00:00Z"}
    assert {k: (e["reopen_count"], e["reassignment_count"], e["resolved_at"]) for k, e in extra.items()} == {
        "INC0020001": ("0", "0", "2026-04-01T10:00:00Z"), "INC0020002": ("1", "0", "2026-04-02T09:00:00Z"),
        "INC0020003": ("0", "2", "2026-04-02T12:00:00Z"), "INC0020004": ("0", "0", None),
        "INC0020005": ("0", "0", None)}


@pytest.mark.parametrize("headers", ["labels", "field names"])
def test_list_labels_reach_ticket_fcr_and_resolution(samples, tmp_path, run_import, store_path, headers):
    """Resolved: 1, 2, 3, 5. Resolved first: 1 and 5 (2 was reopened, 3 reassigned): ticket FCR 1/2.
    Resolution times 2 h, 24 h, 4 h and 0 s: median 3 h, p90 4 h + 0.7 * 20 h = 18 h; backlog 1."""
    from recontact import scorecard
    from recontact.config import Settings

    path = samples / "servicenow" / LABELLED_COUNTS
    if headers == "field names":
        path = with_field_names(path, tmp_path / "incident_list_fields.csv")
    run_import(path, source="servicenow")
    (fcr,) = scorecard.fcr(store_path, Settings())
    assert (fcr["tickets"], fcr["tickets_resolved"], fcr["tickets_resolved_first"], fcr["ticket_fcr"]) == (
        5, 4, 2, 0.5)
    (kpis,) = scorecard.kpis(store_path, Settings())
    assert (kpis["tickets_resolved"], kpis["resolution_median_s"], kpis["resolution_p90_s"], kpis["backlog"]) == (
        4, 3 * 3600.0, pytest.approx(18 * 3600.0), 1)


# --- a list export at ServiceNow's cap, without sys_mod_count (issue 26) ------------------------

LIST_COLUMNS = ["number", "incident_state", "opened_at", "caller_id", "short_description", "sys_updated_on",
                "assignment_group", "calendar_duration", "closed_by"]
CALLERS = ["Patrick Brown (pab26)", "Beth Anglin (beth.anglin)", "David Loo (david.loo)", "Fred Luddy"]


def list_export(path: Path, rows: int = 10_000, repeated: int = 5) -> Path:
    """A list export as ServiceNow writes it (display values, ``yyyy-MM-dd HH:mm:ss`` times, every
    field quoted): ``rows`` rows, the first ``repeated`` incidents written twice — the second time
    further down with an *older* ``sys_updated_on`` and state In Progress, so that file order and
    update order disagree. Every seventh description spans two lines."""
    import csv

    def row(n: int, state: str, updated: str) -> list[str]:
        text = f"Cannot print, ticket {n}" + ("\nprinter on floor 3 shows error 49" if n % 7 == 0 else "")
        closed = state == "Closed"
        return [f"INC{n:07d}", state, f"2026-01-{5 + n % 20:02d} 09:{n % 60:02d}:00", CALLERS[n % len(CALLERS)],
                text, updated, "Service Desk", "2 Hours 5 Minutes" if closed else "", "Beth Anglin" if closed else ""]

    with path.open("w", newline="", encoding="utf-8") as f:
        out = csv.writer(f, quoting=csv.QUOTE_ALL)
        out.writerow(LIST_COLUMNS)
        for n in range(rows - repeated):
            out.writerow(row(n, "Closed", "2026-02-01 12:00:00"))
        for n in range(repeated):
            out.writerow(row(n, "In Progress", "2026-01-20 12:00:00"))
    return path


def test_list_export_at_the_cap_without_sys_mod_count(tmp_path, run_import, contact_rows):
    path = list_export(tmp_path / "incident.csv")
    s = run_import(path)
    assert s.source == "servicenow"
    assert (s.read, s.imported, s.folded, s.rejected, s.conflicts, s.duplicates) == (10_000, 9_995, 5, 0, 0, 0)
    assert any("ServiceNow's default export cap" in n for n in s.notes)
    rows = {r["contact_id"]: r for r in contact_rows()}
    first = rows["INC0000000"]  # written twice: the newer update (first in the file) wins
    assert first["resolved"] is True
    extra = json.loads(first["extra"])
    assert (extra["incident_state"], extra["closed_by"], extra["calendar_duration"]) == (
        "Closed", "Beth Anglin", "2 Hours 5 Minutes")
    assert (first["employee_id"], first["customer_name"]) == ("pab26", "Patrick Brown")
    assert rows["INC0000003"]["employee_id"] == "Fred Luddy"  # no login in brackets: the name itself
    assert "\nprinter on floor 3" in json.loads(rows["INC0000007"]["extra"])["short_description"]


def test_list_export_below_the_cap_has_no_cap_note(tmp_path, run_import):
    s = run_import(list_export(tmp_path / "incident.csv", rows=9_999))
    assert not any("export cap" in n for n in s.notes)
    assert (s.read, s.imported, s.folded) == (9_999, 9_994, 5)
