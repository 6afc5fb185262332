"""``recontact worker``: deliver what the outbox holds, safely with any number of workers at once.

One notification at a time:

1. **Claim** (one short transaction): pick the oldest due row — ``pending`` with
   ``next_attempt_at`` reached, or ``sending`` whose lease has expired (its worker died) — and
   set it ``sending`` with a fresh lease token, ``lease_until = now + lease`` and one more
   attempt. The update repeats the "is due" condition, so of two workers that picked the same row
   only one changes it (PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` makes the second pick
   another row; SQLite: ``BEGIN IMMEDIATE`` makes claims take turns).
2. **Send**, outside any transaction (SMTP or HTTP, each operation bounded by ``timeout``, the
   whole attempt cut off at half the lease: its sockets are shut down then, so the attempt ends
   and its outcome is recorded before another worker may take the row over). A notification that
   cannot be built into a message (an address with a line break) is dead-lettered with the reason;
   an unexpected error counts as a failed attempt; either way the worker goes on with the next.
3. **Finish** (one short transaction, only if the row still carries this worker's token):
   ``delivered``; or ``pending`` again at ``now + backoff x 2^(attempts-1)`` (at most
   ``backoff_max``) times a random factor in [0.5, 1) — later if the receiver asked with
   ``Retry-After`` —; or ``dead`` after
   ``max_attempts`` failed attempts or a permanent refusal.

A worker killed between 2 and 3 leaves the row ``sending``; once the lease expires another worker
sends it again with the same key, and the receiver drops the copy it already has (the key is the
``Idempotency-Key`` header, in the JSON body and the e-mail's Message-ID). So every notification
is sent at least once and accepted once. Time is the workers' clock (UTC): keep workers on
several machines in sync (NTP).
"""

from __future__ import annotations

import os
import random
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, and_, func, or_, select, update
from sqlalchemy.orm import Session

from recontact.config import Settings
from recontact.notify.channels import DeliveryError, Permanent, Transient
from recontact.notify.channels.deadline import Deadline
from recontact.notify.models import DEAD, DELIVERED, PENDING, SENDING, Notification

