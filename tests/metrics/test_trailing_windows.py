"""Trailing-window counts (DESIGN.md, "Concepts": Rule — "the window is trailing and half-open,
(t - W, t], on the contacts' own timestamps") checked against the brute-force reference.

The Ibis expression ``recontact.metrics.windows.trailing_contact_count`` runs on an in-memory
DuckDB; the reference counts with nested loops.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact.metrics.windows import trailing_contact_count
from reference import Contact

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
US = timedelta(microseconds=1)


@pytest.fixture(scope="module")
def con() -> Any:
    return ibis.duckdb.connect()


def store_counts(con: Any, contacts: list[Contact], window: timedelta, same_category: bool) -> dict[str, int]:
    """The metric's counts for the countable contacts (customer keys taken from the reference)."""
    kept = reference.countable(contacts)
    if same_category:
        kept = [(c, who) for c, who in kept if c.category is not None]
    if not kept:
        return {}
    keys = {who: i for i, who in enumerate(sorted({who for _, who in kept}, key=sorted))}
    table = ibis.memtable(pa.table({
        "contact_id": pa.array([c.contact_id for c, _ in kept], pa.string()),
        "started_at": pa.array([c.started_at for c, _ in kept], pa.timestamp("us", tz="UTC")),
        "customer_key": pa.array([keys[who] for _, who in kept], pa.int64()),
        "category": pa.array([c.category for c, _ in kept], pa.string()),
    }))
    partition = ["customer_key", "category"] if same_category else ["customer_key"]
    expr = table.select("contact_id", n=trailing_contact_count(table, window, partition))
    return {r["contact_id"]: int(r["n"]) for r in con.to_pyarrow(expr).to_pylist()}


@st.composite
def fine_grid(draw: st.DrawFn) -> tuple[list[Contact], timedelta]:
    """Contacts on a grid of ``unit`` (1 µs … 1 day) and a window that is a whole number of units,
    so gaps of exactly W, W - unit and 0 (ties) are common."""
    unit = draw(st.sampled_from((US, timedelta(seconds=1), timedelta(minutes=30), timedelta(hours=1),
                                 timedelta(days=1))))
    window = unit * draw(st.integers(1, 6))
    rows = draw(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 15),
                                   st.sampled_from(("a", "b", None)),
                                   st.sampled_from(("inbound", "inbound", "outbound")),
                                   st.booleans()),
                         min_size=1, max_size=30))
    contacts = [
        Contact(contact_id=f"k{i:03d}", started_at=T0 + unit * tick, direction=direction,
                account_id=None if withheld else f"A{who}", phone="anonymous" if withheld else None,
                category=category)
        for i, (who, tick, category, direction, withheld) in enumerate(rows)
    ]
    return contacts, window


@settings(max_examples=examples(150), deadline=None)
@given(data=fine_grid(), same_category=st.booleans())
def test_trailing_count_matches_reference_half_open_window(con: Any, data: tuple[list[Contact], timedelta],
                                                           same_category: bool) -> None:
    """Rule window (t - W, t]: for every countable contact, the metric counts the same contacts of
    that customer (per category when same_category) as the brute-force reference."""
    contacts, window = data
    assert store_counts(con, contacts, window, same_category) == reference.trailing_counts(
        contacts, window, same_category)


def _pair(gap: timedelta) -> list[Contact]:
    return [Contact("a", T0, account_id="A1"), Contact("b", T0 + gap, account_id="A1")]


@pytest.mark.parametrize("window", [timedelta(hours=1), timedelta(days=7), timedelta(days=30)])
def test_window_is_half_open_exactly_w_apart_not_together(con: Any, window: timedelta) -> None:
    """Rule window (t - W, t]: a contact exactly W earlier is outside (the window is open at t - W)."""
    assert store_counts(con, _pair(window), window, False) == {"a": 1, "b": 1}


@pytest.mark.parametrize("less", [timedelta(seconds=1), US])
@pytest.mark.parametrize("window", [timedelta(hours=1), timedelta(days=7), timedelta(days=30)])
def test_window_just_under_w_apart_counts_together(con: Any, window: timedelta, less: timedelta) -> None:
    """Rule window (t - W, t]: one second, or one microsecond, less than W apart is inside."""
    assert store_counts(con, _pair(window - less), window, False) == {"a": 1, "b": 2}


def test_contacts_at_the_same_instant_all_count(con: Any) -> None:
    """Rule window (t - W, t]: the window is closed at t, so every contact at the same instant counts
    for each of them (ties are not broken by order)."""
    contacts = [Contact(f"k{i}", T0, account_id="A1") for i in range(3)]
    assert store_counts(con, contacts, timedelta(hours=1), False) == {"k0": 3, "k1": 3, "k2": 3}


def test_same_category_counts_each_category_apart(con: Any) -> None:
    """Rule option same category: only contacts of the same category count together."""
    contacts = [Contact("a", T0, account_id="A1", category="billing"),
                Contact("b", T0 + timedelta(minutes=1), account_id="A1", category="network"),
                Contact("c", T0 + timedelta(minutes=2), account_id="A1", category="billing")]
    assert store_counts(con, contacts, timedelta(hours=1), True) == {"a": 1, "b": 1, "c": 2}
    assert reference.trailing_counts(contacts, timedelta(hours=1), True) == {"a": 1, "b": 1, "c": 2}
