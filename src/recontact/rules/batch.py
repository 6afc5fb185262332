"""Batch rule evaluation: every flag in the stored contacts, as one Ibis expression."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ibis

from recontact.metrics.windows import trailing_contact_count
from recontact.rules.spec import Rule


def rule_contacts(contacts: Any, rule: Rule) -> Any:
    """The countable contacts this rule looks at (its channel and unresolved-only filters)."""
    kept = contacts
    if rule.channel:
        kept = kept.filter(kept.channel == rule.channel)
    if rule.unresolved_only:
        kept = kept.filter(kept.resolved.isnull() | ~kept.resolved)
    return kept


def crossings(contacts: Any, rule: Rule) -> Any:
    """Contacts at which the customer has at least ``min_contacts`` counted contacts in the
    trailing window ``(t - window, t]`` (per category when ``same_category``), with ``count``."""
    kept = rule_contacts(contacts, rule)
    partition = ["customer_key", "category"] if rule.same_category else ["customer_key"]
    if rule.same_category:
        kept = kept.filter(kept.category.notnull())
    counted = kept.mutate(count=trailing_contact_count(kept, rule.window, partition))
    return counted.filter(counted["count"] >= rule.min_contacts)


def first_crossings(contacts: Any, rule: Rule) -> Any:
    """One flag per customer: the earliest crossing (ties: smaller contact id, or content hash).

    While a flag is open the rule does not fire again for that customer; flags close only through
    cases (a later layer), so in the contact store alone each customer fires at most once per rule.
    Columns: rule, customer_key, crossed_at, count, contact_id, category.
    """
    hits = crossings(contacts, rule)
    hits = hits.mutate(_key=hits.contact_id.fill_null(hits.content_hash))
    first = ibis.window(group_by="customer_key", order_by=["started_at", "_key"])
    ranked = hits.mutate(_n=ibis.row_number().over(first))
    return ranked.filter(ranked._n == 0).select(
        rule=ibis.literal(rule.name), customer_key=ranked.customer_key, crossed_at=ranked.started_at,
        count=ranked["count"], contact_id=ranked._key,
        category=ranked.category,
    )


def flags(contacts: Any, rules: Sequence[Rule]) -> Any:
    """Every rule's flags, one table, ordered by crossing time."""
    parts = [first_crossings(contacts, rule) for rule in rules]
    out = parts[0] if len(parts) == 1 else ibis.union(*parts)
    return out.order_by(["crossed_at", "rule", "customer_key"])
