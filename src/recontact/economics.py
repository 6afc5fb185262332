"""Cost to serve and customer value: the functions ``recontact cost`` and ``recontact value`` (and
later the API and dashboard) call. Definitions: ``metrics/cost.py``, ``metrics/value.py`` and
docs/metrics.md.

Rows come back as plain dicts (the CLI's JSON contract): ``period`` labelled as in ``top``
(``2026-W03``, ``2026-01``), customer keys as ``C<n>``, money as floats in the rates' currency.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recontact.config import Settings

if TYPE_CHECKING:
    from recontact.metrics.callers import Period
    from recontact.store.contacts import Store


def rates_used(settings: Settings, agent_rates: int) -> dict[str, Any]:
    """The rates a cost figure was computed with, as every cost output names them."""
    c = settings.costs
    return {"labour_per_hour": c.labour_per_hour, "agent_hourly_costs": agent_rates, "truck_roll": c.truck_roll,
            "per_minute": dict(c.per_minute), "per_contact": dict(c.per_contact)}


def rates_summary(rates: dict[str, Any]) -> str:
    """One line naming the rates (for table titles)."""
    per_minute = ", ".join(f"{k} {v:g}" for k, v in rates["per_minute"].items()) or "none"
    per_contact = ", ".join(f"{k} {v:g}" for k, v in rates["per_contact"].items()) or "none"
    agents = f"; {rates['agent_hourly_costs']} agents at their own hourly cost" if rates["agent_hourly_costs"] else ""
    return (f"labour {rates['labour_per_hour']:g}/h{agents}; per minute: {per_minute}; per contact: {per_contact}; "
            f"truck roll {rates['truck_roll']:g}")


def _revenue(store: Store) -> Any:
    """Ibis: (customer_key, monthly_revenue) from the customer directory."""
    from recontact.metrics.cost import directory_row_keys, monthly_revenue

    con = store.ibis()
    keys = directory_row_keys(con.table("directory_identifiers"), con.table("identifiers"), "customers")
    return monthly_revenue(con.table("directory_customers"), keys)


def _span(store: Store, table: str, column: str, start: date | None, end: date | None) -> tuple[date, date] | None:
    """The first and last local date of ``column`` in ``table`` (cut to start..end), or None."""
    expr = column if table == "orders" else f"CAST(CAST({column} AS TIMESTAMP) AS DATE)"
    lo, hi = store.con.execute(f"SELECT min({expr}), max({expr}) FROM {table}").fetchall()[0]
    if lo is None:
        return None
    lo, hi = max(lo, start) if start else lo, min(hi, end) if end else hi
    return (lo, hi) if lo <= hi else None


def _factors(store: Store, period: Period, span: tuple[date, date] | None, start: date | None,
             end: date | None) -> Any:
    """An Ibis memtable (period_start, factor): the revenue proration of every period in ``span``."""
    import ibis
    import pyarrow as pa

    from recontact.metrics.cost import period_days, period_starts, proration_factor

    starts = period_starts(span[0], span[1], period) if span else []
    factors = [proration_factor(*period_days(p, period), start, end) for p in starts]
    return ibis.memtable(pa.table({"period_start": pa.array(starts, pa.date32()),
                                   "factor": pa.array(factors, pa.float64())}))


def cost_to_serve(db: Path, settings: Settings, period: Period = "month", *, n: int | None = None,
                  unprofitable: bool = False, start: date | None = None,
                  end: date | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Cost to serve per customer and period, against the customer's revenue: (rates used, rows).

    Rows per (period, customer with contacts in it), most expensive first within each period
    (ties by customer key), periods oldest first; ``n`` keeps each period's ``n`` most expensive;
    ``unprofitable`` keeps those whose cost exceeds their revenue (margin < 0); ``start``/``end``
    keep contacts on those local dates (both included) and cut the revenue to them."""
    from recontact.desk import format_key, open_for_reading, period_label, report_settings, with_identifiers
    from recontact.metrics.callers import period_start
    from recontact.metrics.cost import PARTS, customer_costs, ranked, with_revenue

    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        costed = _costed(store, settings, start, end, identified=True)
        totals = customer_costs(costed, period_start(costed.started_at, period))
        factors = _factors(store, period, _span(store, "contacts", "started_at", start, end), start, end)
        rows = ranked(with_revenue(totals, _revenue(store), factors))
        if unprofitable:
            rows = rows.filter(rows.margin < 0)
        if n is not None:
            rows = rows.filter(rows["rank"] <= n)
        found = with_identifiers(rows, store).order_by(["period_start", "rank"]).to_pyarrow().to_pylist()
        agent_rates = int(store.con.execute("SELECT count(*) FROM directory_agents WHERE hourly_cost IS NOT NULL")
                          .fetchall()[0][0])
    rates = rates_used(settings, agent_rates)
    return rates, [{
        "period": period_label(r["period_start"], period), "rank": int(r["rank"]),
        "customer_key": format_key(r["customer_key"]), "identifiers": r["identifiers"] or [],
        "contacts": int(r["contacts"]), "handle_s": float(r["handle_s"]), "cost": float(r["cost"]),
        "revenue": float(r["revenue"]), "margin": float(r["margin"]),
        **{part: float(r[part]) for part in PARTS}, "rates": rates,
    } for r in found]


