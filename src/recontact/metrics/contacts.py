"""Which contacts count: the common filters every caller metric starts from."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis


def countable_inbound(contacts: Any, shared_phones: Iterable[str] = (), shared_emails: Iterable[str] = ()) -> Any:
    """Inbound contacts of identified customers, without shared lines.

    Outbound contacts never count toward rules or rankings; unidentified contacts (no customer
    key: withheld caller id and nothing else) are counted elsewhere; contacts from a deny-listed
    number are left out even when they were imported before the number was listed.
    """
    kept = contacts.filter(
        contacts.direction == "inbound",
        contacts.customer_key.notnull(),
        ~contacts.shared,
    )
    for column, values in (("phone", shared_phones), ("email", shared_emails)):
        listed = sorted(set(values))
        if listed:
            kept = kept.filter(kept[column].isnull() | ~kept[column].isin(listed))
    return kept


def handle_seconds(contacts: Any) -> Any:
    """Handle time of each contact in seconds: talk + hold + wrap, missing parts as 0."""
    return (contacts.talk_s.fill_null(0) + contacts.hold_s.fill_null(0) + contacts.wrap_s.fill_null(0))


def local_time(ts: Any) -> Any:
    """Wall-clock time in the engine session's time zone (set from the configured ``timezone``)."""
    return ts.cast("timestamp")


__all__ = ["countable_inbound", "handle_seconds", "ibis", "local_time"]
