"""Queue notifications in the outbox, in the caller's transaction; list and retry them.

The cases layer calls :func:`case_opened`, :func:`case_assigned` or :func:`case_escalated` with
its own session, in the transaction that makes the change: the notifications are committed with
the change or not at all, and ``recontact worker`` delivers them later (``worker.py``).

Who is told:

* the case's owner (the new owner on assignment, the senior or manager on escalation) by e-mail,
  when e-mail is configured (``$RECONTACT_SMTP_URL``) and that user has an address;
* the chat room behind the webhook (``[notifications] webhook_url`` or ``$RECONTACT_WEBHOOK_URL``),
  when one is configured;
* on opening, the customer, when the case's rule is listed in ``[notifications.tell_customer]
  rules``: an e-mail to each of the customer's e-mail identifiers (when e-mail is configured) and,
  when a gateway is configured, an SMS or call task for each phone identifier.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from recontact.config import Settings
from recontact.errors import RecontactError
from recontact.notify.messages import render
from recontact.notify.models import DEAD, DELIVERED, PENDING, SENDING, STATES, Notification
from recontact.notify.settings import smtp_url


class NotificationError(RecontactError, LookupError):
    """No such notification, or it cannot be retried in its state."""


@dataclass(frozen=True)
class Person:
    """Someone to tell: a user of the desk (owner, senior, manager)."""

    name: str
    email: str | None = None
    username: str | None = None


@dataclass(frozen=True)
class CaseFacts:
    """What a message says about a case. ``identifiers`` are ``kind:value`` strings."""

    case_id: int
    customer_key: str
    identifiers: tuple[str, ...]
    rule: str
    category: str | None
    opened_at: datetime
    state: str
    due_at: datetime | None = None
    priority: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC)


def _json_safe(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _queue(session: Session, *, event: str, audience: str, channel: str, recipient: str,
           case: CaseFacts | None, subject: str, body: str, payload: dict[str, Any],
           now: datetime) -> Notification:
    row = Notification(key=str(uuid.uuid4()), event=event, audience=audience, channel=channel,
                       recipient=recipient, case_id=case.case_id if case else None, subject=subject, body=body,
                       payload=_json_safe(payload), state=PENDING, attempts=0, next_attempt_at=now,
                       created_at=now)
    session.add(row)
    return row


def _tell_staff(session: Session, settings: Settings, *, event: str, template: str, case: CaseFacts,
                owner: Person | None, context: dict[str, Any], now: datetime) -> list[Notification]:
    cfg = settings.notifications
    to_owner = owner is not None and bool(owner.email) and bool(smtp_url())
    to_chat = bool(cfg.webhook())
    if not (to_owner or to_chat):
        return []  # nothing configured: not even a template to render
    ctx = {"case": case, "owner": owner, "desk_name": cfg.desk_name, **context}
    text = render(template, ("subject", "body", "chat"), ctx, templates_dir=cfg.templates_dir,
                  timezone=settings.timezone, chat_format=cfg.chat_format)
    payload = {"event": event, "case": asdict(case), "owner": asdict(owner) if owner else None,
               **{k: asdict(v) if isinstance(v, Person) else v for k, v in context.items()}}
    out = []
    if to_owner and owner is not None and owner.email:
        out.append(_queue(session, event=event, audience="owner", channel="email", recipient=owner.email,
                          case=case, subject=text["subject"], body=text["body"], payload=payload, now=now))
    if to_chat:
        out.append(_queue(session, event=event, audience="channel", channel="webhook", recipient="webhook",
                          case=case, subject=text["subject"], body=text["chat"], payload=payload, now=now))
    return out


def _identifiers(case: CaseFacts, kind: str) -> list[str]:
    prefix = kind + ":"
    return [i[len(prefix):] for i in case.identifiers if i.startswith(prefix)]


def _tell_customer(session: Session, settings: Settings, case: CaseFacts, owner: Person | None,
                   now: datetime) -> list[Notification]:
    cfg = settings.notifications
    told = cfg.tell_customer
    emails = _identifiers(case, "email") if told.email and smtp_url() else []
    phones = _identifiers(case, "phone") if told.gateway() else []
    if case.rule not in told.rules or not (emails or phones):
        return []
    ctx = {"case": case, "owner": owner, "desk_name": cfg.desk_name}
    text = render("customer_case_opened.txt.j2", ("subject", "body", "short"), ctx,
                  templates_dir=cfg.templates_dir, timezone=settings.timezone)
    payload = {"event": "customer_told", "case_id": case.case_id, "customer_key": case.customer_key,
               "owner": owner.name if owner else None}
    out = [_queue(session, event="customer_told", audience="customer", channel="email", recipient=address,
                  case=case, subject=text["subject"], body=text["body"], payload=payload, now=now)
           for address in emails]
    out += [_queue(session, event="customer_told", audience="customer", channel=told.gateway_task,
                   recipient=phone, case=case, subject=text["subject"], body=text["short"], payload=payload, now=now)
            for phone in phones]
    return out


def case_opened(session: Session, settings: Settings, case: CaseFacts, owner: Person | None, *,
                now: datetime | None = None) -> list[Notification]:
    """Queue what a newly opened case causes: its owner and the chat room told, and the customer
    when the rule says so. Added to ``session``; committed with the caller's transaction."""
    now = now or _now()
    summary = next((r.summary() for r in settings.rules if r.name == case.rule), "")
    staff = _tell_staff(session, settings, event="case_opened", template="case_opened.txt.j2", case=case,
                        owner=owner, context={"rule_summary": summary}, now=now)
    return staff + _tell_customer(session, settings, case, owner, now)


