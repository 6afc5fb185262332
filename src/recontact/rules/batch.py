"""Batch rule evaluation: every flag episode in the stored contacts, as one Ibis expression.

A flag is an episode (DESIGN.md, "Concepts": Flag; docs/metrics.md). With c(t) the trailing count
of a customer's counted contacts in (t - W, t] and c⁻(t) the count in [t - W, t) (just before t):

* it opens at a contact time t with c(t) >= N and c⁻(t) < N;
* it closes at the first instant after that with c < N. The count only drops when a contact
  leaves the window, at some t_j + W, so the closing instant is the first t_j + W after the
  opening with c(t_j + W) = count in (t_j, t_j + W] < N (and c⁻(t_j + W) = count in
  [t_j, t_j + W) >= N: a closing *transition*);
* ``closed_at`` is null while that instant is later than the latest contact in the store.

Everything is window functions with non-negative range offsets over one sort per rule (counts
backwards and forwards from each contact), then a second, small window over the few contacts
that open or close an episode: portable Ibis, no Python per row. Filter ``contacts`` (e.g. to one
customer) before calling: every window is partitioned by customer, so the result is the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import ibis

from recontact.metrics.windows import RESOLUTION, exact_interval, trailing_contact_count
from recontact.rules.spec import Rule

#: Flag columns, in order (closed_at null while open; category null unless a same-category rule).
FLAG_COLUMNS = ("rule", "customer_key", "category", "crossed_at", "count", "contact_id", "closed_at")


def rule_contacts(contacts: Any, rule: Rule) -> Any:
    """The countable contacts this rule looks at (its channel and unresolved-only filters)."""
    kept = contacts
    if rule.channel:
        kept = kept.filter(kept.channel == rule.channel)
    if rule.unresolved_only:
        kept = kept.filter(kept.resolved.isnull() | ~kept.resolved)
    if rule.same_category:
        kept = kept.filter(kept.category.notnull())
    return kept


def rule_partition(rule: Rule) -> list[str]:
    """Whose contacts are counted together: per customer, or per customer and category."""
    return ["customer_key", "category"] if rule.same_category else ["customer_key"]


def _span(preceding: timedelta | int, following: timedelta | int | None, partition: Sequence[str]) -> Any:
    """A range window over ``started_at`` from ``preceding`` before to ``following`` after each row
    (0 = the row's own instant, peers included; ``None`` = unbounded)."""
    def bound(d: timedelta | int | None) -> Any:
        return exact_interval(d) if isinstance(d, timedelta) else d
    return ibis.range_window(preceding=bound(preceding), following=bound(following),
                             group_by=list(partition), order_by="started_at")


def transitions(contacts: Any, rule: Rule) -> Any:
    """Each of the rule's contacts with ``count`` = c(t), and whether an episode opens at its time
    (``opens``) or closes at its time + W (``closes``); only contacts that do either are kept."""
    kept = rule_contacts(contacts, rule)
    part = rule_partition(rule)
    w, n = rule.window, rule.min_contacts
    at = kept.started_at
    peers = at.count().over(_span(0, 0, part))
    counted = kept.mutate(
        count=trailing_contact_count(kept, w, part),  # c(t): (t - W, t]
        _before=at.count().over(_span(w, 0, part)) - peers,  # c⁻(t): [t - W, t)
        _after=at.count().over(_span(0, w, part)) - peers,  # c(t + W): (t, t + W]
        _until=at.count().over(_span(0, w - RESOLUTION, part)),  # c⁻(t + W): [t, t + W)
    )
    marked = counted.mutate(
        opens=(counted["count"] >= n) & (counted._before < n),
        closes=(counted._after < n) & (counted._until >= n),
    )
    return marked.filter(marked.opens | marked.closes)


def episodes(contacts: Any, rule: Rule, latest: Any) -> Any:
    """The rule's flag episodes: one row per opening, at the contact that crossed the threshold.

    ``contacts``: the countable ones (see ``countable_inbound``), possibly narrowed to some
    customers. ``latest``: the latest contact time of the whole store (a scalar expression or a
    datetime); an episode whose closing instant is later is open (``closed_at`` null).
    Ties: of several contacts at the opening instant, the one with the smaller contact id (or
    content hash, when the source gave no id) is named; ``count`` counts them all.
    Columns: FLAG_COLUMNS.
    """
    part = rule_partition(rule)
    moves = transitions(contacts, rule)
    moves = moves.mutate(_key=moves.contact_id.fill_null(moves.content_hash))
    # The first closing instant after an opening at t: the smallest t_j + W over closing
    # transitions with t_j in (t - W, ∞) (every such t_j + W is after t).
    close_time = ibis.ifelse(moves.closes, moves.started_at, ibis.null(moves.started_at.type()))
    first_close = close_time.min().over(_span(rule.window - RESOLUTION, None, part)) + exact_interval(rule.window)
    same_instant = ibis.window(group_by=[*part, "started_at"], order_by="_key")
    ranked = moves.mutate(_close=first_close, _n=ibis.row_number().over(same_instant))
    opened = ranked.filter(ranked.opens, ranked._n == 0)
    return opened.select(
        rule=ibis.literal(rule.name),
        customer_key=opened.customer_key,
        category=opened.category if rule.same_category else ibis.null("string"),
        crossed_at=opened.started_at,
        count=opened["count"],
        contact_id=opened._key,
        closed_at=ibis.ifelse(opened._close <= latest, opened._close, ibis.null(opened._close.type())),
    )


def latest_contact(contacts: Any) -> Any:
    """The latest contact time in ``contacts`` (pass the whole store: every direction and
    customer), as a scalar expression: the instant up to which the data is known."""
    return contacts.started_at.max().as_scalar()


def flags(contacts: Any, rules: Sequence[Rule], latest: Any) -> Any:
    """Every rule's flag episodes, one table, ordered by crossing time, rule, customer, category."""
    parts = [episodes(contacts, rule, latest) for rule in rules]
    out = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return out.order_by(["crossed_at", "rule", "customer_key", "category"])
