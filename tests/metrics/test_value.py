"""Customer value (docs/metrics.md, "Customer value") from the store against the brute-force
reference: repeat purchases, first vs later order size, revenue and contacts per period, and the
customers whose revenue falls while their contacts rise."""

from __future__ import annotations

import csv
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import directory, economics
from recontact.config import Settings
from reference import PEOPLE, Contact, Order
from store_helpers import import_store


def _orders_csv(path: Path, orders: list[Order]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["customer", "date", "amount"])
        for o in sorted(orders, key=lambda o: o.line):
            w.writerow([o.ident, o.day.isoformat(), o.amount])
    return path


@st.composite
def order_sets(draw: st.DrawFn, contacts: list[Contact]) -> list[Order]:
    first = min(c.started_at for c in contacts).date()
    out = []
    for line in range(2, 2 + draw(st.integers(1, 8))):
        digits, mail, acct = PEOPLE[draw(st.integers(0, len(PEOPLE) - 1))]
        ident = draw(st.sampled_from((f"phone:+1{digits}", f"email:{mail}", f"account:{acct}")))
        day = first + timedelta(days=draw(st.integers(-10, 50)))
        out.append(Order(ident, day, draw(st.sampled_from((10.0, 25.5, 100.0, -5.0))), line))
    return out


def check_value(contacts: list[Contact], orders: list[Order], period: str, tz: str) -> list[dict[str, Any]]:
    config = Settings(timezone=tz)
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        s = directory.import_directory(db, "orders", _orders_csv(Path(tmp) / "orders.csv", orders), config)
        assert (s.imported, s.rejected) == (len(orders), 0), s.rejects
        got = economics.customer_value(db, config, period)  # type: ignore[arg-type]
    want = reference.customer_value(contacts, orders, period, tz)
    assert {frozenset(r["identifiers"]) for r in got} == set(want)
    for r in got:
        e = want[frozenset(r["identifiers"])]
        for k in ("orders", "repeat_purchases", "last_period", "previous_period", "falling"):
            assert r[k] == e[k], k
        assert r["first_order"] == e["first_order"] and r["revenue"] == pytest.approx(e["revenue"])
        assert r["later_order_avg"] == (None if e["later_order_avg"] is None else pytest.approx(e["later_order_avg"]))
        assert {p["period"]: (p["orders"], p["revenue"], p["contacts"]) for p in r["periods"]} == {
            k: (o, pytest.approx(v), n) for k, (o, v, n) in e["periods"].items()}
    assert [r["falling"] for r in got] == sorted((r["falling"] for r in got), reverse=True)
    return got


@settings(max_examples=examples(25), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), tz=st.sampled_from(reference.TIMEZONES), period=st.sampled_from(("week", "month")))
def test_customer_value_matches_reference(data: st.DataObject, tz: str, period: str) -> None:
    contacts = data.draw(reference.contact_sets(max_size=20))
    orders = data.draw(order_sets(contacts))
    got = check_value(contacts, orders, period, tz)
    event(f"falling: {any(r['falling'] for r in got)}")


def test_value_falls_while_contacts_rise(tmp_path: Path) -> None:
    """January: two orders (150), one call; February: one order (20), three calls: falling."""
    at = [datetime(2026, 1, 10, tzinfo=UTC), *(datetime(2026, 2, d, tzinfo=UTC) for d in (2, 3, 4))]
    contacts = [Contact(f"c{i}", t, phone="4155550101") for i, t in enumerate(at)]
    ann = "phone:+14155550101"
    orders = [Order(ann, date(2026, 1, 3), 100.0, 2), Order(ann, date(2026, 1, 20), 50.0, 3),
              Order(ann, date(2026, 2, 2), 20.0, 4)]
    got = check_value(contacts, orders, "month", "UTC")
    assert [(r["falling"], r["revenue_previous"], r["revenue_last"], r["contacts_previous"], r["contacts_last"],
             r["first_order"], r["later_order_avg"], r["repeat_purchases"]) for r in got] == [
        (True, 150.0, 20.0, 1, 3, 100.0, 35.0, 2)]
