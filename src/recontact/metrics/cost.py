"""Cost to serve: what each contact costs, and each customer per period against their revenue.

Cost of one contact (DESIGN.md, "Cost to serve"), in the currency of the configured rates:

* **labour** = handle seconds (talk + hold + wrap, missing parts 0) / 3600 * the loaded hourly
  cost of the contact's agent (agents directory, matched on ``agent_id``), else ``labour_per_hour``;
* **telephony** = ``per_minute[channel]`` * billed minutes, billed minutes = talk + hold seconds
  rounded **up** to whole minutes, per contact (0 s: 0 minutes; 61 s: 2 minutes);
* **channel** = ``per_contact[channel]``;
* **truck roll** = ``truck_roll`` when the contact's ``truck_roll`` is true.

A channel without a rate costs 0 there; a contact without a channel takes no channel rates.
Every contact with an identified customer counts, inbound and outbound, answered or not.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

import ibis

from recontact.metrics.contacts import handle_seconds

#: The cost parts of a contact, in the order they are reported.
PARTS = ("labour", "telephony", "channel_cost", "truck_rolls")


def _by_channel(channel: Any, rates: Mapping[str, float]) -> Any:
    """The rate of each contact's channel (0 for a channel without one, or no channel)."""
    if not rates:
        return ibis.literal(0.0)
    return channel.cases(*((name, float(rate)) for name, rate in rates.items()), else_=0.0)


def billed_minutes(contacts: Any) -> Any:
    """Talk + hold seconds rounded up to whole minutes (missing parts count 0)."""
    return ((contacts.talk_s.fill_null(0) + contacts.hold_s.fill_null(0)) / 60).ceil()


def contact_costs(contacts: Any, agents: Any, *, labour_per_hour: float, truck_roll: float,
                  per_minute: Mapping[str, float], per_contact: Mapping[str, float]) -> Any:
    """``contacts`` with ``handle_s``, ``billed_minutes``, the cost parts (``labour``,
    ``telephony``, ``channel_cost``, ``truck_rolls``) and their sum ``cost``.

    ``agents`` has ``agent_id`` and ``hourly_cost`` (null: use ``labour_per_hour``); an agent id
    listed twice is not expected (the directory import rejects it)."""
    rated = agents.filter(agents.hourly_cost.notnull()).select(_agent=agents.agent_id, _rate=agents.hourly_cost)
    joined = contacts.left_join(rated, contacts.agent_id == rated._agent)
    handle = handle_seconds(joined)
    minutes = billed_minutes(joined)
    costed = joined.mutate(
        handle_s=handle,
        billed_minutes=minutes,
        labour=handle / 3600.0 * joined._rate.fill_null(float(labour_per_hour)),
        telephony=minutes * _by_channel(joined.channel, per_minute),
        channel_cost=_by_channel(joined.channel, per_contact),
        truck_rolls=ibis.ifelse(joined.truck_roll.fill_null(False), float(truck_roll), 0.0),
    ).drop("_agent", "_rate")
    return costed.mutate(cost=costed.labour + costed.telephony + costed.channel_cost + costed.truck_rolls)


def customer_costs(costed: Any, period_start: Any) -> Any:
    """Per (period, customer): ``contacts``, ``handle_s``, the cost parts and ``cost``.
    ``period_start`` is the expression of each contact's period (see ``metrics.callers``)."""
    per = costed.mutate(period_start=period_start)
    return per.group_by(["period_start", "customer_key"]).aggregate(
        contacts=per.count(), handle_s=per.handle_s.sum(),
        **{part: per[part].sum() for part in PARTS}, cost=per.cost.sum(),
    )


def with_revenue(costs: Any, revenue: Any, factors: Any) -> Any:
    """``costs`` (per period and customer) with ``revenue`` = the customer's monthly revenue *
    the period's proration factor (0 for a customer without one) and ``margin`` = revenue - cost.

    ``revenue``: customer_key, monthly_revenue (one row per customer); ``factors``: period_start,
    factor (see :func:`proration_factor`)."""
    joined = costs.left_join(revenue, "customer_key").drop("customer_key_right")
    joined = joined.left_join(factors, "period_start").drop("period_start_right")
    money = joined.monthly_revenue.fill_null(0.0) * joined.factor.fill_null(0.0)
    return joined.mutate(revenue=money, margin=money - joined.cost).drop("monthly_revenue", "factor")


def ranked(costs: Any) -> Any:
    """Rank customers within each period by cost (most expensive first; ties by customer key)."""
    order = ibis.window(group_by="period_start", order_by=[ibis.desc("cost"), "customer_key"])
    return costs.mutate(rank=ibis.row_number().over(order) + 1)


def proration_factor(first_day: date, last_day: date, start: date | None = None, end: date | None = None) -> float:
    """The share of a monthly revenue that falls in the period ``first_day``..``last_day``
    (inclusive), cut to ``start``..``end`` when given: each day earns 1 / (days in its calendar
    month), so a calendar month earns exactly 1 and an ISO week across two months its days' shares."""
    lo = max(first_day, start) if start else first_day
    hi = min(last_day, end) if end else last_day
    total = Fraction(0)  # exact: a whole month sums to exactly 1
    day = lo
    while day <= hi:
        total += Fraction(1, calendar.monthrange(day.year, day.month)[1])
        day += timedelta(days=1)
    return float(total)


def period_days(period_start: date, period: str) -> tuple[date, date]:
    """First and last day of the ISO week or calendar month starting on ``period_start``."""
    if period == "week":
        return period_start, period_start + timedelta(days=6)
    return period_start, period_start.replace(day=calendar.monthrange(period_start.year, period_start.month)[1])


def period_starts(first: date, last: date, period: str) -> list[date]:
    """The first day of every ISO week or calendar month from the one holding ``first`` to the one
    holding ``last``."""
    day = first - timedelta(days=first.weekday()) if period == "week" else first.replace(day=1)
    out = []
    while day <= last:
        out.append(day)
        day = day + timedelta(days=7) if period == "week" else (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return out


def directory_row_keys(directory_identifiers: Any, identifiers: Any, directory: str) -> Any:
    """(line, customer_key) of each row of ``directory`` that identifies someone: the key its
    identifiers resolve to now (all of a row's identifying identifiers share one)."""
    mine = directory_identifiers.filter(directory_identifiers.directory == directory)
    keyed = mine.join(identifiers.filter(identifiers.customer_key.notnull()), "ident")
    return keyed.group_by("line").aggregate(customer_key=keyed.customer_key.max())


def monthly_revenue(customers: Any, row_keys: Any) -> Any:
    """(customer_key, monthly_revenue): the sum of the monthly revenues of the customer directory
    rows that resolve to each customer (rows without a revenue add nothing)."""
    rows = customers.filter(customers.monthly_revenue.notnull()).join(row_keys, "line")
    return rows.group_by("customer_key").aggregate(monthly_revenue=rows.monthly_revenue.sum())
