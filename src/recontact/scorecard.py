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

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from recontact.config import Settings
from recontact.desk import _contacts, _countable, format_key, open_for_reading, period_label, report_settings
from recontact.errors import ConfigError

#: ``--by`` values: a period (the row's key is ``period``) or a contact field (key: the name here).
PERIODS: Final = ("day", "week", "month")
FIELDS: Final[dict[str, str]] = {"agent": "agent_id", "team": "team", "queue": "queue", "channel": "channel",
                                 "category": "category"}
BY_CHOICES: Final = (*PERIODS, *FIELDS)
#: ``recontact feedback`` also breaks down by customer (key ``customer_key``, ``C12``).
FEEDBACK_BY: Final = (*BY_CHOICES, "customer")

By = str | Sequence[str] | None


def breakdown(by: By, allowed: tuple[str, ...] = BY_CHOICES) -> list[str]:
    """``by`` as a list (one value, several, or none); ConfigError for an unknown one, a repeat, or
    two periods at once."""
    chosen = [by] if isinstance(by, str) else list(by or [])
    unknown = [b for b in chosen if b not in allowed]
    if unknown:
        raise ConfigError(f"cannot break down by {unknown[0]!r}; use one of {', '.join(allowed)}")
    if len(set(chosen)) < len(chosen) or sum(b in PERIODS for b in chosen) > 1:
        raise ConfigError(f"break down by each of {', '.join(allowed)} at most once, and by one period")
    return chosen


def _with_key(table: Any, by: list[str]) -> tuple[Any, list[str]]:
    """``table`` plus the breakdown columns (``period_start`` for a period) and the group-by list."""
    group = []
    for b in by:
        if b in PERIODS:
            from recontact.metrics.callers import period_start

            table = table.mutate(period_start=period_start(table.started_at, b))  # type: ignore[arg-type]
            group.append("period_start")
        else:
            group.append(FIELDS.get(b, "customer_key"))
    return table, group


def _key_value(row: dict[str, Any], by: list[str]) -> dict[str, Any]:
    """The row's breakdown keys as the JSON contract names them: ``period`` (labelled as in
    ``top``) or the field's short name (``agent``, ``team``, …)."""
    out: dict[str, Any] = {}
    for b in by:
        if b in PERIODS:
            out["period"] = period_label(row["period_start"], b)  # type: ignore[arg-type]
        elif b == "customer":
            out["customer_key"] = None if row["customer_key"] is None else format_key(row["customer_key"])
        else:
            out[b] = row[FIELDS[b]]
    return out


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


def fcr(db: Path, settings: Settings, *, by: By = None, since: date | None = None,
        until: date | None = None) -> list[dict[str, Any]]:
    """First-contact resolution per customer, and per ticket beside it: one row for the store, or
    one per period / agent / team / queue / channel / category (``by``: one of ``BY_CHOICES``, or
    several), in key order (a missing value last).

    Row: the keys (``period`` like ``top``: 2026-01-15, 2026-W03, 2026-01; or ``agent``, …), issues
    (issue-opening contacts whose follow-up window lies inside the data), resolved_first, fcr
    (resolved_first / issues, None when no issues), pending, repeats, transfers; tickets (tickets
    whose first contact falls in the row), tickets_resolved, tickets_resolved_first (no reopen, no
    reassignment), ticket_fcr (tickets_resolved_first / tickets_resolved, None when none),
    fcr_gap (ticket_fcr - fcr: how much better the desk looks per ticket; None unless both exist).
    See ``metrics/fcr.py`` and docs/metrics.md."""
    from recontact.metrics.fcr import fcr_summary, ticket_outcomes, ticket_summary

    by = breakdown(by)
    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        keyed, group = _with_key(_outcomes(store, settings, since, until), by)
        rows = fcr_summary(keyed, group).to_pyarrow().to_pylist()
        tickets = _between(ticket_outcomes(_contacts(store, settings)), settings, since, until)
        tickets, _ = _with_key(tickets, by)
        per_ticket = ticket_summary(tickets, group).to_pyarrow().to_pylist()
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        merged[tuple(r[g] for g in group)] = {**r, "tickets": 0, "tickets_resolved": 0, "tickets_resolved_first": 0,
                                              "ticket_fcr": None}
    for t in per_ticket:
        key = tuple(t[g] for g in group)
        base = merged.get(key) or {**dict(zip(group, key, strict=True)), "issues": 0, "resolved_first": 0,
                                   "fcr": None, "pending": 0, "repeats": 0, "transfers": 0}
        merged[key] = {**base, **{k: t[k] for k in ("tickets", "tickets_resolved", "tickets_resolved_first",
                                                    "ticket_fcr")}}
    out = []
    for key in sorted(merged, key=lambda k: [(v is None, v if v is not None else "") for v in k]):
        r = merged[key]
        rate, ticket_rate = _rate(r["fcr"]), _rate(r["ticket_fcr"])
        out.append({**_key_value(r, by), "issues": int(r["issues"]), "resolved_first": int(r["resolved_first"]),
                    "fcr": rate, "pending": int(r["pending"]), "repeats": int(r["repeats"]),
                    "transfers": int(r["transfers"]), "tickets": int(r["tickets"]),
                    "tickets_resolved": int(r["tickets_resolved"]),
                    "tickets_resolved_first": int(r["tickets_resolved_first"]), "ticket_fcr": ticket_rate,
                    "fcr_gap": None if rate is None or ticket_rate is None else ticket_rate - rate})
    return out


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


