"""``recontact``: import contacts, flag chronic callers, list top callers — one CLI contract.

Every command takes ``--db`` (or ``$RECONTACT_DB``), ``--config`` and ``--output table|csv|json``.
Domain errors are translated here, in one place, into a message and an exit code.

Start-up is kept cheap: ``--help`` and ``--version`` must not load DuckDB, Ibis, SciPy, PyArrow,
pydantic or phonenumbers (``tests/cli/test_startup.py`` fails if they do). So this module imports
only Typer, Rich and light recontact modules at the top; each command imports ``desk``, the
settings and the importers inside its body.
"""

from __future__ import annotations

import json
import re
import sys
import time
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from recontact import __version__
from recontact.cli.output import Output, emit_json, emit_rows, save_chart, stderr, stdout
from recontact.errors import InputFileError, Interrupted, RecontactError, interrupted
from recontact.store import DB_ENV
from recontact.store import DEFAULT_DB as DEFAULT_DB_NAME
from recontact.wording import plural

if TYPE_CHECKING:
    from recontact import desk
    from recontact.config import Settings
    from recontact.metrics.callers import Period
    from recontact.store.load import ImportSummary


class _Group(TyperGroup):
    """Translates domain errors into ``error: …`` on standard error and exit code 1 — the one place."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except typer.BadParameter as e:
            e.message = _impossible_date(e.message)
            raise
        except Interrupted as e:
            stderr.print(f"[bold yellow]interrupted:[/bold yellow] {e}", highlight=False, soft_wrap=True)
            sys.exit(130)
        except RecontactError as e:
            from rich.markup import escape

            stderr.print(f"[bold red]error:[/bold red] {escape(str(e))}", highlight=False, soft_wrap=True)
            sys.exit(1)
        except UnicodeDecodeError as e:  # a file given as text (a profile, a config) that is not UTF-8
            _one_line_error(f"a file given is not UTF-8 text ({e.reason} at byte {e.start}); "
                            "is it the right file?")
        except (KeyboardInterrupt, RuntimeError) as e:
            if not interrupted(e):
                raise
            stderr.print("[bold yellow]interrupted[/bold yellow] (Ctrl-C): the command stopped before it finished; "
                         "a change it was making was rolled back", highlight=False, soft_wrap=True)
            sys.exit(130)
        except Exception as e:
            if type(e).__name__ != "OperationalError" or not type(e).__module__.startswith("sqlalchemy"):
                raise
            # the cases store could not be opened or written (a read-only or missing folder)
            _one_line_error(f"the cases store beside the store could not be written: {getattr(e, 'orig', e)}")


def _one_line_error(message: str) -> NoReturn:
    from rich.markup import escape

    stderr.print(f"[bold red]error:[/bold red] {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(1)


_DATE_VALUE = re.compile(r"'(\d{4}-\d{1,2}-\d{1,2})' does not match the formats? '%Y-%m-%d'")


def _impossible_date(message: str) -> str:
    """Click's "does not match the format" for a date written right but impossible (1999-02-30)
    said as what it is: the date does not exist, and why."""
    found = _DATE_VALUE.search(message)
    if not found:
        return message
    year, month, day = (int(x) for x in found.group(1).split("-"))
    try:
        date(year, month, day)
    except ValueError as why:
        return f"{found.group(1)!r} is not a date: {why}"
    return message


app = typer.Typer(
    cls=_Group, name="recontact", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    help="Find the customers stuck in a support loop: who calls again and again, and since when.",
)

#: the largest count an option takes (rows, callers, ids): beyond it is a typo, not a request
MAX_COUNT = 1_000_000_000


def _a_file(value: Path | None, option: str) -> Path | None:
    """``value`` when it can name a file (not empty, not a directory), else a usage error."""
    if value is not None and (not str(value).strip() or value.is_dir()):
        raise typer.BadParameter(f"{str(value)!r} is {'a folder' if str(value).strip() else 'empty'}: "
                                 f"give {option} a file name")
    return value


def _db_file(value: Path) -> Path:
    return _a_file(value, "--db") or value


def _config_file(value: Path | None) -> Path | None:
    return _a_file(value, "--config")


DbOpt = Annotated[Path, typer.Option("--db", envvar=DB_ENV, callback=_db_file, help="Store file (DuckDB).")]
DEFAULT_DB = Path(DEFAULT_DB_NAME)
OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table, csv or json.")]
LimitOpt = Annotated[int, typer.Option("--limit", min=0, max=MAX_COUNT,
                                               help="Table: the newest N rows (0: all). CSV and JSON "
                                                            "always give every row.")]
DEFAULT_LIMIT = 50
ConfigOpt = Annotated[Path | None, typer.Option("--config", callback=_config_file,
                                                                  help="Settings TOML (default: $RECONTACT_CONFIG "
                                                                  "or ./recontact.toml).")]


#: Values of ``--source``, for its help text without importing the importers (a test checks
#: that this equals ``recontact.importers.FORMATS``).
SOURCE_NAMES = ("asterisk", "twilio", "freeswitch", "zendesk", "freshdesk", "servicenow", "jsonl", "csv")


def _settings(config: Path | None) -> Settings:
    from recontact.config import load_settings

    return load_settings(config)


def _version(value: bool) -> None:
    if value:
        stdout.print(f"recontact {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Print the version and exit.")] = False) -> None:
    """Find the customers stuck in a support loop."""


def _parse_map(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        src, sep, field = item.rpartition("=")
        if not sep or not src.strip() or not field.strip():
            raise InputFileError(f"--map {item!r}: write it as \"SOURCE COLUMN=field\", e.g. \"Caller ID=phone\"")
        out[src.strip()] = field.strip()
    return out


@app.command("import")
def import_cmd(
    files: Annotated[list[Path], typer.Argument(help="Export file(s) to import.", show_default=False)],
    source: Annotated[str | None, typer.Option("--source", help=f"Format: {', '.join(SOURCE_NAMES)} "
                                                                "(guessed when absent).")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="Zone of timestamps written without an offset "
                                                        "(default: the configured timezone).")] = None,
    column_map: Annotated[list[str] | None, typer.Option("--map", help="Map a column: \"Caller ID=phone\". "
                                                                      "Repeatable.")] = None,
    encoding: Annotated[str | None, typer.Option(help="utf-8, latin-1, cp1252 or utf-16 (default: "
                                                      "detected).")] = None,
    delimiter: Annotated[str | None, typer.Option(
        help="Field separator, one character (default: detected).")] = None,
    time_format: Annotated[str | None, typer.Option(help="strptime layout of non-ISO times, e.g. "
                                                         "'%d/%m/%Y %H:%M'.")] = None,
    rejects: Annotated[Path | None, typer.Option(help="Where to write rejected rows (default: "
                                                      "FILE.rejects.csv beside the store).")] = None,
    system: Annotated[str | None, typer.Option("--system", help="The system the file comes from; contact ids "
                                                                "are unique within one (default: the format "
                                                                "name).")] = None,
    events: Annotated[str | None, typer.Option("--events", help="Event log: rows sharing this column's value "
                                                                "are one contact, at the earliest time, the "
                                                                "latest row's fields winning.")] = None,
    events_order: Annotated[list[str] | None, typer.Option("--events-order", help="Column ordering a "
                                                                                   "contact's rows for --events "
                                                                                   "(repeatable; default: "
                                                                                   "file order).")] = None,
    profile: Annotated[str | None, typer.Option("--profile", help="Mapping profile: a shipped or saved name, "
                                                                  "or a TOML file (see docs/importing.md).")] = None,
    save_profile: Annotated[str | None, typer.Option("--save-profile", help="Save how this file was read as "
                                                                            "a profile NAME.")] = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Import contacts from an export. Atomic and idempotent: a file imported twice adds nothing.

    Exits non-zero only when nothing valid could be read; rejected rows are listed with their line
    and reason, in full in a rejects CSV."""
    from recontact import desk
    from recontact.config import check_timezone
    from recontact.importers import profiles
    from recontact.importers.base import ImportOptions

    settings = _settings(config)
    options = ImportOptions(
        tz=tz or settings.timezone, region=settings.default_region, column_map=_parse_map(column_map or []),
        encoding=encoding, delimiter=delimiter, time_format=time_format, events=events,
        events_order=tuple(events_order or ()),
    )
    if events_order and not events:
        raise typer.BadParameter("needs --events ID_COLUMN", param_hint="--events-order")
    if delimiter is not None and delimiter not in ("\\t", "tab") and len(delimiter) != 1:
        raise typer.BadParameter(f"{delimiter!r} is not one character (e.g. ',', ';', '|' or '\\t')",
                                 param_hint="--delimiter")
    given = frozenset(k for k, v in {"tz": tz, "encoding": encoding, "delimiter": delimiter, "events": events,
                                     "time_format": time_format, "events_order": events_order}.items() if v)
    options, source, system, desk_tz = profiles.with_profile(profile, options, given, source, system)
    if tz:
        try:
            check_timezone(tz)
        except ValueError as e:
            raise typer.BadParameter(str(e), param_hint="--tz") from None
    results = []
    for path in files:
        request = desk.ImportRequest(path=path, source=source, options=options, system=system,
                                     rejects_path=rejects if len(files) == 1 else None, desk_timezone=desk_tz)
        results.append(_import_one(db, request, settings, output))
    if save_profile:
        saved = profiles.save(save_profile, profiles.from_options(options, results[0].source, system))
        stderr.print(f"profile {save_profile} saved: {saved} (use it with --profile {save_profile})", highlight=False)
    if output is Output.json:
        emit_json(_import_json(results[0]) if len(results) == 1 else [_import_json(r) for r in results])
    elif output is Output.csv:
        emit_rows([_import_json(r) for r in results], output)
    else:
        stdout.print(f"[dim]next: recontact flags --db {db}   ·   recontact top --period week --db {db}[/dim]")