def _costed(store: Store, settings: Settings, start: date | None, end: date | None, *, identified: bool) -> Any:
    """Ibis: the contacts in start..end of identified customers (or, ``identified`` false, of no
    one), each with its cost at the configured rates."""
    from recontact.desk import _contacts
    from recontact.metrics.cost import contact_costs
    from recontact.metrics.span import within_dates

    contacts = _contacts(store, settings)
    who = contacts.customer_key.notnull() if identified else contacts.customer_key.isnull()
    c = settings.costs
    return contact_costs(within_dates(contacts.filter(who), start, end), store.ibis().table("directory_agents"),
                         labour_per_hour=c.labour_per_hour, truck_roll=c.truck_roll, per_minute=c.per_minute,
                         per_contact=c.per_contact)


def unattributed_cost(db: Path, settings: Settings, *, start: date | None = None,
                      end: date | None = None) -> dict[str, Any]:
    """What the contacts of no identified customer (withheld caller ids, placeholders, shared lines
    and nothing else) cost at the same rates: ``contacts``, ``handle_s``, ``cost``. They are in no
    row of ``cost_to_serve``."""
    from recontact.desk import open_for_reading, report_settings

    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        costed = _costed(store, settings, start, end, identified=False)
        row = costed.aggregate(contacts=costed.count(), handle_s=costed.handle_s.sum(),
                               cost=costed.cost.sum()).to_pyarrow().to_pylist()[0]
    return {"contacts": int(row["contacts"]), "handle_s": float(row["handle_s"] or 0.0),
            "cost": float(row["cost"] or 0.0)}


def customer_value(db: Path, settings: Settings, period: Period = "month", *, start: date | None = None,
                   end: date | None = None, falling_only: bool = False) -> list[dict[str, Any]]:
    """Customer value beside support load, per customer with orders: orders, repeat purchases,
    first and later order size, revenue, contacts, and per period ``orders`` / ``revenue`` /
    ``contacts``; ``falling`` marks customers whose revenue fell while their contacts rose from
    the previous period to the last one (``last_period``, ``previous_period``: the period holding
    the last day reported — ``end``, else the latest order or contact — and the one before).
    Rows: falling first, then by revenue (more first), then key."""
    from recontact.desk import _countable, format_key, open_for_reading, period_label, report_settings
    from recontact.metrics.cost import directory_row_keys, period_starts
    from recontact.metrics.span import within_dates
    from recontact.metrics.value import customer_orders, order_summary, per_period

    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        con = store.ibis()
        keys = directory_row_keys(con.table("directory_identifiers"), con.table("identifiers"), "orders")
        keyed = within_dates(customer_orders(con.table("orders"), keys), start, end, "ordered_on")
        contacts = within_dates(_countable(store, settings), start, end)
        summary = order_summary(keyed).to_pyarrow().to_pylist()
        periods = per_period(keyed, contacts, period).to_pyarrow().to_pylist()
        spans = [s for s in (_span(store, "orders", "ordered_on", start, end),
                             _span(store, "contacts", "started_at", start, end)) if s]
        idents = _identifiers_of(store, [r["customer_key"] for r in summary])
    last = max(s[1] for s in spans) if spans else None
    if end is not None and summary:
        last = end
    starts = period_starts(last, last, period) if last else []
    last_start = starts[0] if starts else None
    previous_start = period_starts(last_start - timedelta(days=1), last_start - timedelta(days=1), period)[0] \
        if last_start else None
    by_customer: dict[int, list[dict[str, Any]]] = {}
    for p in sorted(periods, key=lambda p: p["period_start"]):
        by_customer.setdefault(p["customer_key"], []).append(p)
    rows = []
    labels = {"last_period": period_label(last_start, period) if last_start else None,
              "previous_period": period_label(previous_start, period) if previous_start else None}
    for s in summary:
        mine = {p["period_start"]: p for p in by_customer.get(s["customer_key"], [])}
        now, before = mine.get(last_start, _NONE), mine.get(previous_start, _NONE)
        falling = now["revenue"] < before["revenue"] and now["contacts"] > before["contacts"]
        rows.append({
            "customer_key": format_key(s["customer_key"]), "identifiers": idents.get(s["customer_key"], []),
            "orders": int(s["orders"]), "repeat_purchases": int(s["repeat_purchases"]),
            "first_order": float(s["first_order"]),
            "later_order_avg": None if s["later_order_avg"] is None else float(s["later_order_avg"]),
            "revenue": float(s["revenue"]), "contacts": sum(int(p["contacts"]) for p in mine.values()),
            "revenue_previous": float(before["revenue"]), "revenue_last": float(now["revenue"]),
            "contacts_previous": int(before["contacts"]), "contacts_last": int(now["contacts"]),
            "falling": falling, **labels,
            "periods": [{"period": period_label(k, period), "orders": int(p["orders"]),
                         "revenue": float(p["revenue"]), "contacts": int(p["contacts"])} for k, p in mine.items()],
        })
    rows.sort(key=lambda r: (not r["falling"], -r["revenue"], int(r["customer_key"][1:])))
    if falling_only:
        rows = [r for r in rows if r["falling"]]
    return rows


_NONE = {"orders": 0, "revenue": 0.0, "contacts": 0}


def _identifiers_of(store: Store, keys: list[int]) -> dict[int, list[str]]:
    """Customer key -> every identifier, phones first (the order of ``desk.identifiers_of``)."""
    from recontact.schema import IDENTIFIER_KINDS

    if not keys:
        return {}
    rank = {kind: i for i, kind in enumerate(IDENTIFIER_KINDS)}
    out: dict[int, list[str]] = {}
    for ident, key in store.con.execute("SELECT ident, customer_key FROM identifiers WHERE customer_key IN "
                                        f"({', '.join(str(int(k)) for k in keys)})").fetchall():
        out.setdefault(int(key), []).append(ident)
    return {k: sorted(v, key=lambda i: (rank.get(i.partition(":")[0], len(rank)), i)) for k, v in out.items()}
