"""``recontact fcr``, ``repeat-drivers``, ``kpis``, ``feedback``: thin wrappers over ``recontact.scorecard``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from recontact.cli.main import (
    DEFAULT_DB,
    DEFAULT_LIMIT,
    MAX_COUNT,
    ConfigOpt,
    DbOpt,
    LimitOpt,
    OutputOpt,
    _settings,
    app,
)
from recontact.cli.output import Output, emit_rows, save_chart

#: Values of ``--by`` (kept equal to ``recontact.scorecard.BY_CHOICES`` by a test: importing that
#: module here would load pydantic for ``--help``).
BY_CHOICES = ("day", "week", "month", "agent", "team", "queue", "channel", "category")

FromOpt = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"],
                                                  help="First local day reported (inclusive).")]
ToOpt = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"],
                                                help="Last local day reported (inclusive).")]
ByOpt = Annotated[list[str] | None, typer.Option("--by", help=f"Break down by {', '.join(BY_CHOICES)}; "
                                                              "repeatable (--by week --by channel); "
                                                              "default: one row for the store.")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Also write a chart: FILE.html, .svg or .png.")]


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _check_by(by: list[str] | None, allowed: tuple[str, ...] = BY_CHOICES) -> list[str]:
    for b in by or []:
        if b not in allowed:
            raise typer.BadParameter(f"use one of {', '.join(allowed)}", param_hint="--by")
    return by or []


def key_columns(by: list[str]) -> list[str]:
    """The table's key columns for a breakdown: ``period`` for day/week/month, ``customer_key``
    for customer, else the field."""
    return ["period" if b in ("day", "week", "month") else "customer_key" if b == "customer" else b for b in by]


def _percent(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """Rates as ``83.3%`` for the table (CSV and JSON keep the fraction)."""
    return [{**r, **{n: (None if r[n] is None else f"{100 * r[n]:.1f}%") for n in names}} for r in rows]


def _report(rows: list[dict[str, Any]], output: Output, *, chart: Path | None, draw: Callable[[Any], Any],
            title: str, columns: list[str], rates: tuple[str, ...] = (), seconds: tuple[str, ...] = (),
            limit: int | None = None) -> None:
    """Write the chart (``draw(charts_module)`` gives its spec) when asked, then the rows: a table of
    ``columns`` with ``rates`` as percentages and ``seconds`` rounded, or every key in CSV / JSON."""
    if chart is not None:
        from recontact import charts

        save_chart(draw(charts), chart)
    table = output is Output.table
    shown = [{**r, **{k: None if r[k] is None else round(r[k], 1) for k in seconds}}
             for r in _percent(rows, *rates)] if table else rows
    emit_rows(shown, output, title=title, columns=columns if table else None, limit=limit, empty="no contacts")


@app.command()
def fcr(
    by: ByOpt = None, since: FromOpt = None, until: ToOpt = None, chart: ChartOpt = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """First-contact resolution: issues opened, resolved first time, pending, repeats (docs/metrics.md)."""
    chosen = _check_by(by)
    from recontact import scorecard
    from recontact.rules.spec import format_duration

    settings = _settings(config)
    rows = scorecard.fcr(db, settings, by=chosen, since=_day(since), until=_day(until))
    _report(rows, output, chart=chart, draw=lambda charts: charts.fcr_chart(rows, chosen),
            title=f"First-contact resolution (repeat window {format_duration(settings.repeat_window)})",
            columns=[*key_columns(chosen), "issues", "resolved_first", "fcr", "pending", "repeats", "transfers",
                     "tickets_resolved", "ticket_fcr", "fcr_gap"], rates=("fcr", "ticket_fcr", "fcr_gap"),
            limit=limit)


@app.command("repeat-drivers")
def repeat_drivers(
    n: Annotated[int | None, typer.Option("--n", min=1, max=MAX_COUNT, help="Only the first N categories.")] = None,
    since: FromOpt = None, until: ToOpt = None, chart: ChartOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Categories ranked by the repeat contacts they caused, with the share of their issues that
    needed more than one contact."""
    from recontact import scorecard

    rows = scorecard.repeat_drivers(db, _settings(config), since=_day(since), until=_day(until), n=n)
    _report(rows, output, chart=chart, draw=lambda charts: charts.drivers_chart(rows),
            title="Repeat drivers: repeat contacts by category",
            columns=["rank", "category", "repeats", "share_of_repeats", "issues", "multi_contact",
                     "multi_contact_share", "pending"], rates=("share_of_repeats", "multi_contact_share"))


@app.command()
def kpis(
    by: ByOpt = None, since: FromOpt = None, until: ToOpt = None, chart: ChartOpt = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Desk efficiency: volume, ASA, AHT, ACW, abandonment, service level, escalation and truck-roll rates."""
    chosen = _check_by(by)
    from recontact import scorecard

    settings = _settings(config)
    rows = scorecard.kpis(db, settings, by=chosen, since=_day(since), until=_day(until))
    _report(rows, output, chart=chart, draw=lambda charts: charts.kpis_chart(rows, chosen),
            title=f"Desk KPIs (service level: answered within {settings.service_level_seconds:g} s)",
            columns=[*key_columns(chosen), "contacts", "abandonment", "service_level",
                     "asa_s", "aht_s", "acw_s", "escalation_rate", "truck_roll_rate", "backlog"],
            rates=("abandonment", "service_level", "escalation_rate", "truck_roll_rate"),
            seconds=("asa_s", "aht_s", "acw_s"), limit=limit)


@app.command()
def feedback(
    by: Annotated[list[str] | None, typer.Option("--by", help="Break down by customer, agent, "
                                                              f"{', '.join(BY_CHOICES)}; repeatable.")] = None,
    since: FromOpt = None, until: ToOpt = None, limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Feedback: CSAT average and distribution, thank-yous, feature requests and complaints."""
    chosen = _check_by(by, (*BY_CHOICES, "customer"))
    from recontact import scorecard

    rows = scorecard.feedback(db, _settings(config), by=chosen, since=_day(since), until=_day(until))
    if output is Output.csv:
        rows = [{**r, "csat_distribution": " ".join(f"{k}:{v}" for k, v in r["csat_distribution"].items())}
                for r in rows]
    elif output is Output.table:
        rows = [{**r, "csat_avg": None if r["csat_avg"] is None else round(r["csat_avg"], 2),
                 "csat_distribution": " ".join(f"{k}:{v}" for k, v in r["csat_distribution"].items())}
                for r in rows]
    emit_rows(rows, output, title="Feedback: CSAT and tagged feedback", limit=limit, empty="no contacts")
