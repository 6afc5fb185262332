"""Cases from flag episodes: open a case at each new episode, or attach it to the open one.

An episode is identified by (customer_key, rule, category, crossed_at). For the customers asked
about (those an import touched, or everyone), :func:`sync` computes their episodes from the
DuckDB store (the one flag definition, ``rules/batch.py``) and, oldest crossing first:

* an episode already attached to a case is refreshed (count, ``closed_at``);
* a new episode is attached to the customer's open case for the rule (and category, for a
  same-category rule) when there is one — any state but ``closed`` — else it opens a new case
  whose ``opened_at`` is its crossing time; routing picks the owner, the SLA the due date;
* but only a new episode in the :class:`Window` becomes work: still open at the store's latest
  contact L, or crossed after L - ``[cases] open_within``; older ones stay history (``since``
  opens them on purpose, their notices held unless ``notify``).

Identity follows the store's key history: before anything else, cases and attached episodes of a
key that no longer exists move to the key it lives on as (``current_key``: merges; a split keeps
the key). When a merge leaves one customer with two open cases for one rule (and category), the
later-opened one is closed as ``duplicate`` (``merged_into_id``) and its episodes move to the
earlier. An attached episode that no longer exists (re-resolution moved its contacts) stays on
the case with ``live`` false, and the case's ``opened_at`` becomes its earliest live episode's
crossing. The open cases of a key that identifies no one any more (its contacts were removed)
are closed (``customer_gone``).

Everything is one transaction of the cases store, under the sync lock (``db.write_scope``); a
unique index keeps one live ``case_flags`` row per episode; listeners (:mod:`recontact.cases.hooks`) are
told about each opened and assigned case inside it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from sqlalchemy import JSON, func, select, update
from sqlalchemy.orm import Session

from recontact.cases import hooks
from recontact.cases.hooks import CaseNotice
from recontact.cases.models import AuditEntry, Case, CaseEvent, CaseFlag
from recontact.cases.routing import Candidate, Router, priority, store_context
from recontact.cases.workflow import OPEN_STATES, SYSTEM, due_after, snapshot
from recontact.config import Settings
from recontact.rules.spec import Rule
from recontact.store.contacts import Store

GroupKey = tuple[int, str, str | None]  # customer, rule, category (None unless a same-category rule)
EpisodeId = tuple[int, str, str | None, datetime]
_CHUNK = 900  # keys per IN list (SQLite allows 32766 parameters; stay well below)
_WHOLESALE = 5 * _CHUNK  # more keys than this: read every case and filter in Python
_OPEN_SLICE = 10_000  # new cases routed and written at a time
GONE_CODE = "customer_gone"  # the resolution of a case closed because its customer has no contact left
GONE_REASON = "customer {key} has no contact left in the store"


@dataclass(frozen=True, slots=True)
class Episode:
    """One flag episode, as ``rules/batch.py`` computes it (times aware, UTC)."""

    customer_key: int
    rule: str
    category: str | None
    crossed_at: datetime
    count: int
    contact_id: str | None
    closed_at: datetime | None

    @property
    def ident(self) -> EpisodeId:
        return (self.customer_key, self.rule, self.category, self.crossed_at)


@dataclass
class SyncSummary:
    """What one sync did (counts of episodes and cases)."""

    customers: int | None = None  # customers evaluated (None: all)
    episodes: int = 0  # episodes of those customers
    opened: int = 0  # cases opened
    attached: int = 0  # episodes attached to an open case
    refreshed: int = 0  # attached episodes whose count or closing changed
    gone: int = 0  # attached episodes that no longer exist
    rekeyed: int = 0  # cases moved to the key their customer lives on as
    merged: int = 0  # duplicate open cases closed into another after a merge
    closed: int = 0  # open cases closed because their customer has no contact left
    reopened: int = 0  # such cases reopened: the same contacts were imported again
    history: int = 0  # new episodes left as history: closed, and crossed before the window (open_within)
    held: int = 0  # cases opened from history (``since``) whose notices were held
    notices: list[CaseNotice] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "notices"}


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _instant(epoch_us: int) -> datetime:
    """The UTC instant ``epoch_us`` microseconds after the epoch."""
    return _EPOCH + timedelta(microseconds=epoch_us)


def recent_callers(store: Store, rules: Sequence[Rule], work: Window) -> set[int] | None:
    """A superset of the customers who may have an episode in ``work`` (None: everyone may): an
    episode still open at the latest contact L has at least the rule's ``min_contacts`` in the
    rule's window before L, one that crossed after ``work.after`` has them in the window before
    its crossing; so every such customer has that many contacts after ``work.after`` less twice
    the longest window. One cheap count, so that the episode query runs on those customers'
    contacts only (a year at 1M contacts: 9k of 526k customers, 15% of the contacts)."""
    if work.after is None or work.since is not None or not rules:
        return None
    cutoff = work.after - 2 * max(r.window for r in rules)
    least = min(r.min_contacts for r in rules)
    rows = store.con.execute(
        "SELECT customer_key FROM contacts WHERE customer_key IS NOT NULL AND started_at > ? "
        "GROUP BY customer_key HAVING count(*) >= ?", [cutoff, least]).fetchnumpy()["customer_key"]
    return set(rows.tolist())


def store_episodes(store: Store, rules: Sequence[Rule], customers: Iterable[int] | None, *,
                   narrow: bool = False) -> list[Episode]:
    """Every flag episode of ``rules`` for ``customers`` (None: everyone), oldest crossing first.

    The one flag definition (``rules/batch.py``), compiled once by Ibis and then answered from the
    compiled-SQL cache (engines/compiled.py): an import must not pay Ibis' compile time. The
    customers are a temporary table the compiled SQL joins to (when few, or ``narrow``: a small
    share of the store's contacts)."""
    import json

    from recontact.engines.compiled import cached_sql

    if not rules:
        return []
    con = store.con
    wanted = customers if customers is None or isinstance(customers, set) else set(customers)
    # Many customers (a first import touches them all): every episode, filtered here, costs the
    # same query without a join to a table of keys.
    narrowed = wanted is not None and (narrow or len(wanted) <= _WHOLESALE)
    if narrowed:
        import numpy as np

        from recontact.store.sql import registered

        with registered(con, "_case_keys", {"customer_key": np.array(sorted(wanted or ()), dtype=np.int64)}):
            con.execute("CREATE OR REPLACE TEMP TABLE _case_customers AS SELECT customer_key FROM _case_keys")

    def build() -> str:
        from recontact.engines.duckdb import set_timezone
        from recontact.metrics.contacts import countable_inbound
        from recontact.rules.batch import flags, latest_contact

        backend = store.ibis()
        contacts = backend.table("contacts")
        counted = countable_inbound(contacts)
        if narrowed:
            wanted = backend.table("_case_customers", database="temp")
            counted = counted.filter(counted.customer_key.isin(wanted.customer_key))
        expr = flags(counted, rules, latest_contact(contacts)).order_by(
            ["crossed_at", "rule", "customer_key", "category"])
        sql = str(backend.compile(expr))
        set_timezone(con, "UTC")
        return sql

    inputs = json.dumps([[r.model_dump_json() for r in rules], narrowed])
    sql = cached_sql("case-episodes", inputs, build)
    # Instants as microseconds since the epoch: DuckDB makes a zoned datetime of each TIMESTAMPTZ
    # in the session's zone (~5 µs each; 560k of them at 10M contacts), timedelta arithmetic is faster.
    sql = (f"SELECT * REPLACE (epoch_us(crossed_at) AS crossed_at, epoch_us(closed_at) AS closed_at) FROM ({sql}) "
           "ORDER BY crossed_at, rule, customer_key, category")
    try:  # fetched as columns (280k episodes at 10M contacts: no dict per row)
        cols = {name: values.tolist() for name, values in con.execute(sql).fetchnumpy().items()}
        return [Episode(key, rule, category, _instant(crossed), count, contact_id,
                        _instant(closed) if closed is not None else None)
                for key, rule, category, crossed, count, contact_id, closed in zip(
                    *(cols[f.name] for f in fields(Episode)), strict=True)
                if wanted is None or key in wanted]
    finally:
        if narrowed:
            con.execute("DROP TABLE IF EXISTS _case_customers")


def touched_customers(store: Store, import_id: int, history_from: int) -> set[int]:
    """Customers an import touched: the keys of the contacts it added, and every key named by the
    key-history rows it wrote (rows ``history_from`` on, in insertion order)."""
    keys = set(store.con.execute(  # NumPy, not a list of tuples: an import may touch millions of customers
        "SELECT DISTINCT customer_key FROM contacts WHERE import_id = ? AND customer_key IS NOT NULL",
        [import_id]).fetchnumpy()["customer_key"].tolist())
    history = store.con.execute("SELECT old_key, new_key FROM key_history ORDER BY rowid OFFSET ?", [history_from])
    for old, new in history.fetchall():
        keys.add(int(old))
        if new is not None:
            keys.add(int(new))
    return keys


def _existing_keys(store: Store, keys: Sequence[int]) -> set[int]:
    if not keys:
        return set()
    rows = store.con.execute("SELECT DISTINCT customer_key FROM identifiers WHERE customer_key IN "
                             "(SELECT unnest($keys))", {"keys": list(keys)}).fetchall()
    return {int(k) for (k,) in rows}


def _rekey(session: Session, store: Store, at: datetime, summary: SyncSummary, gone_reason: str) -> set[int]:
    """Move cases and attached episodes of keys that no longer exist to their current key, and
    close the open cases of customers left with no contacts at all (``gone_reason``, with the
    customer key put in for ``{key}``, says why in the timeline and audit); returns the keys
    cases moved to."""
    from recontact.store.identities import current_key

    keys = sorted(set(session.scalars(select(Case.customer_key).distinct()))
                  | set(session.scalars(select(CaseFlag.customer_key).distinct())))
    gone = sorted(set(keys) - _existing_keys(store, keys))
    targets: set[int] = set()
    for old in gone:
        new = current_key(store, old)
        if new is None:
            _close_gone(session, old, at, gone_reason.format(key=f"C{old}"), summary)
            continue
        if new == old:
            continue
        targets.add(new)
        for case in session.scalars(select(Case).where(Case.customer_key == old)):
            before = snapshot(case)
            case.customer_key = new
            case.updated_at = at
            _event(session, case, "rekeyed", at, before, data={"from": old, "to": new},
                   reason=f"customer C{old} now lives on as C{new}")
            summary.rekeyed += 1
        _retire_doubles(session, old, new)
        session.execute(update(CaseFlag).where(CaseFlag.customer_key == old).values(customer_key=new))
    return targets


def _retire_doubles(session: Session, old: int, new: int) -> None:
    """Before the live episodes of key ``old`` move to key ``new``: those ``new`` already has live
    (same rule, category and crossing) become not live, so that one episode stays one live row."""
    def idents(key: int) -> dict[tuple[str, str | None, datetime], CaseFlag]:
        return {(f.rule, f.category, f.crossed_at): f
                for f in session.scalars(select(CaseFlag).where(CaseFlag.customer_key == key, CaseFlag.live))}

    there = idents(new)
    for ident, f in idents(old).items():
        if ident in there:
            f.live = False
    session.flush()


def _close_gone(session: Session, key: int, at: datetime, reason: str, summary: SyncSummary) -> None:
    """Close the open cases of customer ``key``, who has no contact left in the store (their
    import was removed): resolution ``customer_gone``; the timeline and audit say why."""
    for case in session.scalars(select(Case).where(Case.customer_key == key, Case.state.in_(OPEN_STATES))):
        before = snapshot(case)
        case.state, case.resolution_code = "closed", GONE_CODE
        case.closed_at = case.updated_at = at
        case.due_at = None
        _event(session, case, "transition", at, before, reason=reason, data={"resolution_code": GONE_CODE},
               from_state=before["state"], to_state="closed")
        summary.closed += 1


def _event(session: Session, case: Case, kind: str, at: datetime, before: dict[str, Any] | None, *,
           reason: str | None = None, data: dict[str, Any] | None = None, from_state: str | None = None,
           to_state: str | None = None) -> None:
    from recontact.cases.workflow import record

    record(session, case, actor=SYSTEM, kind=kind, at=at, before=before, reason=reason, data=data,
           from_state=from_state, to_state=to_state)


def _chunks(keys: Sequence[int]) -> Iterable[Sequence[int]]:
    for i in range(0, len(keys), _CHUNK):
        yield keys[i:i + _CHUNK]


def _load(session: Session, keys: set[int] | None) -> tuple[list[Case], list[CaseFlag]]:
    """Open cases and attached episodes of ``keys`` (None: everyone)."""
    open_q = select(Case).where(Case.state.in_(OPEN_STATES))
    flag_q = select(CaseFlag)
    if keys is None:
        return list(session.scalars(open_q)), list(session.scalars(flag_q))
    if len(keys) > _WHOLESALE:  # one query each beats many IN lists
        return ([c for c in session.scalars(open_q) if c.customer_key in keys],
                [f for f in session.scalars(flag_q) if f.customer_key in keys])
    cases: list[Case] = []
    flags: list[CaseFlag] = []
    for part in _chunks(sorted(keys)):
        cases += session.scalars(open_q.where(Case.customer_key.in_(part)))
        flags += session.scalars(flag_q.where(CaseFlag.customer_key.in_(part)))
    return cases, flags


def _merge_duplicates(session: Session, open_cases: list[Case], flags: list[CaseFlag], at: datetime,
                      summary: SyncSummary) -> dict[GroupKey, Case]:
    """One open case per group: later-opened duplicates are closed into the earliest."""
    groups: dict[GroupKey, list[Case]] = defaultdict(list)
    for case in open_cases:
        groups[(case.customer_key, case.rule, case.category)].append(case)
    by_case: dict[int, list[CaseFlag]] = defaultdict(list)
    for f in flags:
        by_case[f.case_id].append(f)
    kept: dict[GroupKey, Case] = {}
    for key, cases in groups.items():
        cases.sort(key=lambda c: (c.opened_at, c.id))
        keeper = kept[key] = cases[0]
        for dup in cases[1:]:
            before = snapshot(dup)
            for f in by_case.get(dup.id, []):
                f.case_id = keeper.id
            dup.state, dup.resolution_code, dup.merged_into_id = "closed", "duplicate", keeper.id
            dup.closed_at = dup.updated_at = at
            dup.due_at = None
            _event(session, dup, "merged", at, before, reason=f"same customer as case {keeper.id} after a merge",
                   data={"into": keeper.id})
            summary.merged += 1
    return kept


@dataclass(frozen=True)
class Window:
    """Which new episodes become work: those still open at the store's latest contact, or that
    crossed after ``after`` (the latest contact less ``[cases] open_within``); ``since`` (None:
    none) opens older ones on purpose, with their notices held unless ``notify``."""

    after: datetime | None  # None: every episode (an empty store)
    since: datetime | None = None
    notify: bool = False

    def admits(self, ep: Episode) -> bool:
        return ep.closed_at is None or self.after is None or ep.crossed_at > self.after or self.backfill(ep)

    def backfill(self, ep: Episode) -> bool:
        """Whether ``ep`` is work only because of ``since``."""
        return (self.since is not None and ep.crossed_at >= self.since and ep.closed_at is not None
                and self.after is not None and ep.crossed_at <= self.after)


def window(store: Store, settings: Settings, since: datetime | None = None, notify: bool = False) -> Window:
    """The :class:`Window` of the store's latest contact and ``[cases] open_within``."""
    latest = store.con.execute("SELECT epoch_us(max(started_at)) FROM contacts").fetchall()[0][0]
    after = None if latest is None else _instant(int(latest)) - settings.cases.open_within
    return Window(after, since, notify)


def _episodes(store: Store, rules: Sequence[Rule], keys: set[int] | None, work: Window,
              attached: Sequence[CaseFlag]) -> list[Episode]:
    """The episodes a sync needs: every episode of ``keys`` (None: everyone) that may be in the
    window (:func:`recent_callers`) or belongs to a customer with attached episodes (refreshed, or
    found gone). Evaluating few customers, or a window covering most, evaluates ``keys`` whole."""
    if keys is not None and len(keys) <= _WHOLESALE:
        return store_episodes(store, rules, keys)
    recent = recent_callers(store, rules, work)
    if recent is None:
        return store_episodes(store, rules, keys)
    wanted = recent | {f.customer_key for f in attached}
    if keys is not None:
        wanted &= keys
    return store_episodes(store, rules, wanted, narrow=True)


def sync(session: Session, store: Store, settings: Settings, customers: Iterable[int] | None = None, *,
         at: datetime, since: datetime | None = None, notify: bool = False,
         gone_reason: str = GONE_REASON) -> SyncSummary:
    """Bring the cases of ``customers`` (None: everyone; a set is extended in place) up to date with
    their flag episodes; see the module docstring. ``at``: the wall-clock instant recorded on every
    change (UTC). New episodes outside the :class:`Window` stay history; ``since`` and ``notify``
    widen it (``recontact cases sync --since DAY [--notify]``)."""
    summary = SyncSummary()
    moved = _rekey(session, store, at, summary, gone_reason)
    keys = None if customers is None else (customers if isinstance(customers, set) else set(customers))
    if keys is not None:
        keys |= moved
    summary.customers = None if keys is None else len(keys)
    rules = {r.name: r for r in settings.rules}
    work = window(store, settings, since, notify)
    open_cases, attached = _load(session, keys)
    episodes = _episodes(store, settings.rules, keys, work, attached)
    summary.episodes = len(episodes)
    groups = _merge_duplicates(session, open_cases, attached, at, summary)
    # One live row per episode (a unique index): a not-live twin never comes back to life.
    known = {(f.customer_key, f.rule, f.category, f.crossed_at): f for f in sorted(attached, key=lambda f: f.live)}
    seen: set[EpisodeId] = set()
    fresh: list[Episode] = []  # the episodes that open a case, one per group at most
    opening: set[GroupKey] = set()
    attach: list[tuple[GroupKey, Episode]] = []
    returning = _returning(session) if episodes else {}
    for ep in episodes:
        seen.add(ep.ident)
        f = _revive(session, returning, groups, ep, at, summary, settings) or known.get(ep.ident)
        if f is not None:
            if (f.count, f.closed_at, f.contact_id, f.live) != (ep.count, ep.closed_at, ep.contact_id, True):
                f.count, f.closed_at, f.contact_id, f.live = ep.count, ep.closed_at, ep.contact_id, True
                summary.refreshed += 1
            continue
        if not work.admits(ep):
            summary.history += 1
            continue
        group = (ep.customer_key, ep.rule, ep.category)
        if group in groups or group in opening:
            attach.append((group, ep))
        else:
            opening.add(group)
            fresh.append(ep)
    for f in attached:
        if f.live and (f.customer_key, f.rule, f.category, f.crossed_at) not in seen:
            f.live = False
            summary.gone += 1
    session.flush()  # rows no longer live before rows live again (one live row per episode)
    case_of: dict[GroupKey, int] = {g: c.id for g, c in groups.items()}
    case_of |= _open(session, store, settings, fresh, rules, at, summary, work)
    if attach:
        _insert(session, CaseFlag, [_flag_row(case_of[g], ep, at) for g, ep in attach])
        summary.attached = len(attach)
    session.flush()
    _refresh_opened_at(session, [c for c in groups.values()], at)
    hooks.dispatch(session, summary.notices, settings, lambda keys: store_identifiers(store, keys))
    return summary


def _returning(session: Session) -> dict[tuple[str, str | None, datetime, str | None], CaseFlag]:
    """The episodes of cases closed because their customer had no contact left (an import was
    removed), by what names the episode whatever the customer's key: rule, category, crossing and
    the crossing contact's id. Importing the same contacts again brings them back."""
    rows = session.scalars(select(CaseFlag).join(Case, CaseFlag.case_id == Case.id)
                           .where(Case.state == "closed", Case.resolution_code == GONE_CODE))
    return {(f.rule, f.category, f.crossed_at, f.contact_id): f for f in rows if f.contact_id is not None}


def _revive(session: Session, returning: dict[tuple[str, str | None, datetime, str | None], CaseFlag],
            groups: dict[GroupKey, Case], ep: Episode, at: datetime, summary: SyncSummary,
            settings: Settings) -> CaseFlag | None:
    """When ``ep`` is an episode of a case closed as ``customer_gone`` (the same contacts imported
    again after their import was removed), that case — not a new one — takes it: moved to the
    customer's key now, reopened as ``new`` (due from now), the episode live again. Returns its
    case flag (None: not such an episode, or the customer has an open case for the group)."""
    f = returning.pop((ep.rule, ep.category, ep.crossed_at, ep.contact_id), None)
    if f is None:
        return None
    group = (ep.customer_key, ep.rule, ep.category)
    case = f.case
    if groups.get(group) is case:  # reopened by an earlier episode of this sync
        f.customer_key = ep.customer_key
        return f
    if group in groups:
        return None
    before = snapshot(case)
    old = case.customer_key
    if old != ep.customer_key:
        case.customer_key = ep.customer_key
        session.execute(update(CaseFlag).where(CaseFlag.case_id == case.id).values(customer_key=ep.customer_key))
    case.state, case.resolution_code, case.closed_at = "new", None, None
    case.due_at = due_after("new", at, settings.cases)
    case.updated_at = at
    f.customer_key = ep.customer_key
    _event(session, case, "reopened", at, before, from_state="closed", to_state="new",
           reason=f"the customer's contacts were imported again (as C{ep.customer_key}, was C{old})",
           data={"from": old, "to": ep.customer_key})
    groups[group] = case
    summary.reopened += 1
    return f


def store_identifiers(store: Store, keys: Sequence[int]) -> dict[int, list[str]]:
    """Each customer's ``kind:value`` identifiers, read from an open contact store (the order of
    ``desk.identifiers_of``: phones, extensions, e-mails, accounts, employee ids)."""
    from recontact.schema import IDENTIFIER_KINDS

    if not keys:
        return {}
    rank = {kind: i for i, kind in enumerate(IDENTIFIER_KINDS)}
    out: dict[int, list[str]] = {}
    rows = store.con.execute("SELECT customer_key, ident FROM identifiers WHERE customer_key IN "
                             "(SELECT unnest($keys))", {"keys": sorted(set(keys))}).fetchall()
    for key, ident in rows:
        out.setdefault(int(key), []).append(ident)
    for idents in out.values():
        idents.sort(key=lambda i: (rank.get(i.partition(":")[0], len(rank)), i))
    return out


def _flag_row(case_id: int, ep: Episode, at: datetime) -> dict[str, Any]:
    return {"case_id": case_id, "customer_key": ep.customer_key, "rule": ep.rule, "category": ep.category,
            "crossed_at": ep.crossed_at, "count": ep.count, "contact_id": ep.contact_id, "closed_at": ep.closed_at,
            "live": True, "attached_at": at}


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``model``'s table as one DBAPI executemany on
    the session's connection. Each value goes through its column type's own bind processor, as
    SQLAlchemy would send it; only SQLAlchemy's per-row statement machinery is skipped (an import
    opening 40k cases writes 160k rows: 7 s through Core). Built column by column with ``map``: a
    Python step per row and column is most of the cost at that size."""
    if not rows:
        return
    conn = session.connection()
    dialect = conn.dialect
    table = model.__table__
    names = list(rows[0])
    mark = "?" if dialect.paramstyle == "qmark" else "%s"  # SQLite; psycopg (format and pyformat)
    quote = dialect.identifier_preparer
    sql = (f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)}) "
           f"VALUES ({', '.join(mark for _ in names)})")
    columns = []
    for name in names:
        values = list(map(itemgetter(name), rows))
        bind = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if bind is not None and values.count(values[0]) == len(values):  # the sync's instant on every row
            values = [bind(values[0])] * len(values)
        elif bind is not None:
            # JSON values are dicts and lists: they cannot be remembered
            values = list(map(bind if isinstance(table.c[name].type, JSON) else _memo(bind), values))
        columns.append(values)
    conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))


def _memo(bind: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``bind`` remembering its results: most values of a column repeat (the sync's own instant on
    every row, one due date)."""
    seen: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = out = bind(value)
            return out

    return cached


