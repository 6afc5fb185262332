"""``recontact fcr``, ``repeat-drivers``: thin wrappers over ``recontact.scorecard``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from recontact.cli.main import DEFAULT_DB, DEFAULT_LIMIT, ConfigOpt, DbOpt, LimitOpt, OutputOpt, _settings, app
from recontact.cli.output import Output, emit_rows

#: Values of ``--by`` (kept equal to ``recontact.scorecard.BY_CHOICES`` by a test: importing that
#: module here would load pydantic for ``--help``).
BY_CHOICES = ("day", "week", "month", "agent", "team", "queue", "channel", "category")

FromOpt = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"],
                                                  help="First local day reported (inclusive).")]
ToOpt = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"],
                                                help="Last local day reported (inclusive).")]
ByOpt = Annotated[str | None, typer.Option("--by", help=f"Break down by {', '.join(BY_CHOICES)} "
                                                        "(default: one row for the store).")]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="Also write a chart: FILE.html, .svg or .png.")]


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _check_by(by: str | None) -> None:
    if by is not None and by not in BY_CHOICES:
        raise typer.BadParameter(f"use one of {', '.join(BY_CHOICES)}", param_hint="--by")


def key_column(by: str | None) -> list[str]:
    """The table's key column for a breakdown: ``period`` for day/week/month, else the field."""
    if by is None:
        return []
    return ["period"] if by in ("day", "week", "month") else [by]


def _percent(rows: list[dict[str, Any]], *names: str) -> list[dict[str, Any]]:
    """Rates as ``83.3%`` for the table (CSV and JSON keep the fraction)."""
    return [{**r, **{n: (None if r[n] is None else f"{100 * r[n]:.1f}%") for n in names}} for r in rows]


@app.command()
def fcr(
    by: ByOpt = None, since: FromOpt = None, until: ToOpt = None, chart: ChartOpt = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """First-contact resolution: issues opened, resolved first time, pending, repeats (docs/metrics.md)."""
    _check_by(by)
    from recontact import scorecard
    from recontact.rules.spec import format_duration

    settings = _settings(config)
    rows = scorecard.fcr(db, settings, by=by, since=_day(since), until=_day(until))
    if chart is not None:
        from recontact import charts

        charts.save(charts.fcr_chart(rows, by), chart)
    shown = _percent(rows, "fcr") if output is Output.table else rows
    window = format_duration(settings.repeat_window)
    emit_rows(shown, output, title=f"First-contact resolution (repeat window {window})",
              columns=[*key_column(by), "issues", "resolved_first", "fcr", "pending", "repeats", "transfers"],
              limit=limit, empty="no contacts")


@app.command("repeat-drivers")
def repeat_drivers(
    n: Annotated[int | None, typer.Option("--n", min=1, help="Only the first N categories.")] = None,
    since: FromOpt = None, until: ToOpt = None, chart: ChartOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Categories ranked by the repeat contacts they caused, with the share of their issues that
    needed more than one contact."""
    from recontact import scorecard

    rows = scorecard.repeat_drivers(db, _settings(config), since=_day(since), until=_day(until), n=n)
    if chart is not None:
        from recontact import charts

        charts.save(charts.drivers_chart(rows), chart)
    shown = _percent(rows, "share_of_repeats", "multi_contact_share") if output is Output.table else rows
    emit_rows(shown, output, title="Repeat drivers: repeat contacts by category",
              columns=["rank", "category", "repeats", "share_of_repeats", "issues", "multi_contact",
                       "multi_contact_share", "pending"], empty="no contacts")
