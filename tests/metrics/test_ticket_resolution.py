"""Ticket resolution time from the export's own resolve time (``resolved_at`` kept in ``extra`` as an
instant), else from the ticket's contacts: a ServiceNow incident folded into one contact no longer
shows a resolution of 0."""

from __future__ import annotations

from pathlib import Path

import pytest

from recontact import scorecard
from recontact.config import Settings

TICKETS = ("tickets_opened", "tickets_resolved", "resolution_median_s", "resolution_p90_s", "backlog")


def ticket_figures(db: Path, tz: str = "UTC") -> tuple[object, ...]:
    (row,) = scorecard.kpis(db, Settings(timezone=tz))
    return tuple(row[k] for k in TICKETS)


@pytest.mark.parametrize("tz", ["UTC", "Europe/Rome"])
def test_servicenow_event_log_resolution_from_resolved_at(samples: Path, run_import, store_path: Path,
                                                          tz: str) -> None:
    """INC0000101 opened 2/3/2026 09:15, resolved_at 4/3/2026 16:00 on its latest update: 197,100 s;
    INC0000102 opened 3/3 14:00, resolved 16:00: 7,200 s; INC0000103 and INC0000106 are New (the
    backlog). Median of the two 102,150 s; 90th percentile 7,200 + 0.9 * 189,900 = 178,110 s.
    Both times are read in the import's zone, so the durations do not depend on it."""
    run_import(samples / "servicenow" / "incident_event_log.csv", tz=tz)
    assert ticket_figures(store_path, tz) == (4, 2, 102_150.0, pytest.approx(178_110.0), 2)


def test_the_zone_of_the_export_counts_across_a_dst_change(tmp_path: Path, run_import, store_path: Path) -> None:
    """Opened Saturday 28 March 2026 12:00 in Rome, resolved Monday 30 March 12:00: the clocks went
    forward in between, so 47 hours, not 48."""
    export = tmp_path / "incidents.csv"
    export.write_text("number,opened_at,caller_id,incident_state,resolved_at\n"
                      "INC1,2026-03-28 12:00:00,Caller 1,Resolved,2026-03-30 12:00:00\n")
    run_import(export, tz="Europe/Rome")
    assert ticket_figures(store_path, "Europe/Rome") == (1, 1, 47 * 3600.0, 47 * 3600.0, 0)


def test_a_resolved_ticket_without_a_resolve_time_keeps_its_contacts_time(tmp_path: Path, run_import,
                                                                          store_path: Path) -> None:
    """Closed with no resolved_at: resolved at its first contact marked resolved, as before (0 s
    for an incident of one contact)."""
    export = tmp_path / "incidents.csv"
    export.write_text("number,opened_at,caller_id,incident_state,resolved_at\n"
                      "INC1,2026-03-02 09:00:00,Caller 1,Closed,\n")
    run_import(export)
    assert ticket_figures(store_path) == (1, 1, 0.0, 0.0, 0)


@pytest.mark.parametrize(("written", "seconds"), [("2026-03-03T09:00:00Z", 86_400.0),
                                                  ("2026-03-03 10:00:00+01:00", 86_400.0),
                                                  ("2026-03-03 09:00:00", 0.0)])
def test_a_kept_resolved_at_counts_only_with_its_zone(tmp_path: Path, run_import, store_path: Path,
                                                      written: str, seconds: float) -> None:
    """Any export's column resolved_at kept in extra is used when it names an instant (a zone or
    offset); a wall-clock time without one is ignored (its zone is unknown at report time)."""
    export = tmp_path / "tickets.csv"
    export.write_text("contact_id,started_at,phone,ticket_id,resolved,resolved_at\n"
                      f"c1,2026-03-02T09:00:00Z,4155550101,T1,true,{written}\n")
    run_import(export)
    assert ticket_figures(store_path) == (1, 1, seconds, seconds, 0)
