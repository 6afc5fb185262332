"""The desk's scorecard: effectiveness (FCR, repeat drivers), efficiency (KPIs) and feedback.

One function per CLI command / API route / dashboard page, like ``desk.py``: each opens the store
read-only, runs one metric definition from ``metrics/`` on the embedded engine, and returns plain
rows (dicts) whose shape is the CLI's JSON contract (docs/cli.md). Rates are floats in [0, 1], or
None when their denominator is 0 ("no data"); durations are seconds.

``since`` / ``until`` are local dates in the reporting time zone, both inclusive: they choose the
contacts *reported* (by each contact's own start time), never the contacts *considered*: whether a
contact is a repeat still depends on the contacts before ``since``, and pending still means "past
the latest contact in the store".
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

from recontact.config import Settings
from recontact.desk import _contacts, _countable, open_for_reading, period_label, report_settings
from recontact.errors import ConfigError

#: ``--by`` values: a period (the row's key is ``period``) or a contact field (key: the name here).
PERIODS: Final = ("day", "week", "month")
FIELDS: Final[dict[str, str]] = {"agent": "agent_id", "team": "team", "queue": "queue", "channel": "channel",
                                 "category": "category"}
BY_CHOICES: Final = (*PERIODS, *FIELDS)

Breakdown = Literal["day", "week", "month", "agent", "team", "queue", "channel", "category"]


def check_by(by: str | None, allowed: tuple[str, ...] = BY_CHOICES) -> None:
    """ConfigError unless ``by`` is None or one of ``allowed``."""
    if by is not None and by not in allowed:
        raise ConfigError(f"cannot break down by {by!r}; use one of {', '.join(allowed)}")


def _with_key(table: Any, by: str | None) -> tuple[Any, list[str]]:
    """``table`` plus the breakdown column (``period_start`` for a period) and the group-by list."""
    if by is None:
        return table, []
    if by in PERIODS:
        from recontact.metrics.callers import period_start

        return table.mutate(period_start=period_start(table.started_at, by)), ["period_start"]  # type: ignore[arg-type]
    return table, [FIELDS[by]]


def _key_value(row: dict[str, Any], by: str | None) -> dict[str, Any]:
    """The row's breakdown key as the JSON contract names it: ``period`` (as in ``top``) or the
    field's short name (``agent``, ``team``, …)."""
    if by is None:
        return {}
    if by in PERIODS:
        return {"period": period_label(row["period_start"], by)}  # type: ignore[arg-type]
    return {by: row[FIELDS[by]]}


def local_bounds(tz: str, since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """[start, end): from the first instant of ``since`` to the first instant after ``until``, local."""
    zone = ZoneInfo(tz)
    start = datetime.combine(since, time(0), zone) if since else None
    end = datetime.combine(until + timedelta(days=1), time(0), zone) if until else None
    return start, end


def _between(table: Any, settings: Settings, since: date | None, until: date | None) -> Any:
    start, end = local_bounds(settings.timezone, since, until)
    if start is not None:
        table = table.filter(table.started_at >= start)
    if end is not None:
        table = table.filter(table.started_at < end)
    return table


def _outcomes(store: Any, settings: Settings, since: date | None, until: date | None) -> Any:
    """Every countable contact with its FCR outcome (``metrics.fcr.contact_outcomes``), then the
    reported ones (``since`` / ``until``)."""
    from recontact.metrics.fcr import contact_outcomes
    from recontact.rules.batch import latest_contact

    latest = latest_contact(_contacts(store, settings))
    outcomes = contact_outcomes(_countable(store, settings), settings.repeat_window, latest,
                                settings.transfer_gap)
    return _between(outcomes, settings, since, until)


def _rate(value: Any) -> float | None:
    return None if value is None else float(value)


def fcr(db: Path, settings: Settings, *, by: str | None = None, since: date | None = None,
        until: date | None = None) -> list[dict[str, Any]]:
    """First-contact resolution: one row for the store, or one per period / agent / team / queue /
    channel / category (``by``), in key order.

    Row: the key (``period`` like ``top``: 2026-01-15, 2026-W03, 2026-01; or ``agent``, …), issues
    (issue-opening contacts whose follow-up window lies inside the data), resolved_first, fcr
    (resolved_first / issues, None when no issues), pending, repeats, transfers. See
    ``metrics/fcr.py`` and docs/metrics.md."""
    from recontact.metrics.fcr import fcr_summary

    check_by(by)
    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        keyed, group = _with_key(_outcomes(store, settings, since, until), by)
        rows = fcr_summary(keyed, group).to_pyarrow().to_pylist()
    return [{**_key_value(r, by), "issues": int(r["issues"]), "resolved_first": int(r["resolved_first"]),
             "fcr": _rate(r["fcr"]), "pending": int(r["pending"]), "repeats": int(r["repeats"]),
             "transfers": int(r["transfers"])} for r in rows]


def repeat_drivers(db: Path, settings: Settings, *, since: date | None = None, until: date | None = None,
                   n: int | None = None) -> list[dict[str, Any]]:
    """Categories ranked by the repeat contacts they caused, most first (ties: category name; the
    contacts without a category are one row, category None). The first ``n`` (None: all).

    Row: rank, category, repeats, share_of_repeats (of all repeats), issues (counted), multi_contact
    (counted issues that needed more than one contact: a repeat came within W), multi_contact_share
    (multi_contact / issues, None when no issues), pending."""
    from recontact.metrics.fcr import repeat_drivers as drivers_expr

    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        rows = drivers_expr(_outcomes(store, settings, since, until)).to_pyarrow().to_pylist()
    rows = [r for r in rows if r["repeats"] or r["issues"] or r["pending"]]
    return [{"rank": i + 1, "category": r["category"], "repeats": int(r["repeats"]),
             "share_of_repeats": _rate(r["share_of_repeats"]), "issues": int(r["issues"]),
             "multi_contact": int(r["multi_contact"]), "multi_contact_share": _rate(r["multi_contact_share"]),
             "pending": int(r["pending"])} for i, r in enumerate(rows[:n] if n else rows)]
