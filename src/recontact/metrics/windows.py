"""Trailing-window counts on the contacts' own timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import ibis

#: Timestamps are kept to the microsecond, so (t - W, t] is the closed range [t - W + 1 µs, t].
RESOLUTION = timedelta(microseconds=1)


def exact_interval(d: timedelta) -> Any:
    """``d`` as an Ibis interval of microseconds: an exact duration, also across daylight-saving
    changes (an interval of days would follow the session time zone's wall clock)."""
    return ibis.interval(microseconds=d // RESOLUTION)


def trailing_window(window: timedelta, partition: Sequence[str], order: str = "started_at") -> Any:
    """An Ibis range window covering the half-open interval ``(t - window, t]`` before each row's
    ``order`` time ``t``, within ``partition``. Rows with the same timestamp are all inside."""
    return ibis.range_window(
        preceding=exact_interval(window - RESOLUTION), following=0,
        group_by=list(partition), order_by=order,
    )


def trailing_contact_count(table: Any, window: timedelta, partition: Sequence[str]) -> Any:
    """For each contact at time ``t``: how many contacts of the same ``partition`` (e.g. customer)
    started in ``(t - window, t]``, itself included."""
    return table.started_at.count().over(trailing_window(window, partition))
