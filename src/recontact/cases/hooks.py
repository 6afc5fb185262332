"""What other layers are told when a case opens or changes hands — the hook the outbox uses.

Every service function that opens a case, assigns it (routing, reassignment, escalation) or
changes its state builds one :class:`CaseNotice` per change and calls :func:`dispatch` **inside
its transaction, before the commit**, with the session it writes with, the settings in force and
a lookup of the customers' identifiers. A listener writes what it
needs (e.g. notification rows of the outbox) through that same session, so the notification is
committed together with the case change, or not at all. A listener must not commit, and an
exception it raises rolls the whole change back.

Listeners are registered with :func:`register`, or named in :data:`LISTENER_MODULES`: a module
listed there is imported on first dispatch and registers its listeners at import time (so the
CLI, the API and tests get them without wiring). Notice kinds: ``opened``, ``assigned``
(``owner`` is the new owner, ``previous_owner`` the old one; also sent right after ``opened``
when routing chose an owner), ``escalated``, ``transition``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from recontact.config import Settings

#: Modules imported on first dispatch that register listeners (the outbox adds its module here).
LISTENER_MODULES: list[str] = ["recontact.notify.listener"]


@dataclass(frozen=True)
class CaseNotice:
    """One change of a case that someone may need to be told about."""

    kind: str  # opened | assigned | escalated | transition
    case_id: int
    customer_key: int
    rule: str
    category: str | None
    at: datetime  # when the change was made (wall clock, UTC)
    actor: str  # user name, or "system" for sync and routing
    owner: str | None = None  # the owner's user name after the change
    previous_owner: str | None = None
    state: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)  # e.g. {"to": "manager"} or {"from": "new", "reason": …}


#: ``listener(session, notices, settings, identifiers)``: the notices of one change, in order (an
#: import's sync may send tens of thousands at once: a listener reads what it needs in bulk);
#: ``settings`` are the ones in force (the command's ``--config``); ``identifiers`` each
#: customer's ``kind:value`` strings by customer key (empty when the contact store could not be
#: read, e.g. while an import holds it), looked up on the first call only: a listener with
#: nothing to do never pays for it.
Listener = Callable[[Session, Sequence[CaseNotice], "Settings", Callable[[], Mapping[int, Sequence[str]]]], None]
#: customer keys -> each customer's identifiers.
IdentifierLookup = Callable[[Sequence[int]], Mapping[int, Sequence[str]]]

_listeners: list[Listener] = []
_loaded: set[str] = set()


def register(listener: Listener) -> Listener:
    """Call ``listener(session, notices, settings, identifiers)`` for every batch of notices from
    now on (usable as a decorator)."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def unregister(listener: Listener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def dispatch(session: Session, notices: Sequence[CaseNotice], settings: Settings,
             identifiers: IdentifierLookup | None = None) -> None:
    """Tell every listener about ``notices``, in order, inside the caller's transaction.
    ``identifiers`` looks up the customers' identifiers (once for all notices); when it fails, the
    listeners get none rather than the case change failing."""
    for name in LISTENER_MODULES:
        if name not in _loaded:
            importlib.import_module(name)
            _loaded.add(name)
    if not notices or not _listeners:
        return
    session.flush()  # listeners see the case rows they are told about
    found: list[Mapping[int, Sequence[str]]] = []

    def known() -> Mapping[int, Sequence[str]]:
        if not found:
            try:
                found.append(identifiers(sorted({n.customer_key for n in notices})) if identifiers else {})
            except Exception:  # a busy or missing contact store never blocks a case change
                found.append({})
        return found[0]

    for listener in list(_listeners):
        listener(session, notices, settings, known)
