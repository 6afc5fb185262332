"""The cases operations every interface calls (CLI now; API routes and pages later): each opens
the operational store (and, where it needs contacts or identifiers, the DuckDB store read-only),
does one thing in one transaction, and returns plain rows (dicts) whose shape is the JSON contract
in docs/cli.md. Times come back as aware datetimes in the reporting time zone; customer keys as
``C<n>``. ``now`` (UTC) may be given for tests; it defaults to the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from recontact.cases import hooks, workflow
from recontact.cases.db import now as wall_clock
from recontact.cases.db import open_engine, session_scope, write_scope
from recontact.cases.hooks import CaseNotice
from recontact.cases.models import Case, CaseEvent, CaseFlag, Note, Outreach, Role, User
from recontact.cases.sync import GONE_REASON, SyncSummary, store_identifiers, sync, touched_customers
from recontact.config import Settings
from recontact.errors import CaseError
from recontact.store.contacts import Store
from recontact.wording import plural


def _pairs(rows: Any) -> dict[int, str]:
    return {int(k): str(v) for k, v in rows}


def _now(now: datetime | None) -> datetime:
    return now if now is not None else wall_clock()


def sync_store(store: Store, db: Path, settings: Settings, customers: set[int] | None = None, *,
               now: datetime | None = None, since: datetime | None = None, notify: bool = False,
               gone_reason: str = GONE_REASON) -> SyncSummary:
    """Cases of ``customers`` (None: everyone) brought up to date with the flags in ``store`` (an
    open DuckDB store, read-write or read-only), plus every customer with an open attached flag
    episode (whose closing may have come with newer contacts). ``customers`` is extended in place
    (an import may have touched millions: no copies). Under the sync lock (``db.write_scope``):
    two syncs at once run one after the other."""
    engine = open_engine(db)
    with write_scope(engine, sync_lock=True) as session:
        if customers is not None:
            customers |= set(session.scalars(
                select(CaseFlag.customer_key).where(CaseFlag.live, CaseFlag.closed_at.is_(None)).distinct()))
        return sync(session, store, settings, customers, at=_now(now), since=since, notify=notify,
                    gone_reason=gone_reason)


def finish_pending(store: Store, db: Path, settings: Settings, *, now: datetime | None = None,
                   gone_reason: str = GONE_REASON) -> tuple[SyncSummary | None, list[int]]:
    """Open the cases of every import whose cases are due (``ledger.cases_due``: recorded in the
    import's own commit), for the customers those imports touched; returns what the sync did
    (None: nothing was due) and the imports it finished, whose marks the caller clears when it
    holds the store read-write (``ledger.clear_cases_due``; :func:`clear_pending` otherwise)."""
    from recontact.store import ledger

    due = ledger.cases_due(store.con)
    if not due:
        return None, []
    keys: set[int] | None = set()
    for import_id, history_from in sorted(due.items()):
        if history_from is None:
            keys = None
            break
        assert keys is not None
        keys |= touched_customers(store, import_id, history_from)
    return sync_store(store, db, settings, keys, now=now, gone_reason=gone_reason), sorted(due)


def clear_pending(db: Path, settings: Settings, import_ids: Sequence[int]) -> None:
    """Clear the cases-due marks of ``import_ids`` (their cases are open now) with a brief
    read-write open of the store; a store busy with an import keeps them (the next write finds
    them again, and opening cases twice opens nothing more)."""
    from recontact.errors import StoreError
    from recontact.store import ledger
    from recontact.store.contacts import open_store

    if not import_ids:
        return
    try:
        with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
            ledger.clear_cases_due(store.con, import_ids)
    except StoreError:
        return


def pending_imports(db: Path, settings: Settings) -> list[int]:
    """The imports whose cases are not open yet ([] without a store, or while an import holds it)."""
    from recontact.desk import open_for_reading
    from recontact.errors import StoreError
    from recontact.store import ledger
    from recontact.store.contacts import store_exists

    if not store_exists(db):
        return []
    try:
        with open_for_reading(db, settings) as store:
            return sorted(ledger.cases_due(store.con))
    except StoreError:
        return []


def finish_pending_cases(db: Path, settings: Settings, *, now: datetime | None = None) -> SyncSummary | None:
    """What ``recontact worker`` does first: open the cases of imports whose cases are due (an
    import killed while it opened them). None: nothing was due, no store, or an import holds the
    store (it opens them itself)."""
    from recontact.desk import open_for_reading
    from recontact.errors import StoreError
    from recontact.store.contacts import store_exists

    if not store_exists(db):
        return None
    try:
        with open_for_reading(db, settings) as store:
            summary, finished = finish_pending(store, db, settings, now=now)
    except StoreError:
        return None
    clear_pending(db, settings, finished)
    return summary


def sync_cases(db: Path, settings: Settings, *, now: datetime | None = None, since: date | None = None,
               notify: bool = False, actor: str | None = None) -> dict[str, Any]:
    """``recontact cases sync``: every customer's flag episodes -> cases (for a store filled before
    cases existed, or after the rules or identity settings changed; also every import whose cases
    are due). ``since``: also open cases for episodes that crossed on or after that day (in the
    reporting time zone) though they are older than ``[cases] open_within``, their notices held
    unless ``notify``. ``actor`` (``--as``): then every open case without an owner is routed
    (:func:`route_open_cases`). Counts of what it did."""
    from recontact.desk import open_for_reading, report_settings
    from recontact.store import ledger

    with open_for_reading(db, settings) as store:
        start = None
        if since is not None:
            tz = ZoneInfo(report_settings(store, settings).timezone)
            start = datetime.combine(since, time(0), tz)
        due = sorted(ledger.cases_due(store.con))
        summary = sync_store(store, db, settings, None, now=now, since=start, notify=notify)
        routed = route_open_cases(store, db, settings, actor=actor, now=now) if actor else None
    clear_pending(db, settings, due)
    return summary.as_dict() | ({"routed": routed["routed"]} if routed else {})


def route_open_cases(store: Store, db: Path, settings: Settings, *, actor: str,
                     now: datetime | None = None) -> dict[str, Any]:
    """Route every open case that has no owner (opened before any user existed, or when every
    pool member was at capacity) by ``[routing]``, as a new case is: ``{"routed": n, "unrouted":
    m}``. Each routed case records an ``assigned`` event by ``actor`` and tells the listeners."""
    from recontact.cases.routing import Candidate, Router, store_context

    at = _now(now)
    rules = {r.name: r for r in settings.rules}
    engine = open_engine(db)
    with write_scope(engine, sync_lock=True) as session:
        cases = list(session.scalars(select(Case).where(Case.owner_id.is_(None), Case.state.in_(workflow.OPEN_STATES))
                                     .order_by(Case.opened_at, Case.id)))
        if not cases:
            return {"routed": 0, "unrouted": 0}
        router = Router(session, settings.routing)
        notices: list[CaseNotice] = []
        unrouted = 0
        for case, known in zip(cases, store_context(store, [(c.customer_key, c.opened_at) for c in cases]),
                               strict=True):
            owner, step, _why = router.route(Candidate(case.customer_key, rules.get(case.rule), case.opened_at,
                                                       case.contact_count, **known))
            if owner is None:
                unrouted += 1
                continue
            before = workflow.snapshot(case)
            case.owner_id, case.owner, case.routed_by, case.updated_at = owner.id, owner, step, at
            workflow.record(session, case, actor=actor, kind="assigned", at=at, before=before,
                            reason=f"routed by {step}", data={"from": None, "to": owner.username})
            notices.append(workflow.notice(case, "assigned", actor, at, detail={"routed_by": step}))
        hooks.dispatch(session, notices, settings, lambda keys: store_identifiers(store, keys))
    return {"routed": len(notices), "unrouted": unrouted}


def route_cases(db: Path, settings: Settings, *, actor: str, now: datetime | None = None) -> dict[str, Any]:
    """``recontact cases route``: :func:`route_open_cases` on the store at ``db``."""
    from recontact.desk import open_for_reading

    with open_for_reading(db, settings) as store:
        return route_open_cases(store, db, settings, actor=actor, now=now)


class ImportHook:
    """Opens cases after an import (``desk.import_contacts``): every import whose cases are due,
    this one's included (``finish_pending``); ``created`` whether the import made the store."""

    def __init__(self, db: Path, settings: Settings, created: bool) -> None:
        self.db, self.settings, self.created = db, settings, created
        self.notes: list[str] = []

    def after(self, store: Store, import_id: int) -> SyncSummary:
        """Sync the customers the due imports touched and clear their marks. A new store's first
        import touched every customer in it (no set of millions of keys), and must not inherit a
        cases file left beside it by an earlier store: that file is put aside first (said in
        ``notes``)."""
        from recontact.store import ledger

        if self.created:
            aside = set_aside_stale_sqlite(self.db)
            if aside is not None:
                self.notes.append(f"a cases file of an earlier store was beside this new one: kept as {aside}")
        summary, finished = finish_pending(store, self.db, self.settings)
        ledger.clear_cases_due(store.con, finished)
        earlier = [i for i in finished if i != import_id]
        if earlier:
            self.notes.append(f"cases of {plural(len(earlier), 'earlier import')} ({', '.join(map(str, earlier))}) "
                              "that had not opened yet opened too")
        return summary if summary is not None else SyncSummary(customers=0)


