"""``recontact directory``, ``orders``, ``cost``, ``value`` and ``managers``: what a desk's
contacts cost, what its customers are worth, and managers' reports — thin wrappers over
``recontact.directory`` and ``recontact.economics``."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from recontact.cli.main import (
    DEFAULT_DB,
    DEFAULT_LIMIT,
    MAX_COUNT,
    ConfigOpt,
    DbOpt,
    LimitOpt,
    OutputOpt,
    _Group,
    _settings,
    app,
)
from recontact.cli.output import Output, emit_json, emit_rows, save_chart, stdout

if TYPE_CHECKING:
    from recontact.directory import DirectorySummary
    from recontact.metrics.callers import Period

directory_app = typer.Typer(cls=_Group, no_args_is_help=True, rich_markup_mode=None,
                            help="Customer, agent and employee directories: import one, list one.")
app.add_typer(directory_app, name="directory")
orders_app = typer.Typer(cls=_Group, no_args_is_help=True, rich_markup_mode=None,
                         help="The orders history: import it, list it.")
app.add_typer(orders_app, name="orders")

KindArg = Annotated[str, typer.Argument(help="customers, agents or employees.", show_default=False)]
FileArg = Annotated[Path, typer.Argument(help="CSV file with a header row.", show_default=False)]


def _print_directory_summary(s: DirectorySummary) -> None:
    stdout.print(f"[bold]{s.file}[/bold] ({s.directory}): read {s.read:,} rows — [green]{s.imported:,} "
                 f"imported[/green], [{'red' if s.rejected else 'dim'}]{s.rejected:,} rejected[/]", highlight=False)
    for note in s.notes:
        stdout.print(f"  [dim]note: {note}[/dim]", highlight=False)
    for r in s.rejects[:10]:
        stdout.print(f"  [red]line {r.line}[/red]: {r.reason}", highlight=False)
    if len(s.rejects) > 10:
        stdout.print(f"  … {len(s.rejects) - 10:,} more rejected rows (--output json lists them all)",
                     highlight=False)
    for r in s.warnings[:10]:
        stdout.print(f"  [yellow]line {r.line}[/yellow]: {r.reason}", highlight=False)


def _emit_summary(s: DirectorySummary, output: Output) -> None:
    if output is Output.json:
        emit_json(s.as_json())
    elif output is Output.csv:
        data = s.as_json()
        emit_rows([{k: v for k, v in data.items() if k not in ("rejects", "warnings", "notes")}], output)
    else:
        _print_directory_summary(s)


@directory_app.command("import")
def directory_import(kind: KindArg, file: FileArg, db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table,
                     config: ConfigOpt = None) -> None:
    """Import a directory, replacing the one in the store. Customers: phone / email / account_id /
    employee_id (or identifiers), name, segment, account_manager, monthly_revenue. Agents:
    agent_id, name, team, supervisor, hourly_cost (loaded). Employees: employee_id, name, email,
    phone, manager. Rejected rows are listed with their line and reason; valid rows are kept."""
    from recontact import directory

    _emit_summary(directory.import_directory(db, directory.check_kind(kind, ("customers", "agents", "employees")),
                                             file, _settings(config)), output)


@directory_app.command("list")
def directory_list(kind: Annotated[str | None, typer.Argument(help="customers, agents, employees or orders "
                                                                    "(none: which directories the store holds).",
                                                               show_default=False)] = None,
                   db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None) -> None:
    """A directory's rows with the customer key each resolves to now; without KIND, the directories held."""
    from recontact import directory

    settings = _settings(config)
    if kind is None:
        emit_rows(directory.list_directories(db, settings), output, title="Directories",
                  empty="no directory imported yet (recontact directory import KIND FILE)")
        return
    rows = directory.list_directory(db, kind, settings)
    emit_rows(rows, output, title=f"{kind.capitalize()} directory ({len(rows):,} rows)",
              empty=f"no {kind} directory (recontact directory import {kind} FILE)")


@orders_app.command("import")
def orders_import(file: FileArg, db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table,
                  config: ConfigOpt = None) -> None:
    """Import the orders history (customer identifier, date, amount; optional order_id), replacing
    the one in the store."""
    from recontact import directory

    _emit_summary(directory.import_directory(db, "orders", file, _settings(config)), output)


@orders_app.command("list")
def orders_list(db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None) -> None:
    """The orders in the store, with the customer key each resolves to now."""
    from recontact import directory

    rows = directory.list_directory(db, "orders", _settings(config))
    emit_rows(rows, output, title=f"Orders ({len(rows):,})", empty="no orders (recontact orders import FILE)")


FromOpt = Annotated[datetime | None, typer.Option("--from", formats=["%Y-%m-%d"],
                                                  help="First local date to report (configured time zone).")]
ToOpt = Annotated[datetime | None, typer.Option("--to", formats=["%Y-%m-%d"],
                                                help="Last local date to report, included.")]
PeriodOpt = Annotated[str, typer.Option(help="week (ISO week) or month (calendar month).")]


def _period(period: str) -> Period:
    if period not in ("week", "month"):
        raise typer.BadParameter("use week or month", param_hint="--period")
    return "week" if period == "week" else "month"


def _dates(start: datetime | None, end: datetime | None) -> tuple[date | None, date | None]:
    if start and end and end < start:
        raise typer.BadParameter("--to is before --from", param_hint="--to")
    return (start.date() if start else None), (end.date() if end else None)