def _insert_cases(session: Session, rows: list[dict[str, Any]], at: datetime) -> list[int]:
    """Insert new cases, one per (customer_key, rule, category) group with no open case, and
    return their ids in the order of ``rows``. Read back by group among the cases created at
    ``at`` rather than with RETURNING: SQLAlchemy cannot batch an ordered RETURNING on SQLite
    and sends one statement per row (17k cases: 8 s)."""
    if not rows:
        return []
    before = session.scalar(select(func.coalesce(func.max(Case.id), 0)))
    _insert(session, Case, rows)
    made = session.execute(select(Case.id, Case.customer_key, Case.rule, Case.category)
                           .where(Case.id > before, Case.created_at == at, Case.source == "flag", Case.state == "new"))
    by_group = {(int(k), r, c): int(i) for i, k, r, c in made}
    return [by_group[(r["customer_key"], r["rule"], r["category"])] for r in rows]


def _open(session: Session, store: Store, settings: Settings, fresh: Sequence[Episode], rules: dict[str, Rule],
          at: datetime, summary: SyncSummary, work: Window) -> dict[GroupKey, int]:
    """Open one case per episode of ``fresh`` (routed, prioritised, due), in crossing order."""
    if not fresh:
        return {}
    router = Router(session, settings.routing)
    due = due_after("new", at, settings.cases)
    context = store_context(store, [(ep.customer_key, ep.crossed_at) for ep in fresh])  # one pass over the store
    opened: dict[GroupKey, int] = {}
    # In slices: an import opening 180k cases never holds all their rows, events and audits at once.
    for i in range(0, len(fresh), _OPEN_SLICE):
        part = slice(i, i + _OPEN_SLICE)
        opened |= _open_slice(session, settings, fresh[part], context[part], rules, at, due, router, summary, work)
    return opened


