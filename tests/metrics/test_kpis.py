"""Desk KPIs (DESIGN.md, "Metric definitions": AHT, ASA, ACW, abandonment, service level,
escalation and truck-roll rates) from the store, checked against ``tests/reference.py``."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import scorecard
from recontact.config import Settings
from recontact.errors import ConfigError
from reference import Contact
from store_helpers import import_store

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
BREAKDOWNS = ((), ("day",), ("week",), ("month",), ("agent",), ("team",), ("queue",), ("channel",),
              ("category",), ("week", "channel"), ("agent", "month"))


NO_TICKETS = {"tickets_opened": 0, "tickets_resolved": 0, "resolution_median_s": None, "resolution_p90_s": None,
              "backlog": 0}


def approx_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: pytest.approx(v) if isinstance(v, float) else v for k, v in r.items()} for r in rows]


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.desk_sets(), by=st.sampled_from(BREAKDOWNS), tz=st.sampled_from(reference.TIMEZONES),
       threshold=st.sampled_from((20.0, 0.0, 5.0)))
def test_kpis_match_reference(contacts: list[Contact], by: tuple[str, ...], tz: str, threshold: float) -> None:
    """Every contact counts (identified or not, either direction); each rate's denominator only
    the contacts where its field is known; a zero denominator gives null; a wait exactly T is
    within the service level."""
    config = Settings(timezone=tz, service_level_seconds=threshold)
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        got = scorecard.kpis(db, config, by=list(by))
    assert got == approx_rows(reference.kpi_rows(contacts, by, tz, threshold))


def test_zero_denominators_are_null_not_zero(tmp_path: Path) -> None:
    """A desk of e-mails that say nothing of answering, waiting, escalating: every rate is null."""
    db = import_store(tmp_path, [Contact("e1", T0, email="ann@example.com", channel="email")], Settings())
    (row,) = scorecard.kpis(db, Settings())
    assert row == {"contacts": 1, "inbound": 1, "outbound": 0, "offered": 0, "answered": 0, "abandoned": 0,
                   "abandonment": None, "service_level": None, "service_level_s": 20.0, "asa_s": None,
                   "handled": 1, "aht_s": None, "acw_s": None, "escalation_rate": None, "truck_roll_rate": None,
                   **NO_TICKETS}


def test_hand_checked_call_figures(tmp_path: Path) -> None:
    """Three offered calls: one answered after 10 s (talk 100, hold 20, wrap 30), one after exactly
    20 s (talk 200, wrap 10), one abandoned after 40 s; one outbound call (talk 60)."""
    calls = [Contact("c1", T0, phone="4155550101", wait_s=10, answered=True, abandoned=False, talk_s=100, hold_s=20,
                     wrap_s=30, escalated=True, truck_roll=False),
             Contact("c2", T0, phone="4155550101", wait_s=20, answered=True, abandoned=False, talk_s=200, wrap_s=10,
                     escalated=False),
             Contact("c3", T0, phone="anonymous", wait_s=40, answered=False, abandoned=True),
             Contact("c4", T0, phone="4155550101", direction="outbound", answered=True, talk_s=60)]
    (row,) = scorecard.kpis(import_store(tmp_path, calls, Settings()), Settings())
    assert row == {"contacts": 4, "inbound": 3, "outbound": 1, "offered": 3, "answered": 2, "abandoned": 1,
                   "abandonment": 1 / 3, "service_level": 2 / 3, "service_level_s": 20.0, "asa_s": 15.0,
                   "handled": 3, "aht_s": (150 + 210 + 60) / 3, "acw_s": 20.0, "escalation_rate": 0.5,
                   "truck_roll_rate": 0.0, **NO_TICKETS}


def test_two_periods_at_once_is_an_error(tmp_path: Path) -> None:
    db = import_store(tmp_path, [Contact("e1", T0, email="ann@example.com")], Settings())
    with pytest.raises(ConfigError, match="one period"):
        scorecard.kpis(db, Settings(), by=["week", "month"])


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.desk_sets(), by=st.sampled_from(((), ("day",), ("week", "agent"), ("team",))),
       day=st.integers(0, 10), days=st.integers(0, 3))
def test_kpis_from_to(contacts: list[Contact], by: tuple[str, ...], day: int, days: int) -> None:
    """--from/--to choose the contacts, openings and resolutions reported (local days, inclusive);
    the backlog still counts every ticket."""
    config = Settings(timezone="America/New_York")
    first = min(c.started_at for c in contacts).astimezone(reference.ZoneInfo(config.timezone)).date()
    since = first + timedelta(days=day)
    until = since + timedelta(days=days)

    def reported(at: datetime) -> bool:
        return since <= reference.local_date(at, config.timezone) <= until

    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        got = scorecard.kpis(db, config, by=list(by), since=since, until=until)
    assert got == approx_rows(reference.kpi_rows(contacts, by, config.timezone, reported=reported))


def test_resolution_time_and_backlog_by_day(tmp_path: Path) -> None:
    """T1 opens day 0, resolved day 2 (48 h); T2 opens day 0, resolved on its first contact (0 s);
    T3 opens day 1, never resolved. Backlog at the end of day 0: 1 (T1), day 1: 2, day 2: 1."""
    day = timedelta(days=1)
    contacts = [Contact("a", T0, phone="4155550101", ticket_id="T1"),
                Contact("b", T0 + 2 * day, phone="4155550101", ticket_id="T1", resolved=True),
                Contact("c", T0, phone="2125550102", ticket_id="T2", resolved=True),
                Contact("d", T0 + day, phone="2125550102", ticket_id="T3", resolved=False)]
    rows = scorecard.kpis(import_store(tmp_path, contacts, Settings()), Settings(), by="day")
    assert [(r["period"], r["tickets_opened"], r["tickets_resolved"], r["resolution_median_s"],
             r["resolution_p90_s"], r["backlog"]) for r in rows] == [
        ("2026-03-02", 2, 1, 0.0, 0.0, 1), ("2026-03-03", 1, 0, None, None, 2),
        ("2026-03-04", 0, 1, 172800.0, 172800.0, 1)]
