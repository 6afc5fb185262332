"""The case workflow: states and legal transitions, assignment, escalation, notes, outreach,
due dates, and the audit log. Every function works inside the caller's session (one
transaction), writes a ``case_events`` row for the timeline and an ``audit_log`` row with the
fields before and after, and returns the notices for :mod:`recontact.cases.hooks`.

States (``settings.STATES``): new -> contacted -> in_progress -> resolved -> closed. A case may
skip forward (a customer fixed on the first call goes new -> resolved); it goes back only by
*reopening*: resolved or closed -> in_progress, with a reason. Resolving and closing need a
resolution code (closing a resolved case keeps its code). Due dates: entering a state with an
SLA (``[cases] sla``) sets ``due_at`` = now + that SLA; resolved/closed without one clear it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recontact.cases.hooks import CaseNotice
from recontact.cases.models import AuditEntry, Case, CaseEvent, Note, Outreach, User
from recontact.cases.settings import STATES, CasesSettings
from recontact.errors import CaseError

OPEN_STATES = STATES[:-1]  # every state but closed: an episode attaches to a case in one of these
#: state -> the states it may move to (reopening: resolved/closed -> in_progress).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "new": ("contacted", "in_progress", "resolved", "closed"),
    "contacted": ("in_progress", "resolved", "closed"),
    "in_progress": ("resolved", "closed"),
    "resolved": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
ESCALATION_TARGETS = ("senior", "manager")  # senior technical resource; manager (non-technical decisions)
OUTREACH_CHANNELS = ("phone", "email", "sms", "chat", "visit", "letter")
OUTREACH_OUTCOMES = ("reached", "no_answer", "voicemail", "busy", "wrong_number", "callback_scheduled", "sent",
                     "bounced", "declined")
SYSTEM = "system"
AUDITED = ("state", "owner", "due_at", "priority", "escalated_to", "escalated_user", "resolution_code",
           "customer_key", "opened_at", "merged_into_id")


def snapshot(case: Case, owners: dict[int, str] | None = None) -> dict[str, Any]:
    """The audited fields of ``case``, JSON-ready (times ISO 8601 UTC, owners by user name)."""
    def name(user_id: int | None) -> str | None:
        if user_id is None:
            return None
        if owners is not None and user_id in owners:
            return owners[user_id]
        return _username(case, user_id)

    out: dict[str, Any] = {}
    for f in AUDITED:
        if f == "owner":
            out[f] = name(case.owner_id)
        elif f == "escalated_user":
            out[f] = name(case.escalated_user_id)
        else:
            v = getattr(case, f)
            out[f] = v.isoformat() if isinstance(v, datetime) else v
    return out


def _username(case: Case, user_id: int) -> str | None:
    from sqlalchemy.orm import object_session

    session = object_session(case)
    user = session.get(User, user_id) if session is not None else None
    return user.username if user else None


def record(session: Session, case: Case, *, actor: str, kind: str, at: datetime, before: dict[str, Any] | None,
           reason: str | None = None, from_state: str | None = None, to_state: str | None = None,
           data: dict[str, Any] | None = None) -> None:
    """One timeline event and one audit row for a change to ``case`` (``before``: its snapshot
    before the change, None when it was created)."""
    session.flush()
    session.add(CaseEvent(case_id=case.id, at=at, actor=actor, kind=kind, from_state=from_state, to_state=to_state,
                          reason=reason, data=data))
    after = snapshot(case)
    changed_before = before if before is None else {k: v for k, v in before.items() if after.get(k) != v}
    changed_after = after if before is None else {k: v for k, v in after.items() if before.get(k) != v}
    if kind in ("note", "outreach"):
        changed_after = {kind: data}
    session.add(AuditEntry(at=at, actor=actor, entity="case", entity_id=case.id, action=kind,
                           before=changed_before, after=changed_after))


def get_case(session: Session, case_id: int, *, lock: bool = False) -> Case:
    """Case ``case_id``; ``lock``: its row locked until the transaction ends (``SELECT … FOR
    UPDATE`` on PostgreSQL; on SQLite the transaction holds the write lock already:
    ``db.write_scope``), so two changes of one case never both read it before either writes."""
    case = session.get(Case, case_id, with_for_update=lock or None, populate_existing=lock)
    if case is None:
        raise CaseError(f"no case {case_id} (see recontact cases list)")
    return case


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        known = session.scalars(select(User.username).order_by(User.username).limit(10)).all()
        hint = f"; users: {', '.join(known)}" if known else "; add one with recontact cases users add"
        raise CaseError(f"no user called {username!r}{hint}")
    return user


def check_actor(session: Session, actor: str) -> None:
    """A known user whose role is viewer may not change cases (unknown actors are recorded as given)."""
    role = session.scalar(select(User.role).where(User.username == actor))
    if role == "viewer":
        raise CaseError(f"{actor} is a viewer: viewers cannot change cases")


def notice(case: Case, kind: str, actor: str, at: datetime, **kw: Any) -> CaseNotice:
    return CaseNotice(kind=kind, case_id=case.id, customer_key=case.customer_key, rule=case.rule,
                      category=case.category, at=at, actor=actor,
                      owner=case.owner.username if case.owner else None, state=case.state, **kw)


def due_after(state: str, at: datetime, settings: CasesSettings) -> datetime | None:
    """When a case entering ``state`` at ``at`` is due (None: no SLA for that state)."""
    sla = settings.sla.get(state)
    return at + sla if sla is not None else None


def transition(session: Session, case_id: int, to: str, *, actor: str, at: datetime, settings: CasesSettings,
               reason: str | None = None, resolution_code: str | None = None) -> list[CaseNotice]:
    """Move case ``case_id`` to state ``to``; CaseError when that move is not allowed."""
    check_actor(session, actor)
    case = get_case(session, case_id, lock=True)
    if to not in STATES:
        raise CaseError(f"unknown state {to!r}: states are {', '.join(STATES)}")
    allowed = TRANSITIONS[case.state]
    if to not in allowed:
        why = "it is already there" if to == case.state else f"from {case.state} it may go to {', '.join(allowed)}"
        raise CaseError(f"case {case_id} cannot go from {case.state} to {to}: {why}")
    reopening = STATES.index(to) < STATES.index(case.state)
    if reopening and not (reason and reason.strip()):
        raise CaseError(f"reopening case {case_id} ({case.state} -> {to}) needs a reason (--reason)")
    if resolution_code is not None and resolution_code not in settings.resolution_codes:
        raise CaseError(f"unknown resolution code {resolution_code!r}: codes are "
                        f"{', '.join(settings.resolution_codes)} ([cases] resolution_codes)")
    if to in ("resolved", "closed") and resolution_code is None and case.resolution_code is None:
        raise CaseError(f"case {case_id}: {to} needs a resolution code (--code), one of "
                        f"{', '.join(settings.resolution_codes)}")
    before = snapshot(case)
    source = case.state
    case.state = to
    if resolution_code is not None:
        case.resolution_code = resolution_code
    if reopening:
        case.resolution_code = None
        case.closed_at = None
    if to == "closed":
        case.closed_at = at
    case.due_at = due_after(to, at, settings)
    case.updated_at = at
    record(session, case, actor=actor, kind="reopened" if reopening else "transition", at=at, before=before,
           reason=reason, from_state=source, to_state=to,
           data={"resolution_code": resolution_code} if resolution_code else None)
    return [notice(case, "transition", actor, at, detail={"from": source, "to": to, "reason": reason})]


def assign(session: Session, case_id: int, username: str | None, *, actor: str, at: datetime,
           reason: str | None = None) -> list[CaseNotice]:
    """Give case ``case_id`` to ``username`` (None: unassign); the old owner stays in the history."""
    check_actor(session, actor)
    case = get_case(session, case_id, lock=True)
    user = get_user(session, username) if username is not None else None
    if user is not None and not user.active:
        raise CaseError(f"{user.username} is not active")
    if (user.id if user else None) == case.owner_id:
        raise CaseError(f"case {case_id} is already {'owned by ' + username if username else 'unassigned'}")
    before = snapshot(case)
    previous = case.owner.username if case.owner else None
    case.owner_id = user.id if user else None
    case.owner = user
    case.routed_by = "manual"
    case.updated_at = at
    record(session, case, actor=actor, kind="assigned", at=at, before=before, reason=reason,
           data={"from": previous, "to": username})
    return [notice(case, "assigned", actor, at, previous_owner=previous, detail={"reason": reason})]


def escalate(session: Session, case_id: int, to: str, *, actor: str, at: datetime, user: str | None = None,
             reason: str | None = None) -> list[CaseNotice]:
    """Escalate to a senior technical resource (``senior``) or a manager (``manager``: non-technical
    decisions such as replacing equipment); ``user`` names who, else the case records the target only."""
    check_actor(session, actor)
    case = get_case(session, case_id, lock=True)
    if to not in ESCALATION_TARGETS:
        raise CaseError(f"escalate to senior (technical) or manager (non-technical decisions), not {to!r}")
    if case.state == "closed":
        raise CaseError(f"case {case_id} is closed: reopen it first")
    target = get_user(session, user) if user else None
    before = snapshot(case)
    case.escalated_to = to
    case.escalated_user_id = target.id if target else None
    case.updated_at = at
    record(session, case, actor=actor, kind="escalated", at=at, before=before, reason=reason,
           data={"to": to, "user": user})
    return [notice(case, "escalated", actor, at, detail={"to": to, "user": user, "reason": reason})]


def add_note(session: Session, case_id: int, text: str, *, actor: str, at: datetime) -> list[CaseNotice]:
    check_actor(session, actor)
    case = get_case(session, case_id, lock=True)
    if not text.strip():
        raise CaseError("a note needs some text")
    session.add(Note(case_id=case.id, at=at, author=actor, text=text))
    case.updated_at = at
    record(session, case, actor=actor, kind="note", at=at, before=snapshot(case), data={"text": text})
    return []


def log_outreach(session: Session, case_id: int, channel: str, outcome: str, *, actor: str, at: datetime,
                 detail: str | None = None) -> list[CaseNotice]:
    """Record one attempt to reach the customer (a call, an e-mail…) and its outcome."""
    check_actor(session, actor)
    case = get_case(session, case_id, lock=True)
    if channel not in OUTREACH_CHANNELS:
        raise CaseError(f"unknown outreach channel {channel!r}: {', '.join(OUTREACH_CHANNELS)}")
    if outcome not in OUTREACH_OUTCOMES:
        raise CaseError(f"unknown outreach outcome {outcome!r}: {', '.join(OUTREACH_OUTCOMES)}")
    session.add(Outreach(case_id=case.id, at=at, actor=actor, channel=channel, outcome=outcome, detail=detail))
    case.updated_at = at
    record(session, case, actor=actor, kind="outreach", at=at, before=snapshot(case),
           data={"channel": channel, "outcome": outcome, "detail": detail})
    return []


def open_case_count(session: Session, owner_id: int) -> int:
    return int(session.scalar(select(func.count()).select_from(Case).where(
        Case.owner_id == owner_id, Case.state.in_(OPEN_STATES))) or 0)
