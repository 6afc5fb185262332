"""``recontact worker`` and ``recontact notifications list|retry``: the outbox's interfaces.

Thin: each command opens the operational store and calls one function of ``recontact.notify``.
SQLAlchemy, httpx and Jinja2 load inside the command bodies (``--help`` stays cheap).
"""

from __future__ import annotations

import signal
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from recontact.cli.cases import ActorOpt, _actor
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
from recontact.cli.output import Output, emit_json, emit_rows, stderr, stdout

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy import Engine

notifications_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None,
                                help="The outbox: list notifications, retry dead ones.")
app.add_typer(notifications_app, name="notifications")


def _engine(db: Path) -> Engine:
    from recontact.cases.db import open_engine

    return open_engine(db)


@app.command()
def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due now (each notification tried at most "
                                                      "once), then exit: for cron.")] = False,
    poll: Annotated[float, typer.Option("--poll", min=0.05, max=86_400.0,
                                        help="Seconds between looks at an empty queue.")] = 2.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No line per delivery on standard error.")] = False,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Deliver queued notifications (e-mail, webhooks, SMS/call tasks) with retries and backoff.

    Runs until stopped (SIGTERM or Ctrl-C finish the delivery in hand, then exit), or with --once
    until nothing due is left. Any number of workers may run at once: none sends what another is
    sending."""
    import threading

    from recontact.notify import worker as outbox_worker

    settings = _settings(config)
    engine = _engine(db)
    _finish_pending_cases(db, settings)
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _stop)

    def log(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = outbox_worker.run(engine, settings, once=once, poll=timedelta(seconds=poll), stop=stop,
                               log=None if quiet else log)
    if output is Output.json:
        emit_json(report.as_dict())
    elif output is Output.csv:
        emit_rows([report.as_dict()], output)
    else:
        stdout.print(f"worker {report.worker}: {report.delivered} delivered, {report.retried} to retry, "
                     f"{report.dead} dead-lettered" + (f", {report.lost} leases lost" if report.lost else "")
                     + _waiting(report), highlight=False)


def _waiting(report: Any) -> str:
    """``; 3 waiting for a later attempt, the next due at … UTC (in 25 s)`` (``worker --once``)."""
    if not report.waiting or report.next_due is None:
        return ""
    from datetime import UTC, datetime

    seconds = max(0, round((report.next_due - datetime.now(UTC)).total_seconds()))
    return (f"; {report.waiting} waiting for a later attempt (backoff), the next due at "
            f"{report.next_due:%Y-%m-%d %H:%M:%S} UTC (in {seconds} s)")


def _finish_pending_cases(db: Path, settings: Any) -> None:
    """Before delivering: open the cases of an import stopped before they were (their notices then
    go out in this run)."""
    from recontact.cases.service import finish_pending_cases

    try:
        done = finish_pending_cases(db, settings)
    except Exception as e:  # the notices already queued still go out
        first = (str(e).splitlines() or [type(e).__name__])[0]
        print(f"note: the cases of a stopped import are not open yet ({first})", file=sys.stderr, flush=True)
        return
    if done is not None:
        print(f"cases of a stopped import: {done.opened:,} opened", file=sys.stderr, flush=True)


@notifications_app.command("list")
def list_cmd(
    dead: Annotated[bool, typer.Option("--dead", help="Only dead-lettered notifications.")] = False,
    state: Annotated[list[str] | None, typer.Option("--state", help="pending, sending, delivered or dead "
                                                                    "(repeatable).")] = None,
    case: Annotated[int | None, typer.Option("--case", min=1, max=MAX_COUNT,
                                             help="Only this case's notifications.")] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Notifications in the outbox, oldest first (table: the newest --limit); --dead for the
    dead letters an admin should look at."""
    from sqlalchemy.orm import Session

    from recontact.notify.outbox import LIST_COLUMNS, list_notifications

    _settings(config)
    states = [*(state or []), *(["dead"] if dead else [])]
    with Session(_engine(db)) as session:
        rows = list_notifications(session, states=states, case_id=case)
        emit_rows(rows, output, title=lambda n: f"{n:,} notification{'s' * (n != 1)}", columns=LIST_COLUMNS,
                  empty="no notifications", limit=limit, newest_first="id")


@notifications_app.command("retry")
def retry_cmd(
    notification_id: Annotated[int, typer.Argument(metavar="ID", help="The notification's id.")],
    actor: ActorOpt = None,
    db: DbOpt = DEFAULT_DB, output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Put a dead-lettered notification back in the queue, due now, with a fresh attempt budget
    (recorded in the audit log with --as)."""
    from sqlalchemy.orm import Session

    from recontact.notify.outbox import retry

    _settings(config)
    with Session(_engine(db)) as session:
        row = retry(session, notification_id, actor=_actor(actor))
        session.commit()
    if output is Output.json:
        emit_json(row)
    elif output is Output.csv:
        emit_rows([row], output)
    else:
        stderr.print(f"notification {row['id']} is queued again ({row['channel']} to {row['recipient']}); "
                     "a running worker sends it now", highlight=False)
