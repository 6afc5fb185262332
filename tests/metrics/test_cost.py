"""Cost to serve (DESIGN.md, "Cost to serve"; docs/metrics.md) from the store, checked against the
brute-force reference: labour at the agent's loaded rate else ``labour_per_hour``, billed minutes
rounded up per contact, per-contact channel costs, truck rolls, inbound and outbound; revenue from
the customer directory prorated to the period; margin and the unprofitable list."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import directory, economics
from recontact.config import CostSettings, Settings
from reference import PEOPLE, Contact, Rates
from store_helpers import import_store

AGENTS = ("a1", "a2", "a3")


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([["" if v is None else v for v in r] for r in rows])
    return path


@st.composite
def desks(draw: st.DrawFn) -> tuple[list[Contact], dict[str, float], list[tuple[list[str], float | None]], Rates]:
    """Generated contacts with agents and truck rolls; an agents directory where some agents have no
    rate; a customer directory whose rows may join two people; rates with zeros and odd values."""
    contacts = [replace(c, agent_id=draw(st.sampled_from((*AGENTS, "a9", None))),
                        truck_roll=draw(st.sampled_from((None, False, False, True))),
                        talk_s=draw(st.sampled_from((c.talk_s, 59.0, 60.5, 61.0, 0.25))))
                for c in draw(reference.contact_sets(max_size=20))]
    agent_rates = {a: draw(st.sampled_from((20.0, 55.5))) for a in AGENTS if draw(st.booleans())}
    rows: list[tuple[list[str], float | None]] = []
    for _ in range(draw(st.integers(0, 3))):
        who = draw(st.sampled_from(range(len(PEOPLE))))
        digits, mail, acct = PEOPLE[who]
        ids = [draw(st.sampled_from((f"phone:+1{digits}", f"email:{mail}", f"account:{acct}")))]
        if draw(st.booleans()):  # a second identifier, perhaps another person's: the row joins them
            other = PEOPLE[draw(st.sampled_from(range(len(PEOPLE))))]
            ids.append(f"email:{other[1]}")
        rows.append((ids, draw(st.sampled_from((None, 0.0, 30.0, 1000.0)))))
    rates = Rates(labour_per_hour=draw(st.sampled_from((0.0, 36.0))), truck_roll=draw(st.sampled_from((0.0, 150.0))),
                  per_minute=draw(st.sampled_from(({}, {"phone": 0.02}, {"phone": 0.1, "chat": 0.05}))),
                  per_contact=draw(st.sampled_from(({}, {"phone": 0.5, "email": 0.2}))))
    return contacts, agent_rates, rows, rates


def _store(tmp: Path, contacts: list[Contact], agent_rates: dict[str, float],
           rows: list[tuple[list[str], float | None]], config: Settings) -> Path:
    db = import_store(tmp, contacts, config)
    agents = _write_csv(tmp / "agents.csv", ["agent_id", "team", "hourly_cost"],
                        [[a, "T", agent_rates.get(a)] for a in AGENTS])
    directory.import_directory(db, "agents", agents, config)
    if rows:
        f = _write_csv(tmp / "customers.csv", ["identifiers", "monthly_revenue"],
                       [[";".join(ids), money] for ids, money in rows])
        s = directory.import_directory(db, "customers", f, config)
        assert s.rejected == 0, s.rejects
    return db


def _settings(tz: str, rates: Rates) -> Settings:
    return Settings(timezone=tz, costs=CostSettings(labour_per_hour=rates.labour_per_hour, truck_roll=rates.truck_roll,
                                                    per_minute=dict(rates.per_minute or {}),
                                                    per_contact=dict(rates.per_contact or {})))


def check_cost(contacts: list[Contact], agent_rates: dict[str, float], rows: list[tuple[list[str], float | None]],
               rates: Rates, tz: str, period: str, start: date | None = None,
               end: date | None = None) -> list[dict[str, Any]]:
    config = _settings(tz, rates)
    with tempfile.TemporaryDirectory() as tmp:
        db = _store(Path(tmp), contacts, agent_rates, rows, config)
        used, got = economics.cost_to_serve(db, config, period, start=start, end=end)  # type: ignore[arg-type]
        _, losers = economics.cost_to_serve(db, config, period, unprofitable=True, start=start,  # type: ignore[arg-type]
                                            end=end)
    assert used["labour_per_hour"] == rates.labour_per_hour and used["truck_roll"] == rates.truck_roll
    assert used["per_minute"] == dict(rates.per_minute or {})
    assert used["agent_hourly_costs"] == len(agent_rates)
    expected = reference.cost_to_serve(contacts, period, tz, rates, agent_rates, rows, start, end)
    want = {(e.period, e.customer): e for e in expected}
    assert {(r["period"], frozenset(r["identifiers"])) for r in got} == set(want)
    for r in got:
        e = want[(r["period"], frozenset(r["identifiers"]))]
        assert (r["contacts"], r["handle_s"]) == (e.contacts, e.handle_s)
        assert r["cost"] == pytest.approx(e.cost, abs=1e-9)
        assert r["revenue"] == pytest.approx(e.revenue, abs=1e-9)
        assert r["margin"] == pytest.approx(e.margin, abs=1e-9)
        assert r["cost"] == pytest.approx(r["labour"] + r["telephony"] + r["channel_cost"] + r["truck_rolls"])
    # Most expensive first within each period, ties by key; ranks 1..n.
    for label in {r["period"] for r in got}:
        mine = [r for r in got if r["period"] == label]
        assert [r["rank"] for r in mine] == list(range(1, len(mine) + 1))
        assert [r["cost"] for r in mine] == sorted((r["cost"] for r in mine), reverse=True)
    assert [r["period"] for r in got] == sorted(r["period"] for r in got)
    assert [(r["period"], r["customer_key"]) for r in losers] == [
        (r["period"], r["customer_key"]) for r in got if r["margin"] < 0]
    return got


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desk=desks(), tz=st.sampled_from(reference.TIMEZONES), period=st.sampled_from(("week", "month")))
def test_cost_to_serve_matches_reference(desk: Any, tz: str, period: str) -> None:
    contacts, agent_rates, rows, rates = desk
    got = check_cost(contacts, agent_rates, rows, rates, tz, period)
    event(f"rows: {min(len(got), 5)}")
    event(f"unprofitable: {any(r['margin'] < 0 for r in got)}")
    event(f"revenue: {any(r['revenue'] > 0 for r in got)}")


@settings(max_examples=examples(10), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desk=desks(), lo=st.integers(0, 30), days=st.integers(0, 40))
def test_cost_within_dates_matches_reference(desk: Any, lo: int, days: int) -> None:
    contacts, agent_rates, rows, rates = desk
    first = min(c.started_at for c in contacts).date()
    start = date.fromordinal(first.toordinal() + lo - 10)
    end = date.fromordinal(start.toordinal() + days)
    check_cost(contacts, agent_rates, rows, rates, "UTC", "week", start, end)


def _c(cid: str, **kw: Any) -> Contact:
    return Contact(cid, datetime(2026, 3, 2, 10, tzinfo=UTC), phone="4155550101", **kw)


def test_billed_minutes_round_up_per_contact(tmp_path: Path) -> None:
    """61 s of talk bill 2 minutes; two contacts of 30 s bill 1 minute each (not 1 together)."""
    rates = Rates(0.0, 0.0, {"phone": 1.0}, {})
    config = _settings("UTC", rates)
    db = import_store(tmp_path, [_c("a", talk_s=61.0), _c("b", talk_s=30.0, hold_s=0.0), _c("c", talk_s=30.0),
                                 _c("d", talk_s=0.0), _c("e", talk_s=60.0)], config)
    _, got = economics.cost_to_serve(db, config, "month")
    assert [(r["contacts"], r["telephony"], r["cost"]) for r in got] == [(5, 5.0, 5.0)]  # 2 + 1 + 1 + 0 + 1


def test_missing_agent_rate_zero_revenue_and_outbound(tmp_path: Path) -> None:
    """An agent without a rate (and a contact without an agent) costs labour_per_hour; outbound
    contacts cost too; a customer in the directory with revenue 0 is unprofitable."""
    rates = Rates(36.0, 150.0, {}, {"phone": 0.5})
    config = _settings("UTC", rates)
    db = import_store(tmp_path, [_c("a", agent_id="a1", talk_s=3600.0), _c("b", agent_id="a2", wrap_s=1800.0),
                                 _c("c", direction="outbound", talk_s=360.0, truck_roll=True)], config)
    directory.import_directory(db, "agents", _write_csv(tmp_path / "ag.csv", ["agent_id", "hourly_cost"],
                                                        [["a1", 60], ["a2", None]]), config)
    directory.import_directory(db, "customers", _write_csv(tmp_path / "cu.csv", ["phone", "monthly_revenue"],
                                                           [["4155550101", 0]]), config)
    used, got = economics.cost_to_serve(db, config, "month", unprofitable=True)
    labour = 60.0 + 0.5 * 36.0 + 0.1 * 36.0
    assert [(r["contacts"], r["labour"], r["channel_cost"], r["truck_rolls"], r["revenue"]) for r in got] == [
        (3, pytest.approx(labour), 1.5, 150.0, 0.0)]
    assert got[0]["rates"] == used and used["agent_hourly_costs"] == 1


def test_revenue_prorated_to_iso_weeks_across_months(tmp_path: Path) -> None:
    """ISO week 2026-W09 runs Mon 23 Feb to Sun 1 Mar: 6 days of February (28 days) and 1 of March (31)."""
    rates = Rates(0.0, 0.0, {}, {"phone": 1.0})
    config = _settings("UTC", rates)
    db = import_store(tmp_path, [Contact("a", datetime(2026, 2, 24, tzinfo=UTC), phone="4155550101")], config)
    directory.import_directory(db, "customers", _write_csv(tmp_path / "cu.csv", ["phone", "monthly_revenue"],
                                                           [["4155550101", 280.0]]), config)
    _, week = economics.cost_to_serve(db, config, "week")
    assert week[0]["period"] == "2026-W09"
    assert week[0]["revenue"] == pytest.approx(280.0 * 6 / 28 + 280.0 / 31)
    _, month = economics.cost_to_serve(db, config, "month")
    assert month[0]["revenue"] == 280.0
    _, cut = economics.cost_to_serve(db, config, "month", start=date(2026, 2, 15))
    assert cut[0]["revenue"] == pytest.approx(140.0)
