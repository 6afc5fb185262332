"""Top-N callers (DESIGN.md, "Metric definitions": Top-N callers — "per ISO week and per calendar
month (configured time zone), by inbound contact count, ties by total handle time, then by
customer key") from the store, checked against the brute-force reference.

Generated contacts are written to a canonical CSV, imported with ``desk.import_contacts`` and
ranked with ``desk.top_callers``; ``tests/reference.py`` ranks them with plain Python, using the
local date in the configured zone and ``date.isocalendar()``.
"""

from __future__ import annotations

import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import desk
from recontact.config import Settings
from reference import Contact
from store_helpers import import_store, store_keys

ANN = "+14155550101"
BO = "+12125550102"
CY = "+16175550103"


def check_top(contacts: list[Contact], config: Settings, period: str, n: int,
              query: Settings | None = None) -> list[dict[str, Any]]:
    """Import, rank, compare with the reference (same rows, same order); return the store's rows.
    ``query`` settings (e.g. with a deny list) apply to the ranking only, not to the import."""
    query = query or config
    deny = reference.deny_identifiers(query.deny_list)
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        got = desk.top_callers(db, query, period, n)
        keys = store_keys(db, contacts, deny)  # as the query's deny list left them
    expected = reference.top_callers(contacts, period, n, query.timezone, deny=deny, key_of=keys)
    assert [(r["period"], r["rank"], frozenset(r["identifiers"]), r["contacts"], r["handle_s"]) for r in got] == [
        (e.period, e.rank, e.customer, e.contacts, e.handle_s) for e in expected]
    for row in got:
        assert row["customer_key"] == f"C{keys[frozenset(row['identifiers'])]}"
    return got


_T = datetime.fromisoformat("2026-01-01T00:00:00+00:00")


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.contact_sets(), tz=st.sampled_from(reference.TIMEZONES),
       period=st.sampled_from(("week", "month")), n=st.integers(1, 4),
       deny=st.sampled_from(((), (), (reference.OFFICE_LINE,))))
def test_top_callers_match_reference(contacts: list[Contact], tz: str, period: str, n: int,
                                     deny: tuple[str, ...]) -> None:
    """Top-N callers per ISO week / calendar month in the configured zone: inbound contacts of
    identified customers by count, then handle time (talk + hold + wrap, missing as 0), then
    customer key; outbound and withheld-only contacts never count; a contact on a shared line
    (deny-listed, or a hub) counts for the e-mail beside it."""
    got = check_top(contacts, Settings(timezone=tz, deny_list=deny), period, n)
    event(f"periods: {min(len({r['period'] for r in got}), 3)}")
    event(f"ranked: {min(len(got), 4)}")


# --- explicit: which local period a contact lands in ------------------------------------------


def _at(text: str, phone: str | None = ANN, cid: str = "k0", **fields: Any) -> Contact:
    ts = datetime.fromisoformat(text)
    offset = ts.utcoffset()
    assert offset is not None
    return Contact(cid, ts, phone=phone, offset=offset, **fields)


def _periods(text: str, tz: str, period: str) -> list[str]:
    return [r["period"] for r in check_top([_at(text)], Settings(timezone=tz), period, 5)]


