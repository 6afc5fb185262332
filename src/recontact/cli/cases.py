"""``recontact cases …``: the case worklist (list, show, transition, assign, escalate, note,
outreach, sync, open-top, audit, users, migrate). Thin wrappers around ``recontact.cases.service``;
SQLAlchemy and the stores are imported inside the command bodies (``--help`` stays cheap).

Who acts: ``--as USER`` (default ``$RECONTACT_USER``, else the login name) is recorded on every
change and in the audit log.
"""

from __future__ import annotations

import getpass
import os
from datetime import datetime
from typing import Annotated, Any

import typer

from recontact.cli.main import DEFAULT_DB, MAX_COUNT, ConfigOpt, DbOpt, LimitOpt, OutputOpt, _Group, _settings, app
from recontact.cli.output import Output, emit_json, emit_rows, stdout
from recontact.wording import plural

USER_ENV = "RECONTACT_USER"

cases_app = typer.Typer(cls=_Group, no_args_is_help=True, rich_markup_mode=None,
                        help="Cases: the work on each flag, from new to closed (docs/cases.md).")
users_app = typer.Typer(cls=_Group, no_args_is_help=True, rich_markup_mode=None,
                        help="Users who own, work or watch cases.")
cases_app.add_typer(users_app, name="users")
app.add_typer(cases_app, name="cases")