def set_aside_stale_sqlite(db: Path) -> Path | None:
    """A new DuckDB store must not inherit the cases of a store that was deleted (they name that
    store's customer keys): when the SQLite cases file beside it holds cases, rename it to
    ``….cases.sqlite.old-<UTC time>`` and return the new name. A file with users but no case yet
    (users added before the first import) stays; so does a server (``RECONTACT_DATABASE_URL``)."""
    import os
    import sqlite3

    from recontact.cases.db import DATABASE_URL_ENV, forget_engines, sqlite_path

    path = sqlite_path(db)
    if os.environ.get(DATABASE_URL_ENV) or not path.exists():
        return None
    con = sqlite3.connect(path)
    try:
        holds = con.execute("SELECT count(*) FROM cases").fetchone()[0]
    except sqlite3.Error:  # not a cases file we know (or no cases table yet)
        holds = 0
    finally:
        con.close()
    if not holds:
        return None
    forget_engines()
    aside = path.with_name(f"{path.name}.old-{wall_clock():%Y%m%dT%H%M%S}")
    path.rename(aside)
    return aside


def _tz(db: Path, settings: Settings) -> ZoneInfo:
    from recontact.desk import report_timezone

    try:
        return ZoneInfo(report_timezone(db, settings))
    except Exception:  # no DuckDB store (yet): the configured zone
        return ZoneInfo(settings.timezone)


