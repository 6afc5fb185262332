"""Repeats and first-contact resolution (DESIGN.md, "Metric definitions": Repeat contact, FCR)
from the store, checked against the brute force in ``tests/reference.py``.

Generated desks are imported with ``desk.import_contacts`` and measured with
``scorecard.fcr`` / ``scorecard.repeat_drivers``; the reference measures the same contacts with
plain Python loops written from the definition.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import scorecard
from recontact.config import Settings
from recontact.errors import ConfigError
from reference import Contact
from store_helpers import import_store

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")
ANN = "+14155550101"
BO = "+12125550102"
WINDOWS = (timedelta(hours=1), timedelta(hours=5), timedelta(days=1), timedelta(days=7))
GAPS = (timedelta(0), timedelta(0), timedelta(hours=1), timedelta(hours=2))


def measured(contacts: list[Contact], config: Settings, **kwargs: Any) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        return scorecard.fcr(db, config, **kwargs)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.desk_sets(), window=st.sampled_from(WINDOWS), gap=st.sampled_from(GAPS),
       by=st.sampled_from((None, "day", "week", "month", "agent", "team", "queue", "channel", "category")),
       tz=st.sampled_from(reference.TIMEZONES))
def test_fcr_matches_reference(contacts: list[Contact], window: timedelta, gap: timedelta, by: str | None,
                               tz: str) -> None:
    """FCR per breakdown: repeats less than W after the previous inbound contact of the same customer
    and category (exactly W apart: not a repeat; the same instant: the second by contact id is),
    transfers less than the transfer gap after it, issues counted only when t + W <= the latest
    contact (any direction), pending otherwise; outbound and unidentified contacts never count."""
    config = Settings(timezone=tz, repeat_window=window, transfer_gap=gap)
    got = measured(contacts, config, by=by)
    assert got == reference.fcr_rows(contacts, window, by, tz, gap)
    event(f"issues: {min(sum(r['issues'] for r in got), 3)}; pending: {min(sum(r['pending'] for r in got), 2)}")
    event(f"repeats: {min(sum(r['repeats'] for r in got), 3)}")


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.desk_sets(), window=st.sampled_from(WINDOWS), gap=st.sampled_from(GAPS))
def test_repeat_drivers_match_reference(contacts: list[Contact], window: timedelta, gap: timedelta) -> None:
    """Categories ranked by repeat contacts (then by name, no category last), with the share of
    their counted issues that needed more than one contact."""
    config = Settings(repeat_window=window, transfer_gap=gap)
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        got = scorecard.repeat_drivers(db, config)
    assert got == reference.repeat_driver_rows(contacts, window, gap)


@settings(max_examples=examples(30), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.desk_sets(), day=st.integers(0, 10), days=st.integers(0, 3))
def test_from_to_report_contacts_without_forgetting_earlier_ones(contacts: list[Contact], day: int,
                                                                 days: int) -> None:
    """--from/--to choose the contacts reported (local days, inclusive) while a contact's previous
    contact may lie before --from, and pending still means past the latest contact in the store."""
    config = Settings(timezone="America/New_York", repeat_window=timedelta(hours=5))
    first = min(c.started_at for c in contacts).astimezone(reference.ZoneInfo(config.timezone)).date()
    since = first + timedelta(days=day)
    until = since + timedelta(days=days)

    def reported(c: Contact) -> bool:
        return since <= reference.local_date(c.started_at, config.timezone) <= until

    got = measured(contacts, config, by="day", since=since, until=until)
    assert got == reference.fcr_rows(contacts, config.repeat_window, "day", config.timezone,
                                     reported=reported)


# --- explicit cases --------------------------------------------------------------------------


def _calls(*hours: float, phone: str = ANN, **fields: Any) -> list[Contact]:
    return [Contact(f"k{i}", T0 + timedelta(hours=h), phone=phone, **fields) for i, h in enumerate(hours)]


def _whole(contacts: list[Contact], window: str = "1d", **kwargs: Any) -> dict[str, Any]:
    """The store's one row, its per-customer figures only."""
    (row,) = measured(contacts, Settings.model_validate({"repeat_window": window, **kwargs}))
    return {k: v for k, v in row.items() if k in ("issues", "resolved_first", "fcr", "pending", "repeats",
                                                   "transfers")}


def test_exactly_w_apart_is_a_new_issue_and_one_microsecond_less_a_repeat() -> None:
    """A contact exactly W after the previous one opens a new issue; the first was resolved first."""
    latest = _calls(0, 24, 48)  # the last one only closes the window of the second
    assert _whole(latest) == {"issues": 2, "resolved_first": 2, "fcr": 1.0, "pending": 1, "repeats": 0,
                              "transfers": 0}
    near = [*_calls(0), Contact("k1", T0 + timedelta(hours=24) - timedelta(microseconds=1), phone=ANN),
            Contact("k2", T0 + timedelta(hours=48), phone=BO)]
    assert _whole(near) == {"issues": 1, "resolved_first": 0, "fcr": 0.0, "pending": 1, "repeats": 1,
                            "transfers": 0}


def test_pending_boundary_t_plus_w_equal_to_latest_is_counted() -> None:
    """t + W = the latest contact: the whole window is inside the data, so the issue is counted;
    the latest contact may be someone else's, even outbound."""
    contacts = [*_calls(0), Contact("z", T0 + timedelta(days=1), phone=BO, direction="outbound")]
    assert _whole(contacts) == {"issues": 1, "resolved_first": 1, "fcr": 1.0, "pending": 0, "repeats": 0,
                                "transfers": 0}
    contacts = [*_calls(0), Contact("z", T0 + timedelta(days=1) - timedelta(seconds=1), phone=BO,
                                    direction="outbound")]
    assert _whole(contacts)["pending"] == 1


