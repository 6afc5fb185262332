"""The reporting span: ``--from`` / ``--to`` as local dates."""

from __future__ import annotations

from datetime import date
from typing import Any

from recontact.metrics.contacts import local_time


def within_dates(table: Any, start: date | None, end: date | None, column: str = "started_at") -> Any:
    """Rows of ``table`` whose ``column`` falls on a local date from ``start`` to ``end``, both
    included (the engine session's time zone: the configured one); None leaves that side open.
    A DATE column is compared as it is."""
    value = table[column]
    day = value if value.type().is_date() else local_time(value).date()
    if start is not None:
        table = table.filter(day >= start)
    if end is not None:
        table = table.filter(day <= end)
    return table