@pytest.mark.parametrize(("text", "tz", "period", "expected"), [
    # 2026-03-31 23:30 EDT is 2026-04-01 03:30 UTC.
    ("2026-03-31T23:30:00-04:00", "America/New_York", "month", "2026-03"),
    ("2026-03-31T23:30:00-04:00", "UTC", "month", "2026-04"),
    # UK summer time (from 29 March): 1 April 00:30 BST is 31 March 23:30 UTC.
    ("2026-04-01T00:30:00+01:00", "Europe/London", "month", "2026-04"),
    ("2026-04-01T00:30:00+01:00", "UTC", "month", "2026-03"),
    # Before the US switch back (1 November): 31 October 23:30 EDT is 1 November 03:30 UTC.
    ("2026-10-31T23:30:00-04:00", "America/New_York", "month", "2026-10"),
    ("2026-10-31T23:30:00-04:00", "UTC", "month", "2026-11"),
    # 1 October 00:30 BST is 30 September 23:30 UTC.
    ("2026-10-01T00:30:00+01:00", "Europe/London", "month", "2026-10"),
    ("2026-10-01T00:30:00+01:00", "UTC", "month", "2026-09"),
    # Winter: 31 January 23:30 EST; 1 February 00:00 GMT is the first instant of February.
    ("2026-01-31T23:30:00-05:00", "America/New_York", "month", "2026-01"),
    ("2026-02-01T00:00:00+00:00", "Europe/London", "month", "2026-02"),
    ("2026-01-31T23:59:59.999999+00:00", "Europe/London", "month", "2026-01"),
])
def test_month_is_the_local_calendar_month(text: str, tz: str, period: str, expected: str) -> None:
    """Top-N callers per calendar month in the configured zone: contacts near local midnight at
    month ends, in and out of summer time, land in their local month."""
    assert _periods(text, tz, period) == [expected]


@pytest.mark.parametrize(("text", "tz", "expected"), [
    # The US switches to summer time on Sunday 8 March 2026: Sunday 23:30 EDT is Monday 03:30 UTC.
    ("2026-03-08T23:30:00-04:00", "America/New_York", "2026-W10"),
    ("2026-03-08T23:30:00-04:00", "UTC", "2026-W11"),
    # ... and 01:30 EST on the switch day, just before clocks jump.
    ("2026-03-08T01:30:00-05:00", "America/New_York", "2026-W10"),
    # The UK switches on Sunday 29 March: Monday 30 March 00:30 BST is Sunday 23:30 UTC.
    ("2026-03-30T00:30:00+01:00", "Europe/London", "2026-W14"),
    ("2026-03-30T00:30:00+01:00", "UTC", "2026-W13"),
    # The UK switches back on Sunday 25 October; the US on Sunday 1 November.
    ("2026-10-26T00:30:00+00:00", "Europe/London", "2026-W44"),
    ("2026-10-25T23:30:00+00:00", "Europe/London", "2026-W43"),
    ("2026-11-01T23:30:00-05:00", "America/New_York", "2026-W44"),
    ("2026-11-01T23:30:00-05:00", "UTC", "2026-W45"),
    ("2026-11-01T01:30:00-04:00", "America/New_York", "2026-W44"),  # first of the repeated hour
    ("2026-11-01T01:30:00-05:00", "America/New_York", "2026-W44"),  # second of the repeated hour
])
def test_iso_week_is_the_local_week_around_dst_switches(text: str, tz: str, expected: str) -> None:
    """Top-N callers per ISO week in the configured zone: weeks start at local Monday 00:00, also in
    the weeks clocks change."""
    assert _periods(text, tz, "week") == [expected]
    local = datetime.fromisoformat(text).astimezone(ZoneInfo(tz)).date()
    assert expected == "{}-W{:02d}".format(*local.isocalendar()[:2])


@pytest.mark.parametrize(("text", "tz", "week", "month"), [
    # 2026 has 53 ISO weeks: 2026-W53 runs Monday 28 December 2026 to Sunday 3 January 2027.
    ("2026-12-31T12:00:00+00:00", "UTC", "2026-W53", "2026-12"),
    ("2027-01-01T12:00:00+00:00", "UTC", "2026-W53", "2027-01"),
    ("2027-01-03T23:30:00-05:00", "America/New_York", "2026-W53", "2027-01"),
    ("2027-01-03T23:30:00-05:00", "UTC", "2027-W01", "2027-01"),
    ("2027-01-04T00:00:00+00:00", "Europe/London", "2027-W01", "2027-01"),
    # 2026-W01 starts on Monday 29 December 2025 (1 January 2026 is a Thursday).
    ("2025-12-29T00:00:00+00:00", "Europe/London", "2026-W01", "2025-12"),
    ("2025-12-28T23:59:59+00:00", "Europe/London", "2025-W52", "2025-12"),
    ("2025-12-31T22:00:00-05:00", "America/New_York", "2026-W01", "2025-12"),
    ("2025-12-31T22:00:00-05:00", "UTC", "2026-W01", "2026-01"),
])
def test_iso_week_53_and_week_1_across_new_year(text: str, tz: str, week: str, month: str) -> None:
    """Top-N callers per ISO week: the ISO year of the week, not the calendar year, names it
    (2026-W53 holds 1 January 2027; 2026-W01 holds 29 December 2025); months stay calendar months."""
    local = datetime.fromisoformat(text).astimezone(ZoneInfo(tz)).date()
    assert week == "{}-W{:02d}".format(*local.isocalendar()[:2])
    assert _periods(text, tz, "week") == [week]
    assert _periods(text, tz, "month") == [month]