def test_same_instant_the_second_is_a_repeat() -> None:
    assert _whole(_calls(0, 0, 30))["repeats"] == 1


def test_marked_unresolved_is_not_resolved_first_but_unknown_is() -> None:
    contacts = [Contact("a", T0, phone=ANN, resolved=False), Contact("b", T0, phone=BO),
                Contact("c", T0 + timedelta(days=2), account_id="X")]
    assert _whole(contacts) == {"issues": 2, "resolved_first": 1, "fcr": 0.5, "pending": 1, "repeats": 0,
                                "transfers": 0}


def test_categories_separate_issues_and_missing_categories_group_together() -> None:
    contacts = [Contact("a", T0, phone=ANN, category="billing"),
                Contact("b", T0 + timedelta(hours=1), phone=ANN, category="network"),
                Contact("c", T0 + timedelta(hours=2), phone=ANN),
                Contact("d", T0 + timedelta(hours=3), phone=ANN),
                Contact("e", T0 + timedelta(days=3), phone=BO)]
    assert _whole(contacts) == {"issues": 3, "resolved_first": 2, "fcr": 2 / 3, "pending": 1, "repeats": 1,
                                "transfers": 0}


def test_outbound_contacts_are_neither_issues_nor_repeats() -> None:
    contacts = [*_calls(0), Contact("o", T0 + timedelta(hours=1), phone=ANN, direction="outbound"),
                Contact("z", T0 + timedelta(days=2), phone=BO)]
    assert _whole(contacts) == {"issues": 1, "resolved_first": 1, "fcr": 1.0, "pending": 1, "repeats": 0,
                                "transfers": 0}


def test_transfer_gap_makes_a_quick_follow_up_a_transfer() -> None:
    contacts = [*_calls(0, 0.25, 3), Contact("z", T0 + timedelta(days=2), phone=BO)]
    assert _whole(contacts, transfer_gap="30m") == {"issues": 1, "resolved_first": 0, "fcr": 0.0, "pending": 1,
                                                    "repeats": 1, "transfers": 1}
    assert _whole(contacts)["repeats"] == 2


def test_no_contacts_no_issues_fcr_is_null() -> None:
    contacts = [Contact("o", T0, phone=ANN, direction="outbound")]
    assert _whole(contacts) == {"issues": 0, "resolved_first": 0, "fcr": None, "pending": 0, "repeats": 0,
                                "transfers": 0}


def test_unknown_breakdown_is_a_config_error(tmp_path: Path) -> None:
    db = import_store(tmp_path, _calls(0), Settings())
    with pytest.raises(ConfigError, match="cannot break down by 'shoe'"):
        scorecard.fcr(db, Settings(), by="shoe")


def test_period_labels_as_top(tmp_path: Path) -> None:
    db = import_store(tmp_path, _calls(0, 24 * 8), Settings())
    assert [r["period"] for r in scorecard.fcr(db, Settings(), by="day")] == ["2026-03-02", "2026-03-10"]
    assert [r["period"] for r in scorecard.fcr(db, Settings(), by="week")] == ["2026-W10", "2026-W11"]
    assert [r["period"] for r in scorecard.fcr(db, Settings(), by="month")] == ["2026-03"]
    assert date(2026, 3, 2).isocalendar()[1] == 10


# --- per ticket beside per customer ------------------------------------------------------------


def test_ticket_fcr_beside_customer_fcr(tmp_path: Path) -> None:
    """Three tickets, each closed on its only contact (per ticket: 100 %), but the same customer
    opened them a day apart about the same thing (per customer: 1 issue, not resolved first)."""
    contacts = [Contact(f"k{i}", T0 + timedelta(days=i), phone=ANN, ticket_id=f"T{i}", resolved=True,
                        agent_id="A1") for i in range(3)]
    contacts.append(Contact("z", T0 + timedelta(days=30), phone=BO))
    db = import_store(tmp_path, contacts, Settings())
    (row,) = scorecard.fcr(db, Settings())
    assert row == {"issues": 1, "resolved_first": 0, "fcr": 0.0, "pending": 1, "repeats": 2, "transfers": 0,
                   "tickets": 3, "tickets_resolved": 3, "tickets_resolved_first": 3, "ticket_fcr": 1.0,
                   "fcr_gap": 1.0}


def test_reopened_and_reassigned_tickets(tmp_path: Path) -> None:
    """T1: resolved, then another contact (reopened). T2: two agents (reassigned). T3: open.
    T4: resolved on its only contact, but the export says reassignment_count 2. T5 resolved once."""
    rows = [("a", 0, "T1", "true", "A1", ""), ("b", 1, "T1", "", "A1", ""), ("c", 2, "T2", "", "A1", ""),
            ("d", 3, "T2", "true", "A2", ""), ("e", 4, "T3", "false", "A1", ""), ("f", 5, "T4", "true", "A1", "2"),
            ("g", 6, "T5", "true", "A1", "0")]
    path = tmp_path / "tickets.csv"
    path.write_text("contact_id,started_at,account_id,ticket_id,resolved,agent_id,reassignment_count\n" + "".join(
        f"{cid},{(T0 + timedelta(hours=h)).isoformat()},X{h},{t},{r},{a},{n}\n" for cid, h, t, r, a, n in rows))
    from recontact import desk

    db = tmp_path / "t.duckdb"
    desk.import_contacts(db, desk.ImportRequest(path, source="csv"), Settings())
    (row,) = scorecard.fcr(db, Settings())
    assert (row["tickets"], row["tickets_resolved"], row["tickets_resolved_first"], row["ticket_fcr"]) == (
        5, 4, 1, 0.25)