def _sort_key(key: tuple[Any, ...]) -> list[tuple[bool, Any]]:
    """Breakdown keys in order, a missing value last."""
    return [(v is None, v if v is not None else "") for v in key]


KPI_COUNTS: Final = ("contacts", "inbound", "outbound", "offered", "answered", "abandoned")
KPI_RATES: Final = ("abandonment", "service_level")
KPI_TICKETS: Final = ("tickets_opened", "tickets_resolved", "resolution_median_s", "resolution_p90_s", "backlog")


def kpis(db: Path, settings: Settings, *, by: By = None, since: date | None = None,
         until: date | None = None) -> list[dict[str, Any]]:
    """Efficiency: one row for the store, or one per period / agent / team / queue / channel /
    category (``by``, one or several: e.g. week and channel), in key order. Every contact counts,
    identified or not. See ``metrics/kpis.py`` for each figure's definition.

    Row: the keys, contacts, inbound, outbound, offered, answered, abandoned, abandonment,
    service_level (answered within ``service_level_s`` seconds, of offered), service_level_s,
    asa_s, handled, aht_s, acw_s, escalation_rate, truck_roll_rate; tickets_opened (first contact in
    the row), tickets_resolved (resolved in the row's period, else opened in the row), their
    resolution_median_s and resolution_p90_s, and backlog (tickets open at the end of the row's
    period; without a period, at the latest contact). Rates in [0, 1] and durations in seconds
    are None when nothing was measured."""
    from recontact.metrics.callers import period_start
    from recontact.metrics.fcr import ticket_outcomes
    from recontact.metrics.kpis import contact_fates, kpi_summary, ticket_flow

    by = breakdown(by)
    threshold = settings.service_level_seconds
    period = next((b for b in by if b in PERIODS), None)
    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        keyed, group = _with_key(contact_fates(_between(_contacts(store, settings), settings, since, until)), by)
        rows = kpi_summary(keyed, group, threshold).to_pyarrow().to_pylist()
        tickets, _ = _with_key(ticket_outcomes(_contacts(store, settings)), by)
        resolved_group = group
        if period:  # resolved tickets count in the period they were resolved in
            tickets = tickets.mutate(_resolved_start=period_start(tickets.resolved_at, period))  # type: ignore[arg-type]
            resolved_group = ["_resolved_start" if g == "period_start" else g for g in group]
        with tickets.cache() as once:  # a temporary table: the three flows read it, not the contacts
            flows = [ticket_flow(t, group, resolved_group) for t in (
                once.filter(_in_range(once.started_at, settings, since, until)),
                once.filter(_in_range(once.resolved_at, settings, since, until)),
                once)]
            opened = flows[0][0].to_pyarrow().to_pylist()
            resolved = flows[1][1].to_pyarrow().to_pylist()
            all_opened, all_resolved = (x.to_pyarrow().to_pylist() for x in flows[2])
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        merged[tuple(r[g] for g in group)] = {**r, "tickets_opened": 0, "tickets_resolved": 0,
                                              "resolution_median_s": None, "resolution_p90_s": None}
    empty = {k: 0 for k in (*KPI_COUNTS, "handled")} | {k: None for k in ("asa_s", "aht_s", "acw_s", *KPI_RATES,
                                                                          "escalation_rate", "truck_roll_rate")}
    for source, names, cols in ((opened, group, ("tickets_opened",)),
                                (resolved, resolved_group, ("tickets_resolved", "resolution_median_s",
                                                            "resolution_p90_s"))):
        for t in source:
            key = tuple(t[g] for g in names)
            base = merged.get(key) or {**dict(zip(group, key, strict=True)), **empty, "tickets_opened": 0,
                                       "tickets_resolved": 0, "resolution_median_s": None,
                                       "resolution_p90_s": None}
            merged[key] = {**base, **{c: t[c] for c in cols}}
    backlog = _backlog(all_opened, all_resolved, group, resolved_group, period)
    out = []
    for key in sorted(merged, key=_sort_key):
        r = merged[key]
        row: dict[str, Any] = _key_value(r, by)
        row |= {k: int(r[k]) for k in KPI_COUNTS}
        row |= {"abandonment": _rate(r["abandonment"]), "service_level": _rate(r["service_level"]),
                "service_level_s": threshold, "asa_s": _rate(r["asa_s"]), "handled": int(r["handled"]),
                "aht_s": _rate(r["aht_s"]), "acw_s": _rate(r["acw_s"]),
                "escalation_rate": _rate(r["escalation_rate"]), "truck_roll_rate": _rate(r["truck_roll_rate"]),
                "tickets_opened": int(r["tickets_opened"]), "tickets_resolved": int(r["tickets_resolved"]),
                "resolution_median_s": _rate(r["resolution_median_s"]),
                "resolution_p90_s": _rate(r["resolution_p90_s"]), "backlog": backlog(key)}
        out.append(row)
    return out