def test_iso_calendar_facts_used_above() -> None:
    """The calendar facts the week tests rely on (date.isocalendar)."""
    assert date(2026, 12, 31).isocalendar()[:2] == (2026, 53)
    assert date(2027, 1, 1).isocalendar()[:2] == (2026, 53)
    assert date(2027, 1, 4).isocalendar()[:2] == (2027, 1)
    assert date(2025, 12, 29).isocalendar()[:2] == (2026, 1)


# --- explicit: ranking and what counts -----------------------------------------------------------


def test_rank_by_count_then_handle_time_then_customer_key() -> None:
    """Top-N callers: more contacts first; equal counts by more handle time (talk + hold + wrap,
    missing parts as 0); equal both by the smaller customer key; only the top n are listed."""
    base = "2026-02-02T10:00:00+00:00"
    contacts = [
        _at(base, ANN, "a1", talk_s=10.0), _at(base, ANN, "a2", hold_s=5.0),             # 2 contacts, 15 s
        _at(base, BO, "b1", talk_s=100.0, wrap_s=None), _at(base, BO, "b2"),             # 2 contacts, 100 s
        _at(base, CY, "c1", talk_s=7.0), _at(base, CY, "c2", talk_s=3.0, hold_s=5.0),    # 2 contacts, 15 s
        _at(base, "+13125550104", "d1", talk_s=1000.0),                                  # 1 contact
    ]
    got = check_top(contacts, Settings(), "week", 3)
    assert [(r["identifiers"], r["contacts"], r["handle_s"]) for r in got[:1]] == [([f"phone:{BO}"], 2, 100.0)]
    tied = [r for r in got if r["handle_s"] == 15.0]
    assert len(tied) == 2
    keys = [int(r["customer_key"][1:]) for r in tied]
    assert keys == sorted(keys)
    assert [r["rank"] for r in got] == [1, 2, 3]
    assert all(r["period"] == "2026-W06" for r in got)


def test_outbound_and_withheld_are_never_ranked() -> None:
    """Top-N callers count inbound contacts of identified customers: outbound calls do not count
    (a customer only called back is not ranked) and withheld caller ids are no customer."""
    base = "2026-02-02T10:00:00+00:00"
    contacts = [
        _at(base, ANN, "a1"),
        _at(base, BO, "b1", direction="outbound"), _at(base, BO, "b2", direction="outbound"),
        _at(base, "anonymous", "w1"), _at(base, "anonymous", "w2"), _at(base, "Restricted", "w3"),
        _at(base, "", "w4"), _at(base, "0000000000", "w5"),
    ]
    got = check_top(contacts, Settings(), "month", 5)
    assert [(r["identifiers"], r["contacts"]) for r in got] == [([f"phone:{ANN}"], 1)]


