"""Customer value beside support load: orders per customer, first against later order size, and
revenue and inbound contacts per period.

Definitions (docs/metrics.md, "Customer value"): a customer's orders are the orders history rows
whose identifier resolves to them; **repeat purchases** = orders after the first; **first order**
= the amount of the earliest order (ties: the earlier line of the file); **later orders** = the
mean amount of the others (null when there are none). Per period (ISO week or calendar month of
the order date / the contact's local start): ``orders``, ``revenue`` (sum of amounts) and
``contacts`` (inbound contacts of the customer, as ``top`` counts them).
"""

from __future__ import annotations

from typing import Any

import ibis

from recontact.metrics.callers import Period, period_start


def customer_orders(orders: Any, row_keys: Any) -> Any:
    """(customer_key, ordered_on, amount, line): orders whose identifier identifies someone."""
    return orders.join(row_keys, "line").select("customer_key", "ordered_on", "amount", "line")


def order_summary(keyed: Any) -> Any:
    """Per customer: ``orders``, ``repeat_purchases``, ``revenue``, ``first_order``,
    ``later_order_avg`` (see the module docstring)."""
    order = ibis.window(group_by="customer_key", order_by=["ordered_on", "line"])
    numbered = keyed.mutate(_n=ibis.row_number().over(order))
    later = numbered._n > 0
    return numbered.group_by("customer_key").aggregate(
        orders=numbered.count(),
        repeat_purchases=numbered.count(where=later),
        revenue=numbered.amount.sum(),
        first_order=numbered.amount.max(where=~later),
        later_order_avg=numbered.amount.mean(where=later),
    )


def per_period(keyed: Any, contacts: Any, period: Period) -> Any:
    """Per (period_start, customer_key) of customers with orders: ``orders``, ``revenue``,
    ``contacts`` (0 where there were none). ``contacts``: the countable inbound ones."""
    unit = {"week": "W", "month": "M"}[period]
    dated = keyed.mutate(period_start=keyed.ordered_on.truncate(unit))
    bought = dated.group_by(["period_start", "customer_key"]).aggregate(
        orders=dated.count(), revenue=dated.amount.sum())
    mine = contacts.filter(contacts.customer_key.isin(keyed.customer_key))
    mine = mine.mutate(period_start=period_start(mine.started_at, period))
    called = mine.group_by(["period_start", "customer_key"]).aggregate(contacts=mine.count())
    both = bought.outer_join(called, ["period_start", "customer_key"])
    return both.select(
        period_start=ibis.coalesce(both.period_start, both.period_start_right),
        customer_key=ibis.coalesce(both.customer_key, both.customer_key_right),
        orders=both.orders.fill_null(0), revenue=both.revenue.fill_null(0.0), contacts=both.contacts.fill_null(0),
    )
