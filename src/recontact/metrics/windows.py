"""Trailing-window counts on the contacts' own timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import ibis

#: Timestamps are kept to the microsecond, so (t - W, t] is the closed range [t - W + 1 µs, t].
RESOLUTION = timedelta(microseconds=1)


def trailing_window(window: timedelta, partition: Sequence[str], order: str = "started_at") -> Any:
    """An Ibis range window covering the half-open interval ``(t - window, t]`` before each row's
    ``order`` time ``t``, within ``partition``. Rows with the same timestamp are all inside."""
    span = window - RESOLUTION
    return ibis.range_window(
        preceding=ibis.interval(microseconds=span // RESOLUTION), following=0,
        group_by=list(partition), order_by=order,
    )


def trailing_contact_count(table: Any, window: timedelta, partition: Sequence[str]) -> Any:
    """For each contact at time ``t``: how many contacts of the same ``partition`` (e.g. customer)
    started in ``(t - window, t]``, itself included."""
    return table.started_at.count().over(trailing_window(window, partition))