def _in_range(ts: Any, settings: Settings, since: date | None, until: date | None) -> Any:
    """``ts`` (an Ibis timestamp) within the reported local days; true when no bounds are set."""
    import ibis

    start, end = local_bounds(settings.timezone, since, until)
    cond = ibis.literal(True)
    if start is not None:
        cond = cond & (ts >= start)
    if end is not None:
        cond = cond & (ts < end)
    return cond


def _backlog(opened: list[dict[str, Any]], resolved: list[dict[str, Any]], group: list[str],
             resolved_group: list[str], period: str | None) -> Any:
    """A function of a row's key giving the tickets open at the end of its period (opened in or
    before it, not resolved in or before it), per the key's other columns; without a period, the
    tickets open at the latest contact. From every ticket's open and resolve periods."""
    pos = group.index("period_start") if period else None

    def split(key: tuple[Any, ...]) -> tuple[Any, tuple[Any, ...]]:
        if pos is None:
            return None, key
        return key[pos], key[:pos] + key[pos + 1:]

    flow: dict[tuple[Any, ...], list[tuple[Any, int]]] = {}
    for rows, names, column, sign in ((opened, group, "tickets_opened", 1),
                                      (resolved, resolved_group, "tickets_resolved", -1)):
        for r in rows:
            when, rest = split(tuple(r[g] for g in names))
            flow.setdefault(rest, []).append((when, sign * int(r[column])))

    def at(key: tuple[Any, ...]) -> int:
        when, rest = split(key)
        return sum(n for w, n in flow.get(rest, []) if when is None or (w is not None and w <= when))

    return at


def feedback(db: Path, settings: Settings, *, by: By = None, since: date | None = None,
             until: date | None = None) -> list[dict[str, Any]]:
    """CSAT and tagged feedback: one row for the store, or per customer / agent / period / …
    (``by``: ``FEEDBACK_BY``, one or several), in key order. Every contact counts; by customer,
    the unidentified ones are one row with ``customer_key`` None.

    Row: the keys, contacts, rated (contacts with a CSAT score), csat_avg (None when none),
    csat_distribution ({score: contacts}, scores as text: ``{"4": 10, "5": 31}``), tagged
    (contacts with a feedback tag), thank_you, feature_request, complaint. See
    ``metrics/feedback.py`` for how tags are read."""
    from recontact.metrics.feedback import TAG_PATTERNS, csat_distribution, feedback_summary

    by = breakdown(by, FEEDBACK_BY)
    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        keyed, group = _with_key(_between(_contacts(store, settings), settings, since, until), by)
        rows = feedback_summary(keyed, group).to_pyarrow().to_pylist()
        scores = csat_distribution(keyed, group).to_pyarrow().to_pylist()
    spread: dict[tuple[Any, ...], dict[str, int]] = {}
    for s in scores:
        spread.setdefault(tuple(s[g] for g in group), {})[f"{s['csat']:g}"] = int(s["n"])
    return [{**_key_value(r, by), "contacts": int(r["contacts"]), "rated": int(r["rated"]),
             "csat_avg": _rate(r["csat_avg"]), "csat_distribution": spread.get(tuple(r[g] for g in group), {}),
             "tagged": int(r["tagged"]), **{t: int(r[t]) for t in TAG_PATTERNS}} for r in rows]