Clock = Callable[[], datetime]
Log = Callable[[str], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    """``host:pid:random``: unique among the workers that ever run."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass
class WorkerReport:
    """What one run of a worker did. ``retried``: failed attempts put back in the queue;
    ``dead``: notifications dead-lettered; ``lost``: finished after its lease had passed to
    another worker (the other worker's outcome stands). ``waiting``: notifications left pending
    for a later attempt (their backoff) when the run ended, the first of them due at ``next_due``
    (UTC; None when none waits)."""

    worker: str
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    lost: int = 0
    waiting: int = 0
    next_due: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def _write(engine: Engine) -> Iterator[Session]:
    """A session whose transaction writes, committed at the end. On SQLite it starts with ``BEGIN
    IMMEDIATE``: it takes the write lock before reading, so two workers never both read a row as
    due and then deadlock upgrading their read locks (they wait for each other, within the busy
    timeout, instead)."""
    with Session(engine, expire_on_commit=False) as session:
        if engine.dialect.name == "sqlite":
            session.connection().exec_driver_sql("BEGIN IMMEDIATE")
        yield session
        session.commit()


def _due(now: datetime) -> Any:
    return or_(and_(Notification.state == PENDING, Notification.next_attempt_at <= now),
               and_(Notification.state == SENDING, Notification.lease_until <= now))


def _bury_expired(session: Session, settings: Settings, now: datetime) -> int:
    """Dead-letter rows whose worker died during their last allowed attempt."""
    res = session.execute(
        update(Notification)
        .where(Notification.state == SENDING, Notification.lease_until <= now,
               Notification.attempts >= settings.notifications.max_attempts)
        .values(state=DEAD, lease_until=None, lease_token=None,
                last_error="lease expired during the last allowed attempt (worker stopped mid-delivery?)")
        .execution_options(synchronize_session=False))
    return int(res.rowcount)  # type: ignore[attr-defined]


def claim(engine: Engine, settings: Settings, worker: str, now: datetime,
          exclude: set[int] | frozenset[int] = frozenset()) -> Notification | None:
    """Lease the oldest due notification to ``worker``, or None when nothing is due."""
    lease = settings.notifications.lease
    while True:
        token = uuid.uuid4().hex
        with _write(engine) as session:
            _bury_expired(session, settings, now)
            q = select(Notification.id).where(_due(now))
            if exclude:
                q = q.where(Notification.id.not_in(exclude))
            q = q.order_by(Notification.next_attempt_at, Notification.id).limit(1)
            if engine.dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            picked = session.scalar(q)
            if picked is None:
                return None
            res = session.execute(
                update(Notification).where(Notification.id == picked, _due(now))
                .values(state=SENDING, attempts=Notification.attempts + 1, lease_until=now + lease,
                        lease_token=token, worker=worker)
                .execution_options(synchronize_session=False))
            won = res.rowcount == 1  # type: ignore[attr-defined]
        if won:
            with Session(engine, expire_on_commit=False) as session:
                return session.get(Notification, picked)
        # another worker changed the row between our read and our update: pick again


def waiting(engine: Engine, now: datetime) -> tuple[int, datetime | None]:
    """How many notifications wait for a later attempt (pending, not yet due at ``now``), and when
    the first of them is due."""
    with Session(engine) as session:
        count, first = session.execute(
            select(func.count(), func.min(Notification.next_attempt_at))
            .where(Notification.state == PENDING, Notification.next_attempt_at > now)).one()
    return int(count), first


def _finish(engine: Engine, n: Notification, at: datetime, **values: Any) -> bool:
    """Record the attempt's outcome if the lease is still ours; False if it passed to another worker.
    A message to a customer that was delivered (``sent``) or dead-lettered (``bounced``) is logged
    in the case's outreach log, in the same transaction."""
    with _write(engine) as session:
        res = session.execute(
            update(Notification)
            .where(Notification.id == n.id, Notification.lease_token == n.lease_token,
                   Notification.state == SENDING)
            .values(lease_until=None, lease_token=None, **values)
            .execution_options(synchronize_session=False))
        won = bool(res.rowcount == 1)  # type: ignore[attr-defined]
        if won and n.audience == "customer" and n.case_id is not None and values["state"] in (DELIVERED, DEAD):
            from recontact.cases import workflow

            outcome = "sent" if values["state"] == DELIVERED else "bounced"
            detail = f"notification {n.id} to {n.recipient}: {n.subject}"
            if values["state"] == DEAD:
                detail += f" ({values.get('last_error')})"
            workflow.log_outreach(session, n.case_id, OUTREACH_CHANNEL.get(n.channel, n.channel), outcome,
                                  actor=workflow.SYSTEM, at=at, detail=detail)
        return won


#: The outreach-log channel of each notification channel (a call task is a phone outreach).
OUTREACH_CHANNEL = {"email": "email", "sms": "sms", "call": "phone"}


class Deliverer:
    """Sends one notification over its channel with the configured servers."""

    def __init__(self, settings: Settings, worker: str) -> None:
        from recontact.notify.settings import smtp_url

        self.settings = settings
        self.worker = worker
        from recontact.notify.channels.email import SmtpServer, parse_smtp_url

        url = smtp_url()
        self.smtp: SmtpServer | None = parse_smtp_url(url) if url else None
        # The channel URLs from the environment, checked now: a bad one is a one-line error at the
        # start, not a failure of every delivery.
        settings.notifications.webhook()
        settings.notifications.tell_customer.gateway()
        self._http: Any = None

    def _client(self) -> Any:
        if self._http is None:
            from recontact.notify.channels import webhook

            self._http = webhook.client(self.settings.notifications.timeout.total_seconds())
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    def send(self, n: Notification) -> None:
        """One attempt, within the attempt deadline (half the lease)."""
        with Deadline(self.settings.notifications.attempt_deadline().total_seconds()) as deadline:
            self._send(n, deadline)

    def _send(self, n: Notification, deadline: Deadline) -> None:
        cfg = self.settings.notifications
        timeout = cfg.timeout.total_seconds()
        if n.channel == "email":
            from recontact.notify.channels import email

            if self.smtp is None:
                raise Transient("e-mail is not configured here: set $RECONTACT_SMTP_URL for the worker")
            email.send(self.smtp, email.message_for(n, cfg.from_address), timeout, deadline)
            return
        from recontact.notify.channels import webhook

        if n.channel == "webhook":
            url = cfg.webhook()
            what = "webhook URL ([notifications] webhook_url or $RECONTACT_WEBHOOK_URL)"
        elif n.channel in ("sms", "call"):
            url = cfg.tell_customer.gateway()
            what = "SMS gateway ([notifications.tell_customer] gateway_url or $RECONTACT_SMS_GATEWAY_URL)"
        else:
            raise Permanent(f"unknown channel {n.channel!r}")
        if not url:
            raise Transient(f"no {what} is configured for the worker")
        webhook.send(self._client(), url, n, self.worker, deadline)


def deliver_one(engine: Engine, settings: Settings, deliverer: Deliverer, n: Notification, report: WorkerReport,
                clock: Clock = utcnow, log: Log | None = None) -> str:
    """Send a claimed notification and record the outcome: delivered, retry or dead."""
    cfg = settings.notifications
    try:
        try:
            deliverer.send(n)
        except DeliveryError:
            raise
        except Exception as unexpected:  # one bad notification must not stop the worker
            raise Transient(f"unexpected {type(unexpected).__name__}: {unexpected}") from unexpected
    except DeliveryError as e:
        now = clock()
        error = f"attempt {n.attempts}: {e}"
        if isinstance(e, Permanent) or n.attempts >= cfg.max_attempts:
            outcome = "dead"
            if not isinstance(e, Permanent):
                error += f" (gave up after {n.attempts} attempts)"
            kept = _finish(engine, n, now, state=DEAD, last_error=error)
        else:
            outcome = "retry"
            wait = cfg.delay_after(n.attempts, random.random())
            if isinstance(e, Transient) and e.retry_after is not None:
                wait = max(wait, e.retry_after)
            kept = _finish(engine, n, now, state=PENDING, next_attempt_at=now + wait, last_error=error)
    else:
        outcome = "delivered"
        now = clock()
        kept = _finish(engine, n, now, state=DELIVERED, delivered_at=now, last_error=None)
    if not kept:
        outcome = "lost"
    counter = {"delivered": "delivered", "retry": "retried", "dead": "dead", "lost": "lost"}[outcome]
    setattr(report, counter, getattr(report, counter) + 1)
    if log is not None:
        log(f"{outcome}: notification {n.id} ({n.event}, {n.channel} to {n.recipient}), attempt {n.attempts}")
    return outcome


def run(engine: Engine, settings: Settings, *, once: bool = False, worker: str | None = None,
        poll: timedelta = timedelta(seconds=2), stop: threading.Event | None = None, clock: Clock = utcnow,
        log: Log | None = None) -> WorkerReport:
    """Deliver until ``stop`` is set (or, with ``once``, until nothing due is left: each
    notification is tried at most once per run, then the worker exits)."""
    worker = worker or worker_name()
    stop = stop or threading.Event()
    report = WorkerReport(worker)
    tried: set[int] = set()
    deliverer = Deliverer(settings, worker)
    try:
        while not stop.is_set():
            n = claim(engine, settings, worker, clock(), exclude=tried if once else frozenset())
            if n is None:
                if once:
                    break
                stop.wait(poll.total_seconds())
                continue
            tried.add(n.id)
            deliver_one(engine, settings, deliverer, n, report, clock, log)
    finally:
        deliverer.close()
    if once:
        report.waiting, report.next_due = waiting(engine, clock())
    return report