ActorOpt = Annotated[str | None, typer.Option("--as", envvar=USER_ENV, help="Who does this (default: "
                                                                              "$RECONTACT_USER, else your login).")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why (kept in the case's history).")]
CaseArg = Annotated[int, typer.Argument(help="The case id (see recontact cases list).", show_default=False)]
LIST_COLUMNS = ["case_id", "opened_at", "state", "owner", "due_at", "priority", "customer_key", "rule", "category",
                "flags", "identifiers"]


def _actor(value: str | None) -> str:
    if value:
        return value
    try:
        return getpass.getuser()
    except Exception:  # no login name (a container without a passwd entry)
        return os.environ.get("USER") or "unknown"


def _emit_case(row: dict[str, Any], output: Output, message: str) -> None:
    if output is Output.json:
        emit_json(row)
    elif output is Output.csv:
        emit_rows([row], output)
    else:
        stdout.print(message, highlight=False)


@cases_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option("--state", help="new, contacted, in_progress, resolved, closed, "
                                                              "or open (any but closed).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Owned by this user ('none': unassigned).")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only cases past their due date.")] = False,
    limit: LimitOpt = 50,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Cases, oldest opening first: customer, rule, when the flag crossed, state, owner, due date."""
    from recontact.cases import service

    settings = _settings(config)
    rows = service.list_cases(db, settings, state=state, owner=owner, overdue=overdue)
    emit_rows(rows, output, title=lambda n: plural(n, "case"), columns=LIST_COLUMNS, empty="no case",
              limit=limit, newest_first="opened_at")
    pending = service.pending_imports(db, settings) if output is Output.table else []
    if pending:
        stdout.print(f"[yellow]note:[/yellow] the cases of {plural(len(pending), 'import')} "
                     f"({', '.join(map(str, pending))}) are not open yet (stopped before they were): the next "
                     "import, recontact cases sync or recontact worker opens them", highlight=False)


@cases_app.command("show")
def show_cmd(case_id: CaseArg, limit: LimitOpt = 50,
             db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None) -> None:
    """One case and its timeline: the customer's contacts and flags, transitions, notes, outreach."""
    from recontact.cases import service

    data = service.show_case(db, _settings(config), case_id)
    if output is Output.json:
        emit_json(data)
        return
    if output is Output.table:
        owner = data["owner"] or "unassigned"
        due = f", due {data['due_at']:%Y-%m-%d %H:%M}" if data["due_at"] else ""
        stdout.print(f"[bold]case {data['case_id']}[/bold] {data['state']} · {owner}{due} · {data['rule']}"
                     f"{' ' + data['category'] if data['category'] else ''} · {data['customer_key']} "
                     f"{' '.join(data['identifiers'])}", highlight=False)
        if data["escalated_to"]:
            stdout.print(f"  escalated to {data['escalated_to']} {data['escalated_user'] or ''}", highlight=False)
    emit_rows(data["timeline"], output, title=lambda n: f"timeline ({n:,} items)", columns=["at", "what", "text"],
              limit=limit, newest_first="at")


@cases_app.command("transition")
def transition_cmd(
    case_id: CaseArg,
    state: Annotated[str, typer.Argument(help="contacted, in_progress, resolved, closed (in_progress from "
                                              "resolved/closed reopens).", show_default=False)],
    code: Annotated[str | None, typer.Option("--code", help="Resolution code (resolving or closing).")] = None,
    reason: ReasonOpt = None, actor: ActorOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Move a case to another state; illegal moves are refused with the allowed ones."""
    from recontact.cases import service

    row = service.transition_case(db, _settings(config), case_id, state, actor=_actor(actor), reason=reason,
                                  resolution_code=code)
    _emit_case(row, output, f"case {case_id}: {row['state']}"
                            f"{' (' + row['resolution_code'] + ')' if row['resolution_code'] else ''}")


@cases_app.command("assign")
def assign_cmd(
    case_id: CaseArg,
    user: Annotated[str, typer.Argument(help="The new owner ('none' to unassign).", show_default=False)],
    reason: ReasonOpt = None, actor: ActorOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Give a case to another owner (the old one stays in the history)."""
    from recontact.cases import service

    row = service.assign_case(db, _settings(config), case_id, None if user.lower() == "none" else user,
                              actor=_actor(actor), reason=reason)
    _emit_case(row, output, f"case {case_id}: owner {row['owner'] or 'none'}")


@cases_app.command("escalate")
def escalate_cmd(
    case_id: CaseArg,
    to: Annotated[str, typer.Argument(help="senior (technical) or manager (non-technical decisions such as "
                                           "replacing equipment).", show_default=False)],
    user: Annotated[str | None, typer.Option("--user", help="Who exactly (a user).")] = None,
    reason: ReasonOpt = None, actor: ActorOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Escalate a case to a senior technical resource or to a manager."""
    from recontact.cases import service

    row = service.escalate_case(db, _settings(config), case_id, to, actor=_actor(actor), user=user, reason=reason)
    _emit_case(row, output, f"case {case_id}: escalated to {row['escalated_to']}")


@cases_app.command("note")
def note_cmd(
    case_id: CaseArg,
    text: Annotated[str, typer.Argument(help="The note.", show_default=False)],
    actor: ActorOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Add a note to a case."""
    from recontact.cases import service

    row = service.note_case(db, _settings(config), case_id, text, actor=_actor(actor))
    _emit_case(row, output, f"case {case_id}: note added")


@cases_app.command("outreach")
def outreach_cmd(
    case_id: CaseArg,
    channel: Annotated[str, typer.Argument(help="phone, email, sms, chat, visit, letter.", show_default=False)],
    outcome: Annotated[str, typer.Argument(help="reached, no_answer, voicemail, busy, wrong_number, "
                                                "callback_scheduled, sent, bounced, declined.", show_default=False)],
    detail: Annotated[str | None, typer.Option("--detail", help="What was said or agreed.")] = None,
    actor: ActorOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Log one attempt to reach the customer and its outcome."""
    from recontact.cases import service

    row = service.outreach_case(db, _settings(config), case_id, channel, outcome, actor=_actor(actor),
                                detail=detail)
    _emit_case(row, output, f"case {case_id}: {channel} {outcome} logged")


@cases_app.command("audit")
def audit_cmd(case_id: CaseArg, db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table,
              config: ConfigOpt = None) -> None:
    """The audit trail of a case: who changed what, when, before and after."""
    from recontact.cases import service

    rows = service.audit_trail(db, _settings(config), case_id)
    if output is Output.json:
        emit_json(rows)
        return
    import json

    flat = [{**r, "before": json.dumps(r["before"]) if r["before"] else "",
             "after": json.dumps(r["after"]) if r["after"] else ""} for r in rows]
    emit_rows(flat, output, title=f"audit trail of case {case_id}")


@cases_app.command("sync")
def sync_cmd(
    since: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Also open cases for episodes that "
                                                   "crossed on or after this day, though older than [cases] "
                                                   "open_within (their notices are held unless --notify).")] = None,
    notify: Annotated[bool, typer.Option("--notify", help="Send the notices of cases --since opens.")] = False,
    actor: Annotated[str | None, typer.Option("--as", help="Also route every open case without an owner, "
                                                           "recorded as done by this user.")] = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Open cases for every customer's flag episodes not yet on a case (a store filled before cases
    existed, or after the rules changed; an import stopped before its cases were open): episodes
    still open or crossed within [cases] open_within of the latest contact. Running it twice opens
    nothing more."""
    from recontact.cases import service

    done = service.sync_cases(db, _settings(config), since=since.date() if since else None, notify=notify,
                              actor=actor)
    if output is Output.table:
        held = f", notices of {plural(done['held'], 'case')} held (--notify sends them)" if done["held"] else ""
        history = (f", {plural(done['history'], 'older episode')} kept as history (--since DAY opens them)"
                   if done["history"] else "")
        closed = (f", {plural(done['closed'], 'case')} of customers with no contact left closed"
                  if done["closed"] else "")
        stdout.print(f"cases: {done['opened']:,} opened, {plural(done['attached'], 'flag episode')} attached to open "
                     f"cases, {plural(done['merged'], 'duplicate')} closed after merges "
                     f"({plural(done['episodes'], 'episode')}){held}{history}{closed}"
                     + (f", {plural(done['routed'], 'unowned case')} routed" if "routed" in done else ""),
                     highlight=False)
    else:
        _emit_case(done, output, "")


@cases_app.command("route")
def route_cmd(actor: ActorOpt = None, db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table,
              config: ConfigOpt = None) -> None:
    """Route every open case without an owner by [routing] (cases opened before any user existed,
    or while the pool was full)."""
    from recontact.cases import service

    done = service.route_cases(db, _settings(config), actor=_actor(actor))
    _emit_case(done, output, f"{plural(done['routed'], 'case')} routed, {done['unrouted']:,} still without an owner")


@cases_app.command("open-top")
def open_top_cmd(
    period: Annotated[str, typer.Option(help="week (ISO week) or month (calendar month).")] = "week",
    n: Annotated[int, typer.Option("--n", min=1, max=MAX_COUNT, help="How many top callers.")] = 5,
    on: Annotated[datetime | None, typer.Option(formats=["%Y-%m-%d"], help="A day in the period (default: the "
                                                                           "latest contact's).")] = None,
    actor: ActorOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Open cases for the period's top N callers not already in an open case."""
    from recontact.cases import service

    data = service.open_top(db, _settings(config), period, n, on=on.date() if on else None, actor=_actor(actor))
    if output is Output.json:
        emit_json(data)
        return
    rows = [{**r, "opened": True} for r in data["opened"]] + [{**r, "opened": False} for r in data["skipped"]]
    emit_rows(rows, output, title=f"Top {n} callers of {data['period']}: {len(data['opened'])} cases opened",
              columns=["rank", "customer_key", "opened", "case_id", "owner", "why"] if output is Output.table else None)


@cases_app.command("migrate")
def migrate_cmd(db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table) -> None:
    """Upgrade the cases store's schema to the newest revision (every command does it on first use)."""
    from recontact.cases import db as cases_db
    from recontact.cases import migrations

    url = cases_db.database_url(db)
    engine = cases_db.open_engine(db, upgrade=False)
    before, after = migrations.upgrade(engine)
    data = {"database": cases_db.describe(url), "from": before, "to": after}
    _emit_case(data, output, f"{data['database']}: {before or 'empty'} -> {after}")


@users_app.command("list")
def users_list(db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table) -> None:
    """Every user: role, agent id, supervisor, liaison pool membership and capacity."""
    from recontact.cases import service

    emit_rows(service.list_users(db), output, title="Users", empty="no user yet (recontact cases users add NAME)")


def _user_cmd(create: bool) -> Any:
    def command(
        username: Annotated[str, typer.Argument(help="Login name.", show_default=False)],
        name: Annotated[str | None, typer.Option(help="Full name.")] = None,
        email: Annotated[str | None, typer.Option(help="E-mail (notifications).")] = None,
        role: Annotated[str | None, typer.Option(help="admin, supervisor, liaison, manager, senior, viewer, "
                                                      "agent (default for a new user: liaison).")] = None,
        agent_id: Annotated[str | None, typer.Option("--agent-id", help="Their agent id on contacts "
                                                                        "(routing to the last agent).")] = None,
        supervisor: Annotated[str | None, typer.Option(help="Their supervisor (a user).")] = None,
        pool: Annotated[bool | None, typer.Option("--pool/--no-pool", help="In the liaison pool.")] = None,
        capacity: Annotated[int | None, typer.Option(min=0, max=MAX_COUNT,
                                                      help="Most open cases at once (pool).")] = None,
        active: Annotated[bool | None, typer.Option("--active/--inactive", help="Can be given cases.")] = None,
        actor: ActorOpt = None,
        db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table,
    ) -> None:
        from recontact.cases import service

        row = service.save_user(db, username, actor=_actor(actor), create=create, name=name, email=email, role=role,
                                agent_id=agent_id, supervisor=supervisor, in_pool=pool, capacity=capacity,
                                active=active)
        _emit_case(row, output, f"user {row['username']} ({row['role']}{', pool' if row['in_pool'] else ''})")

    command.__doc__ = "Add a user." if create else "Change a user (only the options given)."
    return command


users_app.command("add")(_user_cmd(create=True))
users_app.command("set")(_user_cmd(create=False))