def _open_slice(session: Session, settings: Settings, fresh: Sequence[Episode], context: Sequence[dict[str, Any]],
                rules: dict[str, Rule], at: datetime, due: datetime | None, router: Router,
                summary: SyncSummary, work: Window) -> dict[GroupKey, int]:
    """``_open`` for some of the episodes, in crossing order (``router`` carries on between slices)."""
    rows = []
    routes = []
    for ep, known in zip(fresh, context, strict=True):
        candidate = Candidate(ep.customer_key, rules.get(ep.rule), ep.crossed_at, ep.count, **known)
        owner, step, why = router.route(candidate)
        routes.append((owner, step, why, candidate.last_agent))
        rows.append({"customer_key": ep.customer_key, "rule": ep.rule, "category": ep.category,
                     "opened_at": ep.crossed_at, "created_at": at, "source": "flag", "state": "new",
                     "owner_id": owner.id if owner else None, "routed_by": step,
                     "priority": priority(candidate, settings.routing.priority), "contact_count": ep.count,
                     "due_at": due, "updated_at": at})
    ids = _insert_cases(session, rows, at)
    _insert(session, CaseFlag, [_flag_row(i, ep, at) for i, ep in zip(ids, fresh, strict=True)])
    events, audits = [], []
    due_text = due.isoformat() if due is not None else None
    for case_id, ep, row, (owner, step, why, agent) in zip(ids, fresh, rows, routes, strict=True):
        data = {"routed_by": step, "owner": owner.username if owner else None, "last_agent": agent,
                "not_routed": why or None, "priority": row["priority"]}
        held = work.backfill(ep) and not work.notify
        if work.backfill(ep):
            data["backfill"] = {"since": work.since.isoformat() if work.since else None, "notices_held": held}
        events.append({"case_id": case_id, "at": at, "actor": SYSTEM, "kind": "opened", "from_state": None,
                       "to_state": "new", "reason": f"flag {row['rule']} crossed", "data": data})
        after = {"customer_key": row["customer_key"], "rule": row["rule"], "category": row["category"],
                 "opened_at": ep.crossed_at.isoformat(), "state": "new", "priority": row["priority"],
                 "due_at": due_text, "owner": owner.username if owner else None}
        audits.append({"at": at, "actor": SYSTEM, "entity": "case", "entity_id": case_id, "action": "opened",
                       "before": None, "after": after})
        if held:
            summary.held += 1
            continue
        notice = dict(case_id=case_id, customer_key=row["customer_key"], rule=row["rule"],
                      category=row["category"], at=at, actor=SYSTEM, state="new",
                      owner=owner.username if owner else None)
        summary.notices.append(CaseNotice(kind="opened", detail={"routed_by": step}, **notice))  # type: ignore[arg-type]
        if owner is not None:
            summary.notices.append(CaseNotice(kind="assigned", detail={"routed_by": step}, **notice))  # type: ignore[arg-type]
    _insert(session, CaseEvent, events)
    _insert(session, AuditEntry, audits)
    summary.opened += len(ids)
    return {(ep.customer_key, ep.rule, ep.category): i for i, ep in zip(ids, fresh, strict=True)}


def _refresh_opened_at(session: Session, cases: Sequence[Case], at: datetime) -> None:
    """A case's ``opened_at`` is its earliest live episode's crossing (a merge may reveal an earlier one)."""
    ids = [c.id for c in cases]
    first: dict[int, datetime] = {}
    for part in _chunks(ids):
        first |= {k: v for k, v in session.execute(select(CaseFlag.case_id, func.min(CaseFlag.crossed_at))
                                      .where(CaseFlag.case_id.in_(part), CaseFlag.live)
                                      .group_by(CaseFlag.case_id))}
    for case in cases:
        earliest = first.get(case.id)
        if earliest is not None and earliest != case.opened_at:
            before = snapshot(case)
            case.opened_at = earliest
            case.updated_at = at
            _event(session, case, "opening_flag", at, before,
                   reason="the flag that opens this case changed after customers were re-resolved")