def _local(ts: datetime | None, tz: ZoneInfo) -> datetime | None:
    return ts.astimezone(tz) if ts is not None else None


def identifiers_by_key(db: Path, settings: Settings, keys: Sequence[int]) -> dict[int, list[str]]:
    """Every ``kind:value`` of each customer (the order of ``desk.identifiers_of``); {} without a store."""
    from recontact.cases.sync import store_identifiers
    from recontact.desk import open_for_reading
    from recontact.store.contacts import store_exists

    if not keys or not store_exists(db):
        return {}
    with open_for_reading(db, settings) as store:
        return store_identifiers(store, keys)


#: Columns of ``cases list`` (the JSON contract; docs/cli.md).
CASE_COLUMNS = ("case_id", "customer_key", "identifiers", "rule", "category", "opened_at", "state", "owner",
                "due_at", "overdue", "priority", "contact_count", "escalated_to", "resolution_code", "source",
                "flags", "created_at", "updated_at")


def _case_row(case: Case, owners: dict[int, str], flags: dict[int, int], idents: dict[int, list[str]],
              tz: ZoneInfo, at: datetime) -> dict[str, Any]:
    return {
        "case_id": case.id, "customer_key": f"C{case.customer_key}",
        "identifiers": idents.get(case.customer_key, []), "rule": case.rule, "category": case.category,
        "opened_at": _local(case.opened_at, tz), "state": case.state,
        "owner": owners.get(case.owner_id) if case.owner_id else None, "due_at": _local(case.due_at, tz),
        "overdue": bool(case.due_at and case.due_at < at and case.state in workflow.OPEN_STATES),
        "priority": case.priority, "contact_count": case.contact_count, "escalated_to": case.escalated_to,
        "resolution_code": case.resolution_code, "source": case.source, "flags": flags.get(case.id, 0),
        "created_at": _local(case.created_at, tz), "updated_at": _local(case.updated_at, tz),
    }


