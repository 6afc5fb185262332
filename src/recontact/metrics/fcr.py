"""Repeat contacts and first-contact resolution (DESIGN.md, "Metric definitions").

Every inbound contact of an identified customer (``countable_inbound``) is one of:

* a **repeat**: less than W (the repeat window) after the previous inbound contact of the same
  customer and category;
* a **transfer** (only when a transfer gap G > 0 is set): less than G after that previous
  contact, a hand-over within the same contact rather than the customer coming back;
* otherwise **issue-opening**: the first contact of a new issue.

"The same customer and category": contacts are compared within (customer, category); contacts
without a category form one group of their own per customer, so on a desk with no categories at
all every contact of the customer is compared. Within a group contacts are ordered by time, then
contact id (or content hash when the source gave none): of two contacts at one instant the first
opens (or continues) and the second is 0 after it, a repeat.

An issue-opening contact at t is **resolved first** when no repeat of its group starts in
[t, t + W) and it is not marked unresolved (``resolved`` false; unknown is not "marked"). It is
**counted** only when its whole follow-up window lies inside the data, t + W <= the latest
contact of the store (any customer, any direction); otherwise it is **pending**. W and G are
exact durations (microseconds), on the contacts' own instants, like the rules' windows.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import ibis
import ibis.expr.datatypes as dt

from recontact.metrics.windows import RESOLUTION, exact_interval

#: Contacts are compared within one customer's category (null category: a group of its own).
REPEAT_GROUP = ("customer_key", "category")


def contact_outcomes(contacts: Any, window: timedelta, latest: Any,
                     transfer_gap: timedelta = timedelta(0)) -> Any:
    """Each countable contact with what it is for FCR.

    ``contacts``: the countable inbound contacts (``countable_inbound``), never pre-filtered by
    time (a contact's previous one decides whether it is a repeat). ``latest``: the store's latest
    contact time (``rules.batch.latest_contact`` of every contact).
    Adds boolean columns ``repeat``, ``transfer``, ``issue`` (issue-opening), ``pending``
    (issue-opening, follow-up window past ``latest``), ``counted`` (issue-opening, not pending),
    ``followed`` (issue-opening with a repeat in [t, t + W)), ``resolved_first`` (counted, not
    followed, not marked unresolved)."""
    keyed = contacts.mutate(_key=contacts.contact_id.fill_null(contacts.content_hash))
    order = ibis.window(group_by=list(REPEAT_GROUP), order_by=["started_at", "_key"])
    previous = keyed.started_at.lag().over(order)
    within_w = previous.notnull() & (previous + exact_interval(window) > keyed.started_at)
    if transfer_gap > timedelta(0):
        transfer = previous.notnull() & (previous + exact_interval(transfer_gap) > keyed.started_at)
    else:
        transfer = ibis.literal(False)
    marked = keyed.mutate(transfer=transfer, repeat=within_w & ~transfer)
    marked = marked.mutate(issue=~marked.repeat & ~marked.transfer)
    # Repeats of the group starting in [t, t + W): only the issue's own repeats can be there (any
    # contact in (t, t + W) is a repeat or transfer of the chain t opened, and a repeat at t itself
    # comes after t in the order).
    ahead = ibis.range_window(preceding=0, following=exact_interval(window - RESOLUTION),
                              group_by=list(REPEAT_GROUP), order_by="started_at")
    repeats_ahead = marked.repeat.cast("int64").sum().over(ahead)
    within_data = marked.started_at + exact_interval(window) <= latest
    out = marked.mutate(
        pending=marked.issue & ~within_data,
        counted=marked.issue & within_data,
        followed=marked.issue & (repeats_ahead > 0),
    )
    unresolved = out.resolved.notnull() & ~out.resolved.fill_null(True)
    return out.mutate(resolved_first=out.counted & ~out.followed & ~unresolved).drop("_key")


def ratio(numerator: Any, denominator: Any) -> Any:
    """numerator / denominator as a float, null (no data) when the denominator is 0."""
    return ibis.ifelse(denominator == 0, ibis.null("float64"), numerator.cast("float64") / denominator)


def _count(flag: Any) -> Any:
    return flag.cast("int64").sum().fill_null(0)


def fcr_summary(outcomes: Any, by: list[str]) -> Any:
    """FCR per group of ``by`` columns of ``contact_outcomes`` (none: one row for all).

    Each contact counts in its own group (an issue by its opening contact's period, agent, …; a
    repeat by its own). Columns: the ``by`` columns, issues (counted issue-opening contacts),
    resolved_first, fcr (resolved_first / issues; null when no issues), pending, repeats,
    transfers."""
    o = outcomes
    metrics = dict(
        issues=_count(o.counted), resolved_first=_count(o.resolved_first), pending=_count(o.pending),
        repeats=_count(o.repeat), transfers=_count(o.transfer),
    )
    grouped = o.group_by(by).aggregate(**metrics) if by else o.aggregate(**metrics)
    grouped = grouped.mutate(fcr=ratio(grouped.resolved_first, grouped.issues))
    cols = [*by, "issues", "resolved_first", "fcr", "pending", "repeats", "transfers"]
    return grouped.select(cols).order_by(by) if by else grouped.select(cols)


def repeat_drivers(outcomes: Any) -> Any:
    """Categories ranked by the repeat contacts they caused (most first, then category; the
    contacts without a category are one row with a null category).

    Columns: category, repeats, share_of_repeats (of every repeat), issues (counted issues),
    multi_contact (counted issues with a repeat in their window), multi_contact_share
    (multi_contact / issues; null when no issues), pending."""
    o = outcomes
    per = o.group_by("category").aggregate(
        repeats=_count(o.repeat), issues=_count(o.counted),
        multi_contact=_count(o.counted & o.followed), pending=_count(o.pending),
    )
    total = per.repeats.sum().over(ibis.window())
    out = per.mutate(share_of_repeats=ratio(per.repeats, total),
                     multi_contact_share=ratio(per.multi_contact, per.issues))
    return out.select("category", "repeats", "share_of_repeats", "issues", "multi_contact",
                      "multi_contact_share", "pending").order_by([ibis.desc("repeats"), "category"])


#: Ticket fields some exports carry (ServiceNow: reopen_count, reassignment_count), kept in ``extra``.
REOPEN_FIELD, REASSIGN_FIELD = "reopen_count", "reassignment_count"
#: The export's own resolve time of a ticket, kept in ``extra`` as an instant (the ServiceNow
#: importer writes ``2016-03-04T16:00:00Z``).
RESOLVED_AT_FIELD = "resolved_at"
#: Text that ends with a zone (``Z``, ``+01``, ``+01:00``, ``-0500``): an instant, not a wall-clock time.
_WITH_ZONE = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"
_INSTANT = dt.Timestamp(timezone="UTC")
TICKET_ATTRIBUTES = ("started_at", "agent_id", "team", "queue", "channel", "category")


def _extra_number(extra: Any, name: str) -> Any:
    """The number kept under ``name`` in a contact's ``extra`` JSON (null when absent or not a number;
    JSON is parsed only where the name appears)."""
    number = extra.cast("json")[name].unwrap_as("string").try_cast("float64")
    return ibis.ifelse(extra.contains(f'"{name}"'), number, ibis.null("float64"))


def _extra_instant(extra: Any, name: str) -> Any:
    """The instant kept under ``name`` in a contact's ``extra`` JSON when it is written with its zone
    (ISO 8601 with ``Z`` or an offset); null when absent, not a time, or a time without a zone
    (whose zone a metric cannot know). JSON is parsed only where the name appears."""
    text = extra.cast("json")[name].unwrap_as("string")
    instant = ibis.ifelse(text.re_search(_WITH_ZONE), text.try_cast(_INSTANT), ibis.null(_INSTANT))
    return ibis.ifelse(extra.contains(f'"{name}"'), instant, ibis.null(_INSTANT))


def ticket_outcomes(contacts: Any) -> Any:
    """One row per ticket (``source`` and ``ticket_id``) of ``contacts`` (every contact with a
    ticket id, any direction, identified or not), with its first contact's time and attributes
    (``TICKET_ATTRIBUTES``: it is reported where its first contact is) and:

    * ``resolved``: a contact of the ticket is marked resolved; ``resolved_at``: the export's own
      resolve time when its contacts carry one (``resolved_at`` in ``extra``, an instant with its
      zone; the latest of them), else the first contact marked resolved;
    * ``reopened``: a contact came after its first resolved contact (later instant), or the export
      says ``reopen_count`` > 0;
    * ``reassigned``: more than one agent handled it, or the export says ``reassignment_count`` > 0;
    * ``resolved_first``: resolved, not reopened, not reassigned."""
    t = contacts.filter(contacts.ticket_id.notnull())
    t = t.mutate(_key=t.contact_id.fill_null(t.content_hash))
    ticket = ["source", "ticket_id"]
    whole = ibis.window(group_by=ticket)
    first_resolved = t.started_at.min(where=t.resolved.fill_null(False)).over(whole)
    order = ibis.window(group_by=ticket, order_by=["started_at", "_key"])
    marked = t.mutate(
        _after=first_resolved.notnull() & (t.started_at > first_resolved),
        _first=ibis.row_number().over(order) == 0,
        _reopens=_extra_number(t.extra, REOPEN_FIELD),
        _reassigns=_extra_number(t.extra, REASSIGN_FIELD),
        _export_resolved_at=_extra_instant(t.extra, RESOLVED_AT_FIELD),
    )
    resolved = marked.resolved.fill_null(False)
    per = marked.group_by(ticket).aggregate(
        resolved=resolved.any(),
        resolved_at=ibis.ifelse(resolved.any(), marked._export_resolved_at.max().fill_null(
            marked.started_at.min(where=resolved)), ibis.null(_INSTANT)),
        reopened=marked._after.any() | (marked._reopens.max().fill_null(0) > 0),
        reassigned=(marked.agent_id.nunique() > 1) | (marked._reassigns.max().fill_null(0) > 0),
    )
    firsts = marked.filter(marked._first).select(*ticket, *TICKET_ATTRIBUTES)
    joined = per.join(firsts, ticket)
    return joined.mutate(resolved_first=joined.resolved & ~joined.reopened & ~joined.reassigned)


def ticket_summary(tickets: Any, by: list[str]) -> Any:
    """Per group of ``by`` columns of ``ticket_outcomes``: tickets, tickets_resolved,
    tickets_resolved_first, ticket_fcr (tickets_resolved_first / tickets_resolved; null when none
    is resolved)."""
    metrics = dict(tickets=tickets.count(), tickets_resolved=_count(tickets.resolved),
                   tickets_resolved_first=_count(tickets.resolved_first))
    g = tickets.group_by(by).aggregate(**metrics) if by else tickets.aggregate(**metrics)
    return g.mutate(ticket_fcr=ratio(g.tickets_resolved_first, g.tickets_resolved))
