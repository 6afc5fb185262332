"""Batch rule evaluation: every flag episode in the stored contacts, as one Ibis expression.

A flag is an episode (DESIGN.md, "Concepts": Flag; docs/metrics.md). With c(t) the trailing count
of a customer's counted contacts in (t - W, t] and c⁻(t) the count in [t - W, t) (just before t):

* it opens at a contact time t with c(t) >= N and c⁻(t) < N;
* it closes at the first instant after that with c < N. The count only drops when a contact
  leaves the window, at some t_j + W, so the closing instant is the first t_j + W after the
  opening with c(t_j + W) = count in (t_j, t_j + W] < N (and c⁻(t_j + W) = count in
  [t_j, t_j + W) >= N: a closing *transition*);
* ``closed_at`` is null while that instant is later than the latest contact in the store.

Everything is window functions over one sort per rule (a trailing range count, and the
contacts N before and after each one: see :func:`transitions`), then a second, small window over
the few contacts that open or close an episode: portable Ibis, no Python per row. Filter ``contacts`` (e.g. to one
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


def within_reach(kept: Any, rule: Rule) -> Any:
    """The contacts of ``kept`` whose customer (and category, for a same-category rule) has at
    least N of them in all: only they can ever count N in a window. Most customers call once or
    twice, so this cheap grouping leaves a fraction of the rows to sort (a generated year: a fifth)
    and every episode as it was."""
    part = rule_partition(rule)
    sizes = kept.group_by(part).aggregate(_contacts=kept.count())
    return kept.semi_join(sizes.filter(sizes._contacts >= rule.min_contacts), part)


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
    """Each of the rule's contacts with ``count`` = c(t), whether an episode opens at its time
    (``opens``, on one contact per instant) or may close at its time + W (``closes``), and
    ``_key``, the smallest contact id (else content hash) at its instant; only contacts that
    open or close are kept.

    One sort per rule: c(t) is a range count; everything else comes from the rows N (and N - 1)
    before and after in time order, which is several times cheaper than range counts:

    * opens: c(t) >= N, and fewer than N contacts in [t - W, t): the N-th contact before the
      first one at instant t (rows of one instant in the sort's order; ``_first`` marks it) is
      missing or earlier than t - W. Checked on that first row only, where it is exact.
    * closes: count in (t, t + W] < N: the N-th contact after this one is missing or later than
      t + W. From the last row of an instant that is exact; from an earlier row of the same
      instant it can only say "does not close" more often, so the first closing after an
      opening (the smallest t + W over closing rows, see :func:`episodes`) is unchanged. Rows
      whose count in [t, t + W) is below N cannot be a closing transition and are dropped early
      (the (N - 1)-th contact after must fall before t + W; kept whenever the instant has ties).
    """
    kept = within_reach(rule_contacts(contacts, rule), rule)
    part = rule_partition(rule)
    n, width = rule.min_contacts, exact_interval(rule.window)
    at = kept.started_at
    rows = ibis.window(group_by=list(part), order_by="started_at")
    before, after = at.lag().over(rows), at.lead().over(rows)
    marked = kept.mutate(
        count=trailing_contact_count(kept, rule.window, part),  # c(t): (t - W, t]
        _key=kept.contact_id.fill_null(kept.content_hash).min().over(_span(0, 0, part)),
        _first=before.isnull() | (before != at),
        _tied=(before == at).fill_null(False) | (after == at).fill_null(False),
        _back=at.lag(n).over(rows),
        _ahead=at.lead(n).over(rows),
        _ahead_less=at.lead(n - 1).over(rows),
    )
    t = marked.started_at
    marked = marked.mutate(
        opens=(marked["count"] >= n) & marked._first & (marked._back.isnull() | (marked._back < t - width)),
        closes=(marked._ahead.isnull() | (marked._ahead > t + width))
        & (marked._tied | (marked._ahead_less < t + width).fill_null(False)),
    )
    return marked.filter(marked.opens | marked.closes)


def episodes(contacts: Any, rule: Rule, latest: Any) -> Any:
    """The rule's flag episodes: one row per opening, at the contact that crossed the threshold.

    ``contacts``: the countable ones (see ``countable_inbound``), possibly narrowed to some
    customers. ``latest``: the latest contact time of the whole store (a scalar expression or a
    datetime); an episode whose closing instant is later is open (``closed_at`` null).
    Ties: of several contacts at the opening instant, the one with the smallest contact id (or
    content hash, when the source gave no id) is named; ``count`` counts them all.
    Columns: FLAG_COLUMNS.
    """
    part = rule_partition(rule)
    moves = transitions(contacts, rule)
    # The first closing instant after an opening at t: the smallest t_j + W over closing
    # transitions with t_j in (t - W, ∞) (every such t_j + W is after t).
    close_time = ibis.ifelse(moves.closes, moves.started_at, ibis.null(moves.started_at.type()))
    first_close = close_time.min().over(_span(rule.window - RESOLUTION, None, part)) + exact_interval(rule.window)
    ranked = moves.mutate(_close=first_close)
    opened = ranked.filter(ranked.opens)
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