def list_cases(db: Path, settings: Settings, *, state: str | None = None, owner: str | None = None,
               overdue: bool = False, customer: int | None = None, now: datetime | None = None) -> list[dict[str, Any]]:
    """Cases, oldest opening first (then id), narrowed by state, owner (``-`` or ``none``:
    unassigned), overdue (due before now and not closed) or customer key."""
    from sqlalchemy import func

    from recontact.cases.settings import STATES

    at = _now(now)
    if state is not None and state not in (*STATES, "open"):
        raise CaseError(f"unknown state {state!r}: states are {', '.join(STATES)} (or open: any but closed)")
    engine = open_engine(db)
    with session_scope(engine) as session:
        q: Select[Case] = select(Case).order_by(Case.opened_at, Case.id)
        if state == "open":
            q = q.where(Case.state.in_(workflow.OPEN_STATES))
        elif state is not None:
            q = q.where(Case.state == state)
        if owner is not None:
            if owner.lower() in ("-", "none"):
                q = q.where(Case.owner_id.is_(None))
            else:
                q = q.where(Case.owner_id == workflow.get_user(session, owner).id)
        if overdue:
            q = q.where(Case.due_at < at, Case.state.in_(workflow.OPEN_STATES))
        if customer is not None:
            q = q.where(Case.customer_key == customer)
        cases = list(session.scalars(q))
        owners = _pairs(session.execute(select(User.id, User.username)))
        flags = {k: int(v) for k, v in session.execute(select(CaseFlag.case_id, func.count()).where(CaseFlag.live)
                                     .group_by(CaseFlag.case_id))}
    tz = _tz(db, settings)
    idents = identifiers_by_key(db, settings, [c.customer_key for c in cases])
    return [_case_row(c, owners, flags, idents, tz, at) for c in cases]


def show_case(db: Path, settings: Settings, case_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """One case and its timeline: the case row, its flag episodes, transitions and other events,
    notes, outreach, and the customer's contacts and flags (from the DuckDB store), each list in
    time order, plus ``timeline``: every dated item merged in time order."""
    from recontact.store.contacts import store_exists

    at = _now(now)
    tz = _tz(db, settings)
    engine = open_engine(db)
    with session_scope(engine) as session:
        case = workflow.get_case(session, case_id)
        owners = _pairs(session.execute(select(User.id, User.username)))
        flags = list(session.scalars(select(CaseFlag).where(CaseFlag.case_id == case_id)
                                     .order_by(CaseFlag.crossed_at, CaseFlag.id)))
        events = list(session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                      .order_by(CaseEvent.at, CaseEvent.id)))
        notes = list(session.scalars(select(Note).where(Note.case_id == case_id).order_by(Note.at, Note.id)))
        outreach = list(session.scalars(select(Outreach).where(Outreach.case_id == case_id)
                                        .order_by(Outreach.at, Outreach.id)))
        escalated_user = owners.get(case.escalated_user_id) if case.escalated_user_id else None
    row = _case_row(case, owners, {case.id: sum(f.live for f in flags)}, {}, tz, at)
    customer: dict[str, Any] = {"contacts": [], "flags": []}
    if store_exists(db):
        from recontact.desk import customer_timeline
        from recontact.errors import UnknownCustomerError

        try:
            customer = customer_timeline(db, settings, f"C{case.customer_key}")
            row["identifiers"] = customer["identifiers"]
        except UnknownCustomerError:  # no contact left (its import was removed): the case's own history
            pass
    out = {
        **row, "escalated_user": escalated_user, "merged_into": case.merged_into_id,
        "case_flags": [{"rule": f.rule, "category": f.category, "crossed_at": _local(f.crossed_at, tz),
                        "count": f.count, "contact_id": f.contact_id, "closed_at": _local(f.closed_at, tz),
                        "live": f.live} for f in flags],
        "events": [{"at": _local(e.at, tz), "actor": e.actor, "kind": e.kind, "from_state": e.from_state,
                    "to_state": e.to_state, "reason": e.reason, "data": e.data} for e in events],
        "notes": [{"at": _local(n.at, tz), "author": n.author, "text": n.text} for n in notes],
        "outreach": [{"at": _local(o.at, tz), "actor": o.actor, "channel": o.channel, "outcome": o.outcome,
                      "detail": o.detail} for o in outreach],
        "contacts": customer["contacts"],
        "customer_flags": customer["flags"],
    }
    out["timeline"] = timeline(out)
    return out


