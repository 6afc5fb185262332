"""Efficiency: how fast and how smoothly contacts are handled (DESIGN.md, "Metric definitions").

Every contact counts here, identified or not (a withheld caller still waited and was answered).
A contact's fate:

* **offered**: inbound, with ``answered`` or ``abandoned`` known (the desk knows what happened);
* **answered**: offered and ``answered`` true, or ``answered`` unknown and ``abandoned`` false;
* **abandoned**: offered and ``abandoned`` true;
* **handled** (any direction): ``answered`` true, or ``answered`` unknown and not abandoned; an
  e-mail or a ticket that says nothing about answering is handled.

Rates are fractions whose denominator counts only the contacts where the measured field is known;
a rate with a zero denominator is null ("no data"), never 0. Durations are seconds.

* ASA = mean ``wait_s`` of answered contacts (those with a wait);
* AHT = mean talk + hold + wrap (a missing part as 0) of handled contacts with any of the three;
* ACW = mean ``wrap_s`` of handled contacts with a wrap time;
* abandonment = abandoned / offered; service level = answered with ``wait_s`` <= T / offered;
* escalation rate, truck-roll rate = escalated (truck roll) / handled contacts where it is known.

Tickets (``metrics.fcr.ticket_outcomes``): a ticket opens at its first contact and is resolved at
the export's own resolve time when its contacts carry one (``resolved_at`` in ``extra``, an
instant), else at its first contact marked resolved. Resolution time = resolved - opened, in
seconds; backlog at an instant = tickets opened before it and not resolved before it.
"""

from __future__ import annotations

from typing import Any

import ibis

from recontact.metrics.fcr import ratio


def _count(flag: Any) -> Any:
    return flag.cast("int64").sum().fill_null(0)


def contact_fates(contacts: Any) -> Any:
    """``contacts`` with boolean columns ``offered``, ``answered_call``, ``abandoned_call``,
    ``handled`` and ``handle_s`` (talk + hold + wrap, missing parts 0; null when all three are)."""
    c = contacts
    known = c.answered.notnull() | c.abandoned.notnull()
    offered = (c.direction == "inbound") & known
    answered = ibis.ifelse(c.answered.notnull(), c.answered, ~c.abandoned.fill_null(True))
    handled = ibis.ifelse(c.answered.notnull(), c.answered, ~c.abandoned.fill_null(False))
    any_time = c.talk_s.notnull() | c.hold_s.notnull() | c.wrap_s.notnull()
    total = c.talk_s.fill_null(0) + c.hold_s.fill_null(0) + c.wrap_s.fill_null(0)
    return c.mutate(
        offered=offered,
        answered_call=offered & answered,
        abandoned_call=offered & c.abandoned.fill_null(False),
        handled=handled,
        handle_s=ibis.ifelse(any_time, total, ibis.null("float64")),
    )


def kpi_summary(fates: Any, by: list[str], service_seconds: float) -> Any:
    """Efficiency per group of ``by`` columns of ``contact_fates`` (none: one row for all).

    Columns: the ``by`` columns, contacts, inbound, outbound, offered, answered, abandoned,
    abandonment, service_level, asa_s, handled, aht_s, acw_s, escalation_rate, truck_roll_rate."""
    f = fates
    within = f.answered_call & f.wait_s.notnull() & (f.wait_s <= service_seconds)
    metrics = dict(
        contacts=f.count(),
        inbound=_count(f.direction == "inbound"),
        outbound=_count(f.direction == "outbound"),
        offered=_count(f.offered),
        answered=_count(f.answered_call),
        abandoned=_count(f.abandoned_call),
        _within=_count(within),
        asa_s=f.wait_s.mean(where=f.answered_call),
        handled=_count(f.handled),
        aht_s=f.handle_s.mean(where=f.handled),
        acw_s=f.wrap_s.mean(where=f.handled),
        _escalated=_count(f.handled & f.escalated.fill_null(False)),
        _escalation_known=_count(f.handled & f.escalated.notnull()),
        _rolled=_count(f.handled & f.truck_roll.fill_null(False)),
        _roll_known=_count(f.handled & f.truck_roll.notnull()),
    )
    g = f.group_by(by).aggregate(**metrics) if by else f.aggregate(**metrics)
    g = g.mutate(
        abandonment=ratio(g.abandoned, g.offered),
        service_level=ratio(g._within, g.offered),
        escalation_rate=ratio(g._escalated, g._escalation_known),
        truck_roll_rate=ratio(g._rolled, g._roll_known),
    )
    cols = [*by, "contacts", "inbound", "outbound", "offered", "answered", "abandoned", "abandonment",
            "service_level", "asa_s", "handled", "aht_s", "acw_s", "escalation_rate", "truck_roll_rate"]
    out = g.select(cols)
    return out.order_by(by) if by else out


def ticket_flow(tickets: Any, opened_by: list[str], resolved_by: list[str]) -> tuple[Any, Any]:
    """Tickets opened per group of ``opened_by`` columns, and tickets resolved per group of
    ``resolved_by`` columns (the same breakdown, with the period taken from ``resolved_at``): count,
    median and 90th percentile of the resolution time in seconds (linear interpolation between
    the two nearest tickets, as ``quantile_cont``).

    ``tickets`` carry ``opened_by`` and ``resolved_by`` columns (a period start of the open time and
    of the resolve time). Columns: opened_by + tickets_opened; resolved_by + tickets_resolved,
    resolution_median_s, resolution_p90_s."""
    t = tickets
    opened = t.group_by(opened_by).aggregate(tickets_opened=t.count()) if opened_by else \
        t.aggregate(tickets_opened=t.count())
    done = t.filter(t.resolved_at.notnull())
    seconds = done.resolved_at.delta(done.started_at, unit="microsecond") / 1_000_000
    metrics = dict(tickets_resolved=done.count(), resolution_median_s=seconds.quantile(0.5),
                   resolution_p90_s=seconds.quantile(0.9))
    resolved = done.group_by(resolved_by).aggregate(**metrics) if resolved_by else done.aggregate(**metrics)
    return opened, resolved
