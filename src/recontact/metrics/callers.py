"""Who calls: top callers per ISO week or calendar month."""

from __future__ import annotations

from typing import Any, Literal

import ibis

from recontact.metrics.contacts import handle_seconds, local_time

Period = Literal["day", "week", "month"]


def period_start(ts: Any, period: Period) -> Any:
    """The local date the period containing ``ts`` starts on: its day, the ISO week's Monday, or
    the 1st of the calendar month, in the session time zone."""
    unit = {"day": "D", "week": "W", "month": "M"}[period]
    return local_time(ts).truncate(unit).date()


def top_callers(contacts: Any, period: Period, n: int) -> Any:
    """The ``n`` customers with the most contacts in each period.

    ``contacts`` are the countable ones (see ``countable_inbound``). Ranked by contact count, then
    total handle time (talk + hold + wrap; more ranks first), then customer key (smaller first).
    Columns: period_start (date), rank (1..n), customer_key, contacts, handle_s.
    """
    per = contacts.mutate(period_start=period_start(contacts.started_at, period),
                          _handle=handle_seconds(contacts))
    totals = per.group_by(["period_start", "customer_key"]).aggregate(
        contacts=per.count(), handle_s=per._handle.sum(),
    )
    order = ibis.window(group_by="period_start",
                        order_by=[ibis.desc("contacts"), ibis.desc("handle_s"), "customer_key"])
    ranked = totals.mutate(rank=ibis.row_number().over(order) + 1)
    return ranked.filter(ranked["rank"] <= n).select(
        "period_start", "rank", "customer_key", "contacts", "handle_s"
    ).order_by(["period_start", "rank"])
