"""The outbox's listener on case changes (``recontact.cases.hooks``): turns each notice into
outbox rows, in the session and transaction of the change.

* ``opened``: the owner (if routing chose one) and the chat room told; the customer too when the
  rule is listed in ``[notifications.tell_customer] rules``.
* ``assigned``: the new owner and the chat room told — except the assignment routing makes as the
  case opens, which the ``opened`` message already announced.
* ``escalated``: the senior or manager it went to (when one was named) and the chat room told.
* ``transition``: nobody (the owner made it).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from recontact.cases import hooks
from recontact.cases.hooks import CaseNotice
from recontact.cases.models import Case, User
from recontact.config import Settings
from recontact.notify import outbox
from recontact.notify.models import Notification
from recontact.notify.outbox import CaseFacts, Person
from recontact.notify.settings import smtp_url

_CHUNK = 900  # ids per IN list (well below SQLite's parameter limit)


def _person(session: Session, username: str | None) -> Person | None:
    if not username:
        return None
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        return Person(name=username, username=username)
    return Person(name=user.name or user.username, email=user.email, username=user.username)


def anything_to_send(settings: Settings) -> bool:
    """Whether a notice can cause a notification at all: e-mail, a chat webhook or a customer
    gateway is configured (otherwise every notice would queue nothing)."""
    cfg = settings.notifications
    return bool(smtp_url() or cfg.webhook() or cfg.tell_customer.gateway())


def _load_cases(session: Session, ids: Sequence[int]) -> None:
    """Read the cases ``ids`` into the session's identity map in a few queries (``session.get``
    then finds them there instead of one query per notice)."""
    wanted = sorted(set(ids))
    for i in range(0, len(wanted), _CHUNK):
        session.scalars(select(Case).where(Case.id.in_(wanted[i:i + _CHUNK]))).all()


def facts(case: Case, identifiers: Sequence[str]) -> CaseFacts:
    """What messages say about ``case``."""
    return CaseFacts(case_id=case.id, customer_key=f"C{case.customer_key}", identifiers=tuple(identifiers),
                     rule=case.rule, category=case.category, opened_at=case.opened_at, state=case.state,
                     due_at=case.due_at, priority=case.priority)


def on_notice(session: Session, notice: CaseNotice, settings: Settings,
              identifiers: Sequence[str] = ()) -> list[Notification]:
    """Queue the notifications ``notice`` causes (none for a transition)."""
    case = session.get(Case, notice.case_id)
    if case is None:  # pragma: no cover - a notice always names a case of this session
        return []
    about = facts(case, identifiers)
    owner = _person(session, notice.owner)
    if notice.kind == "opened":
        return outbox.case_opened(session, settings, about, owner, now=notice.at)
    if notice.kind == "assigned":
        if owner is None or (notice.previous_owner is None and "routed_by" in notice.detail):
            return []  # announced with the opening
        return outbox.case_assigned(session, settings, about, owner, now=notice.at,
                                    previous_owner=_person(session, notice.previous_owner), by=notice.actor,
                                    reason=notice.detail.get("reason"))
    if notice.kind == "escalated":
        target = _person(session, notice.detail.get("user"))  # None: escalated to a role, nobody named
        return outbox.case_escalated(session, settings, about, target, level=notice.detail.get("to"),
                                     by=notice.actor, reason=notice.detail.get("reason"), now=notice.at)
    return []


@hooks.register
def queue_notifications(session: Session, notices: Sequence[CaseNotice], settings: Settings,
                        identifiers: Callable[[], Mapping[int, Sequence[str]]]) -> None:
    """The listener ``recontact.cases.hooks`` calls (this module is in its ``LISTENER_MODULES``):
    nothing when no channel is configured, else each notice's notifications."""
    if not anything_to_send(settings):
        return
    _load_cases(session, [n.case_id for n in notices])
    known = identifiers()
    for notice in notices:
        on_notice(session, notice, settings, tuple(known.get(notice.customer_key, ())))
