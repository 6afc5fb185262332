"""Which contacts count: the common filters every caller metric starts from."""

from __future__ import annotations

from typing import Any

import ibis


def countable_inbound(contacts: Any) -> Any:
    """Inbound contacts of identified customers.

    Outbound contacts never count toward rules or rankings; unidentified contacts (no customer
    key: withheld caller id, placeholders, deny-listed or hub identifiers and nothing else) are
    counted elsewhere. A contact from a shared line that also names someone (an e-mail, an
    account) counts for that someone.
    """
    return contacts.filter(contacts.direction == "inbound", contacts.customer_key.notnull())


def handle_seconds(contacts: Any) -> Any:
    """Handle time of each contact in seconds: talk + hold + wrap, missing parts as 0."""
    return (contacts.talk_s.fill_null(0) + contacts.hold_s.fill_null(0) + contacts.wrap_s.fill_null(0))


def local_time(ts: Any) -> Any:
    """Wall-clock time in the engine session's time zone (set from the configured ``timezone``)."""
    return ts.cast("timestamp")


__all__ = ["countable_inbound", "handle_seconds", "ibis", "local_time"]
