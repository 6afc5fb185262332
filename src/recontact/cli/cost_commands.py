"""``recontact directory``, ``orders``, ``cost``, ``value`` and ``managers``: what a desk's
contacts cost, what its customers are worth, and managers' reports — thin wrappers over
``recontact.directory`` and ``recontact.economics``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from recontact.cli.main import DEFAULT_DB, ConfigOpt, DbOpt, OutputOpt, _Group, _settings, app
from recontact.cli.output import Output, emit_json, emit_rows, stdout

if TYPE_CHECKING:
    from recontact.directory import DirectorySummary

directory_app = typer.Typer(cls=_Group, no_args_is_help=True,
                            help="Customer, agent and employee directories: import one, list one.")
app.add_typer(directory_app, name="directory")
orders_app = typer.Typer(cls=_Group, no_args_is_help=True, help="The orders history: import it, list it.")
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