def _import_one(db: Path, request: desk.ImportRequest, settings: Settings, output: Output) -> ImportSummary:
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from recontact import desk

    started = time.perf_counter()
    with Progress(TextColumn("[bold]{task.fields[step]}[/bold] {task.description}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  console=stderr.console, transient=True, disable=not stderr.is_terminal) as bar:
        task = bar.add_task(request.path.name, total=100, step="importing")
        summary = desk.import_contacts(db, request, settings,
                                       progress=lambda pct: bar.update(task, completed=pct),
                                       phase=lambda step: bar.update(task, step=step, refresh=True))
    if output is Output.table:
        _print_summary(summary, time.perf_counter() - started)
    return summary


def _import_json(s: ImportSummary) -> dict[str, Any]:
    return {"file": s.file, "source": s.source, "read": s.read, "imported": s.imported,
            "duplicates": s.duplicates, "rejected": s.rejected, "unidentified": s.unidentified,
            "withheld": s.withheld, "shared": s.shared, "rejects_file": s.rejects_file, "notes": s.notes,
            "import_id": s.import_id, "system": s.system, "conflicts": s.conflicts, "skipped": s.skipped,
            "folded": s.folded,
            "replaced": s.replaced, "already_imported": s.already_imported, "sha256": s.sha256,
            "invalid_phones": s.invalid_phones, "placeholders": s.placeholders,
            "withheld_identified": s.withheld_identified, "no_identifier": s.no_identifier}


def _print_summary(s: ImportSummary, seconds: float) -> None:
    which = f"import {s.import_id}" if s.import_id else f"already import {s.already_imported}"
    replaced = f", replacing import {s.replaced}" if s.replaced else ""
    stdout.print(f"[bold]{s.file}[/bold] ({s.source}, system {s.system}, {which}{replaced}): "
                 f"read {plural(s.read, 'row')} in {seconds:.1f} s — [green]{s.imported:,} imported[/green], "
                 f"{plural(s.duplicates, 'duplicate')}, "
                 f"[{'red' if s.conflicts else 'dim'}]{plural(s.conflicts, 'conflict')}[/], "
                 f"[{'red' if s.rejected else 'dim'}]{s.rejected:,} rejected[/]"
                 + (f", {s.skipped:,} skipped" if s.skipped else "")
                 + (f", {s.folded:,} folded into their tickets' contacts" if s.folded else ""), highlight=False)
    if s.unidentified or s.withheld or s.shared or s.invalid_phones or s.placeholders:
        verb = "identifies" if s.unidentified == 1 else "identify"
        bare = (f": {s.no_identifier:,} of them carr{'ies' if s.no_identifier == 1 else 'y'} no identifier at all "
                "(no phone, extension, e-mail, account or employee id)" if s.no_identifier else "")
        stdout.print(f"  {plural(s.unidentified, 'contact')} {verb} no one (counted, never a customer){bare}",
                     highlight=False)
        stdout.print(f"  {_identity_counts(s)}", highlight=False)
    for note in s.notes:
        stdout.print(f"  [dim]note: {note}[/dim]", highlight=False)
    shown = sorted([*s.rejects, *s.conflicted], key=lambda r: r.line or 0)
    for r in shown[:10]:
        stdout.print(f"  [red]{r.where()}[/red]: {r.reason}", highlight=False)
    if s.rejects_file:
        more = f" ({len(shown) - 10:,} more)" if len(shown) > 10 else ""
        stdout.print(f"  every rejected or conflicting row{more}: {s.rejects_file}", highlight=False)


def _identity_counts(s: ImportSummary) -> str:
    """The imported contacts' identifiers that identify no one, each counted on its own. These
    counts are not subsets of ``unidentified``: a contact with a withheld caller id may still be
    identified by its account or e-mail, and the line says how many were."""
    withheld = plural(s.withheld, "withheld caller id")
    if s.withheld:
        still = {0: "none", s.withheld: "all"}.get(s.withheld_identified, f"{s.withheld_identified:,} of them")
        withheld += f" ({still} still identified by another id)"
    return (f"{withheld}, {plural(s.invalid_phones, 'invalid phone number')}, "
            f"{plural(s.placeholders, 'contact')} with a placeholder in another id column, "
            f"{plural(s.shared, 'contact')} on a deny-listed or shared (hub) identifier")


@app.command()
def flags(
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Only this rule (repeatable).")] = None,
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Only flags crossed on or after "
                                                   "this date (configured time zone).")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only flags still open at the latest contact.")] = False,
    limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Chronic-caller flags: which rule, at which contact, when, how many, and when the flag closed."""
    from recontact import desk

    settings = _settings(config)
    chosen = desk.select_rules(settings, rule or [])
    rows = desk.iter_flags(db, settings, rules=[r.name for r in chosen], since=since.date() if since else None,
                           open_only=open_only)
    names = ", ".join(r.name for r in chosen)
    emit_rows(rows, output, title=lambda n: f"Chronic callers ({n:,} {'open ' if open_only else ''}flags; "
                                            f"rules: {names})",
              columns=["crossed_at", "rule", "count", "customer_key", "identifiers", "category", "contact_id",
                       "closed_at"],
              empty="no open flag" if open_only else "no customer crossed a rule", limit=limit,
              newest_first="crossed_at")


@app.command()
def top(
    period: Annotated[str, typer.Option(help="week (ISO week) or month (calendar month).")] = "week",
    n: Annotated[int, typer.Option("--n", min=1, max=MAX_COUNT, help="How many callers per period.")] = 5,
    limit: LimitOpt = DEFAULT_LIMIT,
    chart: Annotated[Path | None, typer.Option("--chart", help="Also write a chart: FILE.html, .svg or "
                                                               ".png.")] = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Top callers per ISO week or calendar month by inbound contacts (ties: handle time, then key)."""
    if period not in ("week", "month"):
        raise typer.BadParameter("use week or month", param_hint="--period")
    from recontact import desk

    settings = _settings(config)
    which: Period = "week" if period == "week" else "month"
    rows = desk.top_callers(db, settings, which, n)
    if chart is not None:
        from recontact import charts

        save_chart(charts.top_chart(rows, period), chart)
    emit_rows(rows, output, title=f"Top {n} callers per {period} ({desk.report_timezone(db, settings)})",
              columns=["period", "rank", "customer_key", "contacts", "handle_s", "identifiers"],
              limit=limit, newest_first="period")


@app.command()
def customer(
    query: Annotated[str, typer.Argument(help="Customer key (C12), phone number, e-mail, account or "
                                              "employee id.", show_default=False)],
    limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """One customer's identifiers, contacts in time order, and flags."""
    from recontact import desk

    settings = _settings(config)
    data = desk.customer_timeline(db, settings, query)
    if "merged_into" in data:
        stderr.print(f"{data['requested_key']} is now {data['merged_into']} (merged)", highlight=False)
    if output is Output.json:
        emit_json(data)
        return
    if output is Output.table:
        stdout.print(f"[bold]{data['customer_key']}[/bold]  {'  '.join(data['identifiers'])}", highlight=False)
        for f in data["flags"]:
            until = f"closed {f['closed_at']:%Y-%m-%d %H:%M}" if f["closed_at"] else "[red]open[/red]"
            about = f" {f['category']}" if f["category"] else ""
            stdout.print(f"  [red]flag[/red] {f['rule']}{about} at {f['crossed_at']:%Y-%m-%d %H:%M} "
                         f"({f['count']} contacts), {until}", highlight=False)
    emit_rows(data["contacts"], output, title=lambda n: plural(n, "contact"),
              columns=["started_at", "channel", "direction", "category", "agent_id", "resolved", "contact_id"],
              limit=limit, newest_first="started_at")


@app.command()
def identities(
    shared: Annotated[bool, typer.Option("--shared", help="Only identifiers that identify no one: hubs, "
                                                          "deny-listed, placeholders, invalid.")] = False,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Who is who: people, identifiers by kind, hubs, deny-listed identifiers and placeholders."""
    from recontact import desk

    settings = _settings(config)
    data = desk.identities(db, settings, shared_only=shared)
    if output is Output.json:
        emit_json(data)
        return
    if not shared and output is Output.table:
        stdout.print(f"[bold]{data['people']:,} people[/bold]; {data['unidentified_contacts']:,} contacts identify "
                     f"no one; hubs join more than {data['max_links']} people", highlight=False)
        emit_rows(data["identifiers"], output, title="Identifiers by kind")
    rows = [{"identifier": r["identifier"], "why": why, "people": r.get("people"), "contacts": r["contacts"]}
            for why, key in (("hub", "hubs"), ("deny-listed", "deny_listed"), ("placeholder", "placeholders"),
                             ("invalid e-mail", "invalid_emails"))
            for r in data[key]]
    emit_rows(rows, output, title="Identifiers that identify no one", empty="no shared or placeholder identifier")
    invalid = data["invalid_phones"]
    if output is Output.table and invalid["contacts"]:
        stdout.print(f"{invalid['contacts']:,} contacts with an invalid phone number ({invalid['distinct']:,} "
                     "distinct)", highlight=False)


@app.command()
def rules(output: OutputOpt = Output.table, config: ConfigOpt = None) -> None:
    """The chronic-caller rules in force and where they come from."""
    from recontact.config import find_config

    settings = _settings(config)
    rows = [{"name": r.name, "rule": r.summary(), "description": r.description} for r in settings.rules]
    emit_rows(rows, output, title=f"Rules from {find_config(config) or 'built-in defaults'}")


imports_app = typer.Typer(cls=_Group, invoke_without_command=True, rich_markup_mode=None, no_args_is_help=False,
                          help="The import ledger: every import with its file, options and counts.")
app.add_typer(imports_app, name="imports")


@imports_app.callback()
def imports(ctx: typer.Context, db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table,
            config: ConfigOpt = None) -> None:
    """The import ledger: id, file, size, SHA-256, system, format, options, counts, when.
    `recontact imports remove ID` takes one import back out."""
    if ctx.invoked_subcommand is not None:
        return
    from recontact import desk

    rows = desk.list_imports(db, _settings(config))
    if output is Output.json:
        emit_json(rows)
        return
    flat = [{**r, "options": json.dumps(r["options"], ensure_ascii=False)} for r in rows]
    if output is Output.table:
        # The table names the file only (CSV and JSON keep the whole path) so that it fits a terminal.
        flat = [{**r, "file": Path(r["file"]).name, "sha256": (r["sha256"] or "")[:12]} for r in flat]
    emit_rows(flat, output, title=f"Imports ({len(rows)})", empty="nothing imported yet",
              columns=None if output is Output.csv else ["import_id", "imported_at", "file", "system", "format",
                                                         "read", "imported", "duplicates", "conflicts", "rejected",
                                                         "sha256"])


@imports_app.command("remove")
def imports_remove(
    import_id: Annotated[int, typer.Argument(help="The import's id (see recontact imports).", show_default=False)],
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Remove one import: exactly the contacts it added; customers it joined come apart again."""
    from recontact import desk

    row = desk.remove_import(db, _settings(config), import_id)
    if output is Output.json:
        emit_json({"removed": row})
    elif output is Output.csv:
        emit_rows([{**row, "options": json.dumps(row["options"])}], output)
    else:
        stdout.print(f"removed import {row['import_id']} ({row['file']}, system {row['system']}): "
                     f"{plural(row['imported'], 'contact')}", highlight=False)


@app.command()
def formats(output: OutputOpt = Output.table) -> None:
    """The import formats recontact reads (values for --source)."""
    from recontact import importers

    emit_rows([{"source": name, "description": m.DESCRIPTION} for name, m in importers.formats().items()],
              output, title="Import formats")


# Commands registered by other modules: generate and demo; fcr, repeat-drivers, kpis, feedback;
# directory, orders, cost, value, managers; cases …; worker and notifications.
from recontact.cli import cases, cost_commands, notify, sample_commands, scorecard_commands  # noqa: E402,F401


def _command_name(info: Any) -> str:
    """A registered command's or group's name as Typer derives it (``repeat_drivers`` -> ``repeat-drivers``)."""
    if info.name:
        return str(info.name)
    callback = info.callback or getattr(info.typer_instance, "registered_callback", None)
    return str(callback.__name__).lower().replace("_", "-") if callback else ""


def only_command(typer_app: typer.Typer, name: str | None) -> None:
    """Keep only the command or group ``name`` of ``typer_app`` when it has one of that name.

    Typer builds every command (their parameters, from their signatures) before it runs one: about
    0.1 s for ours, which a point query such as ``recontact customer X`` should not pay. Help and
    unknown names keep the whole app, so the list of commands and "no such command" stay right."""
    if not name or name.startswith("-"):
        return
    commands = [c for c in typer_app.registered_commands if _command_name(c) == name]
    groups = [g for g in typer_app.registered_groups if _command_name(g) == name]
    if commands or groups:
        typer_app.registered_commands, typer_app.registered_groups = commands, groups


def main() -> None:
    only_command(app, sys.argv[1] if len(sys.argv) > 1 else None)
    app()