def case_assigned(session: Session, settings: Settings, case: CaseFacts, owner: Person, *,
                  previous_owner: Person | None = None, by: str | None = None, reason: str | None = None,
                  now: datetime | None = None) -> list[Notification]:
    """Queue what a (re)assignment causes: the new owner and the chat room told."""
    return _tell_staff(session, settings, event="case_assigned", template="case_assigned.txt.j2", case=case,
                       owner=owner, context={"previous_owner": previous_owner, "by": by, "reason": reason},
                       now=now or _now())


def case_escalated(session: Session, settings: Settings, case: CaseFacts, owner: Person | None, *,
                   level: str | None = None, by: str | None = None, reason: str | None = None,
                   now: datetime | None = None) -> list[Notification]:
    """Queue what an escalation causes: the person escalated to (senior or manager; None when the
    case went to a role, nobody named) and the chat room told. ``level``: ``senior`` or ``manager``."""
    return _tell_staff(session, settings, event="case_escalated", template="case_escalated.txt.j2", case=case,
                       owner=owner, context={"level": level, "by": by, "reason": reason}, now=now or _now())


# --- admin: list and retry --------------------------------------------------------------------

LIST_COLUMNS = ("id", "state", "event", "audience", "channel", "recipient", "case_id", "attempts",
                "next_attempt_at", "delivered_at", "last_error")


def as_row(n: Notification) -> dict[str, Any]:
    """The JSON shape of one notification (docs/cli.md, ``recontact notifications list``)."""
    return {"id": n.id, "key": n.key, "state": n.state, "event": n.event, "audience": n.audience,
            "channel": n.channel, "recipient": n.recipient, "case_id": n.case_id, "subject": n.subject,
            "attempts": n.attempts, "created_at": n.created_at, "next_attempt_at": n.next_attempt_at,
            "lease_until": n.lease_until, "worker": n.worker, "delivered_at": n.delivered_at,
            "last_error": n.last_error}


def list_notifications(session: Session, *, states: Sequence[str] = (), case_id: int | None = None
                       ) -> Iterator[dict[str, Any]]:
    """Notifications oldest first, optionally only in ``states`` or of one case."""
    bad = sorted(set(states) - set(STATES))
    if bad:
        raise NotificationError(f"unknown state {', '.join(bad)} (one of {', '.join(STATES)})")
    q = select(Notification).order_by(Notification.id)
    if states:
        q = q.where(Notification.state.in_(states))
    if case_id is not None:
        q = q.where(Notification.case_id == case_id)
    for n in session.scalars(q):
        yield as_row(n)


def retry(session: Session, notification_id: int, *, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """Put a dead (or waiting) notification back in the queue, due now, with a fresh attempt budget;
    ``actor`` is recorded in the audit log. A delivered one, or one a worker is sending right now,
    is refused: the update itself carries the condition (dead, pending, or sending with its lease
    expired) and its row count is checked, so a worker's claim between our read and our write
    wins and the notification is never sent by two workers at once."""
    from recontact.cases.models import AuditEntry

    now = now or _now()
    n = session.get(Notification, notification_id)
    if n is None:
        raise NotificationError(f"no notification {notification_id}")
    _refuse_retry(n, now)
    before = {"state": n.state, "attempts": n.attempts, "last_error": n.last_error}
    res = session.execute(
        update(Notification)
        .where(Notification.id == n.id,
               or_(Notification.state.in_((DEAD, PENDING)),
                   and_(Notification.state == SENDING, Notification.lease_until <= now)))
        .values(state=PENDING, attempts=0, next_attempt_at=now, lease_until=None, lease_token=None,
                last_error=f"retried by hand after: {n.last_error}" if n.last_error else None)
        .execution_options(synchronize_session=False))
    session.refresh(n)
    if res.rowcount != 1:  # type: ignore[attr-defined]
        _refuse_retry(n, now)  # what changed it since our read says why
        raise NotificationError(f"notification {notification_id} changed while it was being retried "
                                f"(now {n.state}); try again")
    session.add(AuditEntry(at=now, actor=actor, entity="notification", entity_id=n.id, action="retried",
                           before=before, after={"state": n.state, "attempts": n.attempts}))
    return as_row(n)


def _refuse_retry(n: Notification, now: datetime) -> None:
    """NotificationError when ``n`` must not be queued again: delivered, or leased to a worker."""
    if n.state == DELIVERED:
        raise NotificationError(f"notification {n.id} was delivered at {n.delivered_at:%Y-%m-%d %H:%M} "
                                "UTC; it is not sent twice")
    if n.state == SENDING and (n.lease_until is None or n.lease_until > now):
        until = f" (lease until {n.lease_until:%H:%M:%S} UTC)" if n.lease_until else ""
        raise NotificationError(f"notification {n.id} is being sent by {n.worker}{until}")