@app.command()
def cost(
    period: PeriodOpt = "month",
    unprofitable: Annotated[bool, typer.Option("--unprofitable", help="Only customers who cost more than they "
                                                                      "pay in the period (margin < 0).")] = False,
    n: Annotated[int | None, typer.Option("--n", min=1, max=MAX_COUNT, help="The N most expensive customers per period "
                                                              "(default: all).")] = None,
    start: FromOpt = None, end: ToOpt = None, limit: LimitOpt = DEFAULT_LIMIT,
    chart: Annotated[Path | None, typer.Option("--chart", help="Also write a Pareto chart of the most "
                                                               "expensive customers (.html, .svg or .png).")] = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Cost to serve per customer and period against their revenue: labour, telephony, per-contact
    and truck-roll costs at the configured [costs] rates (named in every output)."""
    from recontact import economics

    which = _period(period)
    lo, hi = _dates(start, end)
    rates, rows = economics.cost_to_serve(db, _settings(config), which, n=n, unprofitable=unprofitable,
                                          start=lo, end=hi)
    if chart is not None:
        _chart("cost", rows, chart)
    if output is Output.csv:
        rows = [{**r, "rates": json.dumps(r["rates"])} for r in rows]
    what = "Unprofitable customers" if unprofitable else "Cost to serve"
    emit_rows(rows, output, title=f"{what} per {period} (rates: {economics.rates_summary(rates)})",
              columns=["period", "rank", "customer_key", "contacts", "handle_s", "cost", "revenue", "margin",
                       "identifiers"] if output is Output.table else None,
              empty="no contact of an identified customer", limit=limit)
    if output is Output.table:
        rest = economics.unattributed_cost(db, _settings(config), start=lo, end=hi)
        if rest["contacts"]:
            stdout.print(f"[dim]{rest['contacts']:,} contacts of no identified customer (withheld or shared caller "
                         f"ids) cost {rest['cost']:,.2f} more at these rates: in no row[/dim]", highlight=False)


def _chart(command: str, rows: list[dict[str, Any]], path: Path) -> None:
    """Write the command's chart with the shared charts module."""
    from recontact import charts

    if command == "cost":
        save_chart(charts.cost_chart(rows), path)


@app.command()
def value(
    period: PeriodOpt = "month",
    falling: Annotated[bool, typer.Option("--falling", help="Only customers whose revenue fell while their "
                                                            "contacts rose (last period against the one before).")
                       ] = False,
    start: FromOpt = None, end: ToOpt = None, limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Customer value beside support load: orders, repeat purchases, first vs later order size,
    revenue and contacts per period; marks customers whose value falls while their contacts rise."""
    from recontact import economics

    lo, hi = _dates(start, end)
    rows = economics.customer_value(db, _settings(config), _period(period), start=lo, end=hi, falling_only=falling)
    if output is Output.csv:
        rows = [{**r, "periods": json.dumps(r["periods"])} for r in rows]
    last = f"{rows[0]['previous_period']} → {rows[0]['last_period']}" if rows else ""
    emit_rows(rows, output, title=f"Customer value per {period} ({len(rows):,} customers with orders; falling: "
                                  f"revenue down, contacts up, {last})",
              columns=["customer_key", "falling", "orders", "repeat_purchases", "first_order", "later_order_avg",
                       "revenue", "revenue_previous", "revenue_last", "contacts_previous", "contacts_last",
                       "identifiers"] if output is Output.table else None,
              empty="no orders (recontact orders import FILE)", limit=limit)


@app.command()
def managers(
    manager: Annotated[str | None, typer.Option("--manager", help="Only this manager (their employee_id).")] = None,
    tree: Annotated[bool, typer.Option("--tree", help="Every manager of the tree, each with everyone below them "
                                                      "(direct and indirect reports).")] = False,
    start: FromOpt = None, end: ToOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Each manager's reports' help-desk contacts (count, handle time, resolved or not, categories),
    with employees far above their peers marked by a robust (MAD) score. Aggregates only, unless
    [privacy] individual_employee_rows = true."""
    from recontact import managers as report

    settings = _settings(config)
    lo, hi = _dates(start, end)
    rows = report.manager_report(db, settings, manager=manager, tree=tree, start=lo, end=hi)
    if output is Output.json:
        emit_json(rows)
        return
    flat = [{**{k: v for k, v in r.items() if k not in ("employees", "method")},
             "categories": [f"{c['category'] or '(none)'}: {c['contacts']}" for c in r["categories"][:5]]}
            for r in rows]
    if output is Output.csv:
        emit_rows([{**r, "categories": json.dumps(r["categories"])} for r in flat], output)
        return
    emit_rows(flat, output, title=f"Managers' reports ({'whole tree' if tree else 'direct reports'}); outliers: "
                                  f"robust score > {settings.managers.outlier_score:g}",
              columns=["manager", "manager_name", *(["depth"] if tree else []), "reports", "contacts", "handle_s",
                       "resolved", "unresolved", "resolution_unknown", "outliers", "categories"],
              empty="no employee has a manager (recontact directory import employees FILE)")
    if rows:
        stdout.print(f"[dim]score: {rows[0]['method']}[/dim]", highlight=False)
    for r in rows:
        if "employees" in r:
            emit_rows(r["employees"], output, title=f"{r['manager']}: reports",
                      columns=["employee_id", "name", "contacts", "handle_s", "resolved", "unresolved", "score",
                               "outlier"])
    if not settings.privacy.individual_employee_rows:
        stdout.print("[dim]individual employees are not listed (\\[privacy] individual_employee_rows = false)[/dim]",
                     highlight=False)