def timeline(case: dict[str, Any]) -> list[dict[str, Any]]:
    """Every dated item of a shown case in time order: contacts, flags, events (transitions,
    assignments…), notes, outreach; each ``{"at", "what", "text"}``."""
    items: list[dict[str, Any]] = []
    for c in case["contacts"]:
        items.append({"at": c["started_at"], "what": "contact",
                      "text": " ".join(str(x) for x in (c["direction"], c["channel"], c["category"] or "",
                                                        f"agent {c['agent_id']}" if c["agent_id"] else "") if x)})
    for f in case["customer_flags"]:
        about = f" ({f['category']})" if f["category"] else ""
        items.append({"at": f["crossed_at"], "what": "flag", "text": f"{f['rule']}{about}: {f['count']} contacts"})
    for e in case["events"]:
        if e["kind"] in ("note", "outreach"):  # listed from their own tables below
            continue
        data = e["data"] or {}
        if e["kind"] == "assigned":
            move = f" {data.get('from') or 'none'} -> {data.get('to') or 'none'}"
        elif e["kind"] == "escalated":
            move = f" to {data.get('to')}{' ' + data['user'] if data.get('user') else ''}"
        elif e["kind"] == "opened":
            move = f" (owner {data.get('owner') or 'none'}, routed by {data.get('routed_by')})"
        else:
            move = f" {e['from_state']} -> {e['to_state']}" if e["to_state"] and e["from_state"] else ""
        why = f": {e['reason']}" if e["reason"] else ""
        items.append({"at": e["at"], "what": e["kind"], "text": f"{e['actor']}{move}{why}"})
    for n in case["notes"]:
        items.append({"at": n["at"], "what": "note", "text": f"{n['author']}: {n['text']}"})
    for o in case["outreach"]:
        detail = f" ({o['detail']})" if o["detail"] else ""
        text = f"{o['actor']} {o['channel']}: {o['outcome']}{detail}"
        items.append({"at": o["at"], "what": "outreach", "text": text})
    items.sort(key=lambda i: i["at"])
    return items


def _change(db: Path, settings: Settings, case_id: int, action: Callable[[Session, datetime], list[CaseNotice]],
            now: datetime | None) -> dict[str, Any]:
    """Run one workflow ``action`` in a transaction (listeners told inside it); the case row after."""
    at = _now(now)
    engine = open_engine(db)
    with write_scope(engine) as session:
        notices = action(session, at)
        hooks.dispatch(session, notices, settings, lambda keys: identifiers_by_key(db, settings, keys))
    return show_row(db, settings, case_id, now=at)


def show_row(db: Path, settings: Settings, case_id: int, *, now: datetime | None = None) -> dict[str, Any]:
    """The ``cases list`` row of one case."""
    at = _now(now)
    engine = open_engine(db)
    with session_scope(engine) as session:
        case = workflow.get_case(session, case_id)
        owners = _pairs(session.execute(select(User.id, User.username)))
        n = len([f for f in case.flags if f.live])
    idents = identifiers_by_key(db, settings, [case.customer_key])
    return _case_row(case, owners, {case.id: n}, idents, _tz(db, settings), at)