def test_deny_listed_number_is_not_ranked_even_when_listed_after_import() -> None:
    """Settings deny_list (shared numbers kept out of rankings), applied at query time: a number
    imported before it was listed is not ranked; the others keep their order."""
    base = "2026-02-02T10:00:00+00:00"
    contacts = [_at(base, ANN, "a1"), _at(base, ANN, "a2"), _at(base, ANN, "a3"), _at(base, BO, "b1")]
    before = check_top(contacts, Settings(), "week", 5)
    assert [r["identifiers"] for r in before] == [[f"phone:{ANN}"], [f"phone:{BO}"]]
    after = check_top(contacts, Settings(), "week", 5, query=Settings(deny_list=("(415) 555-0101",)))
    assert [(r["identifiers"], r["rank"]) for r in after] == [([f"phone:{BO}"], 1)]


def test_deny_listed_number_at_import_is_not_ranked() -> None:
    """Settings deny_list at import: contacts from a shared number are stored but not ranked while
    it is listed; taking it off the list re-resolves identities on the next command (no re-import)."""
    base = "2026-02-02T10:00:00+00:00"
    config = Settings(deny_list=("+1 415 555 0101",))
    contacts = [_at(base, ANN, "a1"), _at(base, BO, "b1")]
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        assert [r["identifiers"] for r in desk.top_callers(db, config, "week", 5)] == [[f"phone:{BO}"]]
        unlisted = desk.top_callers(db, Settings(), "week", 5)
        assert sorted(r["identifiers"] for r in unlisted) == [[f"phone:{BO}"], [f"phone:{ANN}"]]
        assert [r["identifiers"] for r in desk.top_callers(db, config, "week", 5)] == [[f"phone:{BO}"]]


def test_one_customer_under_several_identifiers_is_ranked_once() -> None:
    """Customer (identifiers seen together are one): a number and an e-mail on one record make one
    customer, whose contacts by either identifier add up."""
    base = "2026-02-02T10:00:00+00:00"
    contacts = [_at(base, ANN, "a1"), _at(base, None, "a2", email="Ann@Example.com", channel="email"),
                _at(base, "(415) 555-0101", "a3", email="ann@example.com"), _at(base, BO, "b1"),
                _at(base, BO, "b2")]
    got = check_top(contacts, Settings(), "week", 5)
    assert [(sorted(r["identifiers"]), r["contacts"]) for r in got] == [
        (["email:ann@example.com", f"phone:{ANN}"], 3), ([f"phone:{BO}"], 2)]


def test_period_boundaries_in_one_ranking() -> None:
    """Top-N callers are ranked within each period: contacts either side of a local month end are
    ranked in their own months."""
    contacts = [_at("2026-03-31T23:30:00-04:00", ANN, "a1", talk_s=10.0),
                _at("2026-04-01T00:30:00-04:00", ANN, "a2"),
                _at("2026-04-01T00:10:00-04:00", BO, "b1"), _at("2026-04-01T00:20:00-04:00", BO, "b2")]
    got = check_top(contacts, Settings(timezone="America/New_York"), "month", 5)
    assert [(r["period"], r["rank"], r["identifiers"], r["contacts"]) for r in got] == [
        ("2026-03", 1, [f"phone:{ANN}"], 1), ("2026-04", 1, [f"phone:{BO}"], 2),
        ("2026-04", 2, [f"phone:{ANN}"], 1)]
    # In UTC all four are April: two each, and ANN's handle time breaks the tie.
    got = check_top(contacts, Settings(timezone="UTC"), "month", 5)
    assert [(r["period"], r["identifiers"], r["contacts"]) for r in got] == [
        ("2026-04", [f"phone:{ANN}"], 2), ("2026-04", [f"phone:{BO}"], 2)]


def test_handle_time_ties_across_missing_parts() -> None:
    """AHT = talk + hold + wrap with missing parts as 0: 60 + missing + missing ties 20 + 20 + 20."""
    base = "2026-02-02T10:00:00+00:00"
    contacts = [_at(base, ANN, "a1", talk_s=60.0),
                _at(base, BO, "b1", talk_s=20.0, hold_s=20.0, wrap_s=20.0)]
    got = check_top(contacts, Settings(), "week", 5)
    assert [r["handle_s"] for r in got] == [60.0, 60.0]

