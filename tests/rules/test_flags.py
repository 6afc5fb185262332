"""Flags (DESIGN.md, "Concepts": Rule and Flag) from the store, checked against the reference.

A rule is "at least N inbound contacts within W" (optionally same category, one channel,
unresolved only) on the trailing, half-open window (t - W, t]; a flag is the rule firing for a
customer at the contact that crossed the threshold. Generated contacts are written to a canonical
CSV, imported with ``desk.import_contacts`` and flagged with ``desk.list_flags``; the brute-force
``tests/reference.py`` must give the same flags.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import desk
from recontact.config import Settings
from recontact.rules.spec import DEFAULT_RULES, Rule
from reference import Contact
from store_helpers import import_store, store_keys

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANN = "+14155550101"
BO = "+12125550102"


def flag_rows(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["rule"], frozenset(r["identifiers"]), r["crossed_at"], r["count"], r["contact_id"],
             r["category"], r["closed_at"]) for r in rows]


def reference_rows(flags: list[reference.Flag]) -> list[tuple[Any, ...]]:
    return [(f.rule, f.customer, f.crossed_at, f.count, f.contact_id, f.category, f.closed_at) for f in flags]


def check_flags(contacts: list[Contact], config: Settings) -> list[dict[str, Any]]:
    """Import, list flags, compare with the reference (same flags, same order); return the rows."""
    deny = reference.deny_identifiers(config.deny_list)
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        keys = store_keys(db, contacts, deny)
        got = desk.list_flags(db, config)
    expected = reference.flags(contacts, config.rules, deny, key_of=keys)
    assert flag_rows(got) == reference_rows(expected)
    for row in got:
        assert row["customer_key"] == f"C{keys[frozenset(row['identifiers'])]}"
        assert row["crossed_at"].tzinfo is not None
    return got


WINDOWS = (timedelta(hours=1), timedelta(hours=2), timedelta(days=1), timedelta(days=2), timedelta(days=7),
           timedelta(days=30))


@st.composite
def rule_sets(draw: st.DrawFn) -> tuple[Rule, ...]:
    """1-3 rules with random thresholds, windows and narrowing options."""
    size = draw(st.integers(1, 3))
    return tuple(
        Rule(name=f"r{i}", min_contacts=draw(st.sampled_from((2, 2, 3, 4))), window=draw(st.sampled_from(WINDOWS)),
             same_category=draw(st.booleans()), channel=draw(st.sampled_from((None, None, "phone", "email"))),
             unresolved_only=draw(st.booleans()))
        for i in range(size)
    )


@settings(max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.contact_sets(), rules=rule_sets(), tz=st.sampled_from(reference.TIMEZONES),
       deny=st.sampled_from(((), (), (reference.OFFICE_LINE,))))
def test_flags_match_reference(contacts: list[Contact], rules: tuple[Rule, ...], tz: str,
                               deny: tuple[str, ...]) -> None:
    """Flag: per rule and customer, the first contact (by time, then contact id) whose trailing
    count in (t - W, t] reaches N, with that count; rules with same category, one channel and
    unresolved only; outbound and withheld-only contacts never count; a contact on a shared line
    (deny-listed, or a hub) counts for the e-mail beside it."""
    got = check_flags(contacts, Settings(timezone=tz, rules=rules, deny_list=deny))
    event(f"shared line: {'deny-listed' if deny else 'linking'}")
    event(f"flags: {min(len(got), 3)}{'+' if len(got) > 3 else ''}")
    event(f"closed: {min(sum(r['closed_at'] is not None for r in got), 2)}")
    reopened = {(r["rule"], r["customer_key"], r["category"]) for r in got}
    event(f"reopened: {len(reopened) < len(got)}")


@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.contact_sets())
def test_default_rules_match_reference(contacts: list[Contact]) -> None:
    """Flag with the default rules (DESIGN.md, "Rule": sane defaults): 5 within 30 days; 3 in the
    same category within 7 days."""
    got = check_flags(contacts, Settings(rules=DEFAULT_RULES))
    event(f"flags: {min(len(got), 2)}{'+' if len(got) > 2 else ''}")


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.burst_sets(), tz=st.sampled_from(reference.TIMEZONES))
def test_default_rules_episodes_in_bursts_match_reference(contacts: list[Contact], tz: str) -> None:
    """Flag episodes with the default rules on bursts (ties, several customers and categories):
    every episode's crossing contact, count, closed_at and category equal the reference's."""
    got = check_flags(contacts, Settings(timezone=tz, rules=DEFAULT_RULES))
    episodes = {(r["rule"], r["customer_key"], r["category"]) for r in got}
    event(f"reopened: {len(episodes) < len(got)}")
    event(f"open: {min(sum(r['closed_at'] is None for r in got), 2)}")


# --- explicit boundaries ---------------------------------------------------------------------

TWO_IN_1H = Rule(name="two-in-1h", min_contacts=2, window=timedelta(hours=1))


def _calls(*offsets: timedelta, phone: str = ANN, **fields: Any) -> list[Contact]:
    return [Contact(f"k{i}", T0 + off, phone=phone, **fields) for i, off in enumerate(offsets)]


@pytest.mark.parametrize("window", [timedelta(hours=1), timedelta(days=7)])
def test_rule_window_exactly_w_apart_do_not_count_together(tmp_path: Path, window: timedelta) -> None:
    """Rule window (t - W, t], half-open: two contacts exactly W apart never make 2 within W."""
    rule = Rule(name="two", min_contacts=2, window=window)
    assert check_flags(_calls(timedelta(0), window), Settings(rules=(rule,))) == []


@pytest.mark.parametrize("less", [timedelta(seconds=1), timedelta(microseconds=1)])
@pytest.mark.parametrize("window", [timedelta(hours=1), timedelta(days=7)])
def test_rule_window_just_under_w_apart_count_together(window: timedelta, less: timedelta) -> None:
    """Rule window (t - W, t]: one second or one microsecond less than W apart is within W; the
    flag is at the second contact, with count 2."""
    rule = Rule(name="two", min_contacts=2, window=window)
    got = check_flags(_calls(timedelta(0), window - less), Settings(rules=(rule,)))
    assert [(r["contact_id"], r["count"], r["crossed_at"]) for r in got] == [("k1", 2, T0 + window - less)]


def test_rule_contacts_at_the_same_instant_both_count() -> None:
    """Rule window (t - W, t], closed at t: two contacts at the same instant are 2 within W; the
    flag names the one with the smaller contact id and counts both."""
    contacts = [Contact("z9", T0, phone=ANN), Contact("a1", T0, phone=ANN)]
    got = check_flags(contacts, Settings(rules=(TWO_IN_1H,)))
    assert [(r["contact_id"], r["count"]) for r in got] == [("a1", 2)]


def test_flag_fires_once_at_the_crossing_contact() -> None:
    """Flag: the rule fires at the contact that crossed the threshold, and not again while open
    (later contacts of the same episode add no flag)."""
    gaps = [timedelta(minutes=m) for m in (0, 10, 20, 30, 200, 210)]
    got = check_flags(_calls(*gaps), Settings(rules=(Rule(name="three", min_contacts=3,
                                                          window=timedelta(hours=1)),)))
    # Count 3 at 0:20, 4 at 0:30; it drops to 2 when the 0:10 contact leaves at 1:10.
    assert [(r["contact_id"], r["count"], r["identifiers"], r["closed_at"]) for r in got] == [
        ("k2", 3, [f"phone:{ANN}"], T0 + timedelta(hours=1, minutes=10))]


THREE_IN_1H = Rule(name="three", min_contacts=3, window=timedelta(hours=1))
MIN = timedelta(minutes=1)


def episode_rows(got: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(r["contact_id"], r["crossed_at"], r["count"], r["closed_at"]) for r in got]


def test_flag_still_open_at_the_latest_contact() -> None:
    """Flag closed_at: null while the closing instant (here 0:00 + 1h) is later than the latest
    contact in the store (0:20); `--open` lists it."""
    got = check_flags(_calls(0 * MIN, 10 * MIN, 20 * MIN), Settings(rules=(THREE_IN_1H,)))
    assert episode_rows(got) == [("k2", T0 + 20 * MIN, 3, None)]


def test_flag_closes_at_the_latest_contact_of_the_whole_store(tmp_path: Path) -> None:
    """Flag closed_at: the latest contact is the store's, not the customer's — another customer's
    (or an outbound) contact after the closing instant closes the flag; one just before leaves it
    open; one exactly at it closes it."""
    ann = _calls(0 * MIN, 10 * MIN, 20 * MIN)
    for later, closed in ((59 * MIN, None), (60 * MIN, T0 + 60 * MIN), (61 * MIN, T0 + 60 * MIN)):
        got = check_flags([*ann, Contact("b", T0 + later, phone=BO)], Settings(rules=(THREE_IN_1H,)))
        assert episode_rows(got) == [("k2", T0 + 20 * MIN, 3, closed)]
        got = check_flags([*ann, Contact("o", T0 + later, phone=ANN, direction="outbound")],
                          Settings(rules=(THREE_IN_1H,)))
        assert episode_rows(got) == [("k2", T0 + 20 * MIN, 3, closed)]


def test_flag_reopens_after_it_closed() -> None:
    """Flag episodes: a later crossing opens a new flag (January and again in June: two flags)."""
    calls = _calls(0 * MIN, 10 * MIN, 20 * MIN, 300 * MIN, 310 * MIN, 320 * MIN, 330 * MIN, 1000 * MIN)
    got = check_flags(calls, Settings(rules=(THREE_IN_1H,)))
    assert episode_rows(got) == [("k2", T0 + 20 * MIN, 3, T0 + 60 * MIN),
                                 ("k5", T0 + 320 * MIN, 3, T0 + 370 * MIN)]
    got = desk_open_flags(calls, Settings(rules=(THREE_IN_1H,)))
    assert got == []


def desk_open_flags(contacts: list[Contact], config: Settings) -> list[tuple[Any, ...]]:
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        return episode_rows(desk.list_flags(db, config, open_only=True))


TWO_IN_1H_ = Rule(name="two", min_contacts=2, window=timedelta(hours=1))


def test_contact_arriving_as_another_leaves_keeps_the_flag_open() -> None:
    """Flag closing at t_j + W, exact boundary: a contact at exactly 0:00 + W is inside (t - W, t]
    of itself while the 0:00 contact has left; the count stays 2, the flag neither closes nor
    reopens there; it closes when the 0:30 contact leaves at 1:30 (count in (0:30, 1:30] is 1)."""
    calls = [*_calls(0 * MIN, 30 * MIN, 60 * MIN), Contact("b", T0 + 120 * MIN, phone=BO)]
    got = check_flags(calls, Settings(rules=(TWO_IN_1H_,)))
    assert episode_rows(got) == [("k1", T0 + 30 * MIN, 2, T0 + 90 * MIN)]


def test_contact_one_microsecond_after_another_leaves_reopens() -> None:
    """Flag episodes at t - W: the count in [t - W, t) decides; a contact 1 µs after the 0:00
    contact left finds the count at 1 (only 0:30): the flag closed at 1:00 and a new one opens."""
    us = timedelta(microseconds=1)
    calls = [*_calls(0 * MIN, 30 * MIN, 60 * MIN + us), Contact("b", T0 + 120 * MIN, phone=BO)]
    got = check_flags(calls, Settings(rules=(TWO_IN_1H_,)))
    assert episode_rows(got) == [("k1", T0 + 30 * MIN, 2, T0 + 60 * MIN),
                                 ("k2", T0 + 60 * MIN + us, 2, T0 + 90 * MIN)]


def test_contacts_at_one_instant_open_one_flag_named_by_the_smaller_id() -> None:
    """Flag ties: three contacts at one instant open one flag with count 3, named by the smallest
    contact id; it closes when all three leave together, at t + W."""
    contacts = [Contact(cid, T0, phone=ANN) for cid in ("m5", "b2", "x9")] + [Contact("z", T0 + 2 * MIN * 60,
                                                                                    phone=BO)]
    got = check_flags(contacts, Settings(rules=(THREE_IN_1H,)))
    assert episode_rows(got) == [("b2", T0, 3, T0 + 60 * MIN)]


def test_same_category_rule_flags_per_category_and_other_rules_carry_no_category() -> None:
    """Same-category rule: one flag per customer and category, with the category; a rule without
    categories flags the customer once, category null."""
    calls = [Contact(f"n{i}", T0 + i * MIN, phone=ANN, category="network") for i in range(2)]
    calls += [Contact(f"b{i}", T0 + i * MIN, phone=ANN, category="billing") for i in range(2)]
    per_category = Rule(name="cat", min_contacts=2, window=timedelta(hours=1), same_category=True)
    got = check_flags(calls, Settings(rules=(per_category, TWO_IN_1H_)))
    assert [(r["rule"], r["category"], r["contact_id"], r["crossed_at"]) for r in got] == [
        ("two", None, "b0", T0),
        ("cat", "billing", "b1", T0 + MIN), ("cat", "network", "n1", T0 + MIN)]


def test_custom_window_two_within_an_hour_per_customer() -> None:
    """Rule "at least 2 inbound contacts within 1h": counted per customer, not across customers."""
    contacts = [Contact("a", T0, phone=ANN), Contact("b", T0 + timedelta(minutes=5), phone=BO),
                Contact("c", T0 + timedelta(minutes=59), phone=BO)]
    got = check_flags(contacts, Settings(rules=(TWO_IN_1H,)))
    assert [(r["contact_id"], r["identifiers"]) for r in got] == [("c", [f"phone:{BO}"])]


def test_outbound_and_withheld_never_flag() -> None:
    """Rule counts inbound contacts of a customer: outbound calls to a customer and calls with a
    withheld caller id (anonymous, restricted, empty, all zeros) never count or flag."""
    contacts = [
        *_calls(timedelta(0), timedelta(minutes=1), timedelta(minutes=2), direction="outbound"),
        Contact("w1", T0, phone="anonymous"), Contact("w2", T0, phone="Restricted"),
        Contact("w3", T0, phone=""), Contact("w4", T0, phone="000-000-0000"),
        Contact("w5", T0, phone="anonymous"),
    ]
    assert check_flags(contacts, Settings(rules=(TWO_IN_1H,))) == []


def test_outbound_between_inbound_does_not_complete_a_crossing() -> None:
    """Rule counts inbound contacts only: an inbound call answered by an outbound call-back is one."""
    contacts = [Contact("in", T0, phone=ANN), Contact("out", T0 + timedelta(minutes=5), phone=ANN,
                                                       direction="outbound")]
    assert check_flags(contacts, Settings(rules=(TWO_IN_1H,))) == []


def test_deny_listed_number_never_flags_even_when_listed_after_import(tmp_path: Path) -> None:
    """Settings deny_list (shared numbers kept out of flags and rankings): a number imported before
    it was listed is left out at query time; other callers still flag."""
    contacts = [*_calls(timedelta(0), timedelta(minutes=1)),
                Contact("b0", T0, phone=BO), Contact("b1", T0 + timedelta(minutes=2), phone=BO)]
    db = import_store(tmp_path, contacts, Settings(rules=(TWO_IN_1H,)))
    before = desk.list_flags(db, Settings(rules=(TWO_IN_1H,)))
    assert sorted(r["contact_id"] for r in before) == ["b1", "k1"]
    for spelling in ("(415) 555-0101", "+1 415 555 0101", "4155550101"):
        after = desk.list_flags(db, Settings(rules=(TWO_IN_1H,), deny_list=(spelling,)))
        assert [r["contact_id"] for r in after] == ["b1"]


def test_deny_listed_number_at_import_never_flags(tmp_path: Path) -> None:
    """Settings deny_list at import: contacts from a shared number are kept but never flag while it
    is listed; off the list, the next command re-resolves and the number is a customer again."""
    config = Settings(rules=(TWO_IN_1H,), deny_list=("415-555-0101",))
    db = import_store(tmp_path, _calls(timedelta(0), timedelta(minutes=1)), config)
    assert desk.list_flags(db, config) == []
    assert [f["identifiers"] for f in desk.list_flags(db, Settings(rules=(TWO_IN_1H,)))] == [["phone:+14155550101"]]
    assert desk.list_flags(db, config) == []


def test_deny_listed_email_never_flags_even_when_listed_after_import(tmp_path: Path) -> None:
    """Settings deny_list takes "shared numbers or addresses": an e-mail address listed after its
    contacts were imported is left out of flags too."""
    contacts = [Contact("e0", T0, email="desk@example.com", channel="email"),
                Contact("e1", T0 + timedelta(minutes=1), email="desk@example.com", channel="email")]
    db = import_store(tmp_path, contacts, Settings(rules=(TWO_IN_1H,)))
    assert [r["contact_id"] for r in desk.list_flags(db, Settings(rules=(TWO_IN_1H,)))] == ["e1"]
    assert desk.list_flags(db, Settings(rules=(TWO_IN_1H,), deny_list=("Desk@Example.com",))) == []


def test_unresolved_only_counts_contacts_not_marked_resolved() -> None:
    """Rule option unresolved only: contacts marked resolved do not count; unknown counts as
    unresolved."""
    rule = Rule(name="open", min_contacts=2, window=timedelta(hours=1), unresolved_only=True)
    contacts = [Contact("a", T0, phone=ANN, resolved=True), Contact("b", T0 + timedelta(minutes=1), phone=ANN,
                                                                    resolved=None),
                Contact("c", T0 + timedelta(minutes=2), phone=ANN, resolved=False)]
    got = check_flags(contacts, Settings(rules=(rule,)))
    assert [(r["contact_id"], r["count"]) for r in got] == [("c", 2)]


def test_crossed_at_is_in_the_configured_zone() -> None:
    """Flag times come back as aware datetimes in the configured time zone (same instant)."""
    got = check_flags(_calls(timedelta(0), timedelta(minutes=1)),
                      Settings(timezone="America/New_York", rules=(TWO_IN_1H,)))
    assert got[0]["crossed_at"] == T0 + timedelta(minutes=1)
    assert got[0]["crossed_at"].utcoffset() == timedelta(hours=-5)