def transition_case(db: Path, settings: Settings, case_id: int, to: str, *, actor: str, reason: str | None = None,
                    resolution_code: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """``cases transition ID STATE``: see ``workflow.transition``."""
    return _change(db, settings, case_id, lambda s, at: workflow.transition(
        s, case_id, to, actor=actor, at=at, settings=settings.cases, reason=reason,
        resolution_code=resolution_code), now)


def assign_case(db: Path, settings: Settings, case_id: int, username: str | None, *, actor: str,
                reason: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    return _change(db, settings, case_id, lambda s, at: workflow.assign(
        s, case_id, username, actor=actor, at=at, reason=reason), now)


def escalate_case(db: Path, settings: Settings, case_id: int, to: str, *, actor: str, user: str | None = None,
                  reason: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    return _change(db, settings, case_id, lambda s, at: workflow.escalate(
        s, case_id, to, actor=actor, at=at, user=user, reason=reason), now)


def note_case(db: Path, settings: Settings, case_id: int, text: str, *, actor: str,
              now: datetime | None = None) -> dict[str, Any]:
    return _change(db, settings, case_id, lambda s, at: workflow.add_note(s, case_id, text, actor=actor, at=at),
                   now)


def outreach_case(db: Path, settings: Settings, case_id: int, channel: str, outcome: str, *, actor: str,
                  detail: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    return _change(db, settings, case_id, lambda s, at: workflow.log_outreach(
        s, case_id, channel, outcome, actor=actor, at=at, detail=detail), now)


def audit_trail(db: Path, settings: Settings, case_id: int) -> list[dict[str, Any]]:
    """Every audit-log row of one case, oldest first: who, when, what, before and after."""
    from recontact.cases.models import AuditEntry

    tz = _tz(db, settings)
    engine = open_engine(db)
    with session_scope(engine) as session:
        workflow.get_case(session, case_id)
        rows = session.scalars(select(AuditEntry).where(AuditEntry.entity == "case", AuditEntry.entity_id == case_id)
                               .order_by(AuditEntry.at, AuditEntry.id)).all()
        return [{"at": _local(r.at, tz), "actor": r.actor, "action": r.action, "before": r.before,
                 "after": r.after} for r in rows]


# -- users -------------------------------------------------------------------------------------

USER_FIELDS = ("username", "name", "email", "role", "agent_id", "supervisor", "in_pool", "capacity", "active")


def _user_row(u: User, names: dict[int, str]) -> dict[str, Any]:
    return {"username": u.username, "name": u.name, "email": u.email, "role": u.role, "agent_id": u.agent_id,
            "supervisor": names.get(u.supervisor_id) if u.supervisor_id else None, "in_pool": u.in_pool,
            "capacity": u.capacity, "active": u.active}


def list_users(db: Path) -> list[dict[str, Any]]:
    engine = open_engine(db)
    with session_scope(engine) as session:
        users = list(session.scalars(select(User).order_by(User.username)))
        names = {u.id: u.username for u in users}
        return [_user_row(u, names) for u in users]


def _valid_address(email: str) -> str:
    """``email`` normalised by ``email-validator`` (syntax only, no DNS), or CaseError saying why:
    notifications go to it, and an address with a line break would be a header injection."""
    from email_validator import EmailNotValidError, validate_email

    try:
        return str(validate_email(email.strip(), check_deliverability=False).normalized)
    except EmailNotValidError as e:
        raise CaseError(f"--email {email!r}: not an e-mail address ({e})") from None


def save_user(db: Path, username: str, *, actor: str, create: bool, name: str | None = None,
              email: str | None = None, role: str | None = None, agent_id: str | None = None,
              supervisor: str | None = None, in_pool: bool | None = None, capacity: int | None = None,
              active: bool | None = None, now: datetime | None = None) -> dict[str, Any]:
    """Add a user (``create``) or change one; every change is in the audit log."""
    from recontact.cases.models import AuditEntry

    at = _now(now)
    engine = open_engine(db)
    with session_scope(engine) as session:
        existing = session.scalar(select(User).where(User.username == username))
        if create and existing is not None:
            raise CaseError(f"user {username} exists (change it with recontact cases users set)")
        if not create and existing is None:
            workflow.get_user(session, username)
        if role is not None and session.get(Role, role) is None:
            roles = session.scalars(select(Role.name).order_by(Role.name)).all()
            raise CaseError(f"unknown role {role!r}: roles are {', '.join(roles)}")
        if capacity is not None and capacity < 1:
            raise CaseError("capacity must be at least 1")
        if email:
            email = _valid_address(email)
        names = _pairs(session.execute(select(User.id, User.username)))
        user = existing or User(username=username, name="", role=role or "liaison", in_pool=False, active=True,
                                created_at=at)
        before = None if existing is None else _user_row(existing, names)
        if agent_id is not None:
            other = session.scalar(select(User.username).where(User.agent_id == agent_id, User.username != username))
            if other:
                raise CaseError(f"agent id {agent_id} belongs to user {other}")
        boss = workflow.get_user(session, supervisor) if supervisor else None
        if boss is not None and boss.username == username:
            raise CaseError("a user cannot be their own supervisor")
        for attr, value in (("name", name), ("email", email), ("role", role), ("agent_id", agent_id or None),
                            ("in_pool", in_pool), ("capacity", capacity), ("active", active)):
            if value is not None:
                setattr(user, attr, value)
        if boss is not None:
            user.supervisor_id = boss.id
        session.add(user)
        session.flush()
        names[user.id] = user.username
        after = _user_row(user, names)
        session.add(AuditEntry(at=at, actor=actor, entity="user", entity_id=user.id,
                               action="user_added" if before is None else "user_changed", before=before,
                               after=after if before is None else {k: v for k, v in after.items()
                                                                   if before.get(k) != v}))
        return after


# -- the week's (or month's) top callers -------------------------------------------------------

def open_top(db: Path, settings: Settings, period: str, n: int, *, on: date | None = None, actor: str = "system",
             now: datetime | None = None) -> dict[str, Any]:
    """``cases open-top``: open a case for each of the top ``n`` callers of one ISO week or calendar
    month (the one holding ``on``, default: the latest contact's) who has no open case yet.
    A case per customer and period at most (running it twice opens nothing more); its rule is
    ``top-week``/``top-month``, its category the period label (``2026-W03``), its ``opened_at`` the
    customer's latest inbound contact in the period. Routed and due like flag cases."""
    from recontact.desk import open_for_reading, period_label, report_settings, top_callers

    if period not in ("week", "month"):
        raise CaseError("--period is week or month")
    at = _now(now)
    rows = top_callers(db, settings, "week" if period == "week" else "month", n)
    with open_for_reading(db, settings) as store:
        tz = ZoneInfo(report_settings(store, settings).timezone)
        latest = store.con.execute("SELECT max(started_at) FROM contacts").fetchall()[0][0]
        if latest is None:
            raise CaseError("the store holds no contacts")
        day = on or latest.astimezone(tz).date()
        start = day - timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)
        label = period_label(start, "week" if period == "week" else "month")
        chosen = [r for r in rows if r["period"] == label]
        end_day = start + timedelta(days=7) if period == "week" else (start + timedelta(days=32)).replace(day=1)
        lo, hi = datetime.combine(start, time(0), tz), datetime.combine(end_day, time(0), tz)
        last: dict[int, datetime] = {}
        for r in chosen:
            key = int(r["customer_key"][1:])
            got = store.con.execute("SELECT max(started_at) FROM contacts WHERE customer_key = ? AND direction = "
                                    "'inbound' AND started_at >= ? AND started_at < ?", [key, lo, hi]).fetchall()
            last[key] = got[0][0]
        from recontact.cases.routing import Candidate, Router, priority, store_context

        engine = open_engine(db)
        opened: list[dict[str, Any]] = []
        skipped: list[dict[str, Any]] = []
        with write_scope(engine, sync_lock=True) as session:
            router = Router(session, settings.routing)
            notices: list[CaseNotice] = []
            rule = f"top-{period}"
            for r in chosen:
                key = int(r["customer_key"][1:])
                open_case = session.scalar(select(Case.id).where(Case.customer_key == key,
                                                                 Case.state.in_(workflow.OPEN_STATES)).limit(1))
                same = session.scalar(select(Case.id).where(Case.customer_key == key, Case.rule == rule,
                                                            Case.category == label).limit(1))
                if open_case is not None or same is not None:
                    skipped.append({"customer_key": r["customer_key"], "rank": r["rank"],
                                    "case_id": open_case or same,
                                    "why": "has an open case" if open_case else f"already had a case for {label}"})
                    continue
                crossed = last[key]
                (known,) = store_context(store, [(key, crossed)])
                candidate = Candidate(key, None, crossed, int(r["contacts"]), **known)
                owner, step, why = router.route(candidate)
                case = Case(customer_key=key, rule=rule, category=label, opened_at=crossed, created_at=at,
                            source="top", state="new", owner_id=owner.id if owner else None, owner=owner,
                            routed_by=step, priority=priority(candidate, settings.routing.priority),
                            contact_count=int(r["contacts"]), due_at=workflow.due_after("new", at, settings.cases),
                            updated_at=at)
                session.add(case)
                workflow.record(session, case, actor=actor, kind="opened", at=at, before=None, to_state="new",
                                reason=f"top {n} caller of {label} (rank {r['rank']}, {r['contacts']} contacts)",
                                data={"routed_by": step, "owner": owner.username if owner else None,
                                      "not_routed": why or None})
                notices.append(workflow.notice(case, "opened", actor, at, detail={"routed_by": step}))
                if owner is not None:
                    notices.append(workflow.notice(case, "assigned", actor, at, detail={"routed_by": step}))
                opened.append({"case_id": case.id, "customer_key": r["customer_key"], "rank": r["rank"],
                               "contacts": r["contacts"], "owner": owner.username if owner else None})
            hooks.dispatch(session, notices, settings, lambda keys: store_identifiers(store, keys))
    return {"period": label, "opened": opened, "skipped": skipped}
