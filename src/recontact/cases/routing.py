"""Routing policy: who owns a new case, and its priority (``[routing]`` in ``recontact.toml``).

Steps, tried in the configured ``order``; the first that names an active user wins:

* ``last_agent``: the user whose ``agent_id`` is the agent of the customer's latest contact at or
  before the crossing (any direction, any channel).
* ``supervisor``: that agent's supervisor: ``users.supervisor_id`` when the agent is a user, else
  the ``supervisor`` of the agent in the store's agent directory (``recontact directory import
  agents``), a user by user name or agent id.
* ``account_manager``: the ``account_manager`` of the customer in the store's customer directory
  (``recontact directory import customers``), a user by user name or e-mail. Without a customer
  directory in the store this step names no one, and the case's opening event says so; the
  directory's ``monthly_revenue`` is the customer value in the priority (0 without one).
* ``pool``: the liaison pool (active users with ``in_pool``), round robin in user-id order,
  skipping members at capacity (open cases owned >= ``capacity``, else
  ``[routing] default_capacity``). The rotation continues after the pool member who got the
  latest pool-routed case.

No step: the case stays unassigned, and the opening event says why each step failed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recontact.cases.models import Case, User
from recontact.cases.settings import PriorityWeights, RoutingSettings
from recontact.rules.spec import Rule
from recontact.store.contacts import Store

NO_DIRECTORY = "no customer directory in the store (account managers unknown)"


@dataclass(frozen=True)
class Candidate:
    """What routing and priority know about a case about to open."""

    customer_key: int
    rule: Rule | None  # None: a rule no longer configured, or a top-callers case
    crossed_at: datetime
    count: int
    last_agent: str | None = None  # agent id on the customer's latest contact at or before the crossing
    last_contact_at: datetime | None = None  # the customer's latest contact in the store
    latest_at: datetime | None = None  # the store's latest contact
    revenue: float | None = None  # monthly revenue from the customer directory
    directory_supervisor: str | None = None  # the last agent's supervisor in the agent directory
    account_manager: str | None = None  # from the customer directory
    has_directory: bool = False  # the store has a customer directory


def priority(c: Candidate, weights: PriorityWeights) -> float:
    """Higher first: contact count against the threshold, customer value, recency (see PriorityWeights)."""
    threshold = c.rule.min_contacts if c.rule else 1
    score = weights.contacts * c.count / threshold
    if c.revenue:
        score += weights.value * min(10.0, c.revenue / weights.value_unit)
    if c.rule and c.last_contact_at and c.latest_at:
        age = (c.latest_at - c.last_contact_at) / c.rule.window
        score += weights.recency * max(0.0, 1.0 - age)
    return round(score, 3)


class Router:
    """Routes the cases opened in one transaction (pool load and rotation carried between calls)."""

    def __init__(self, session: Session, settings: RoutingSettings) -> None:
        self.settings = settings
        users = session.scalars(select(User).where(User.active)).all()
        self.by_id = {u.id: u for u in users}
        self.by_agent = {u.agent_id: u for u in users if u.agent_id}
        self.pool = sorted((u for u in users if u.in_pool), key=lambda u: u.id)
        self.load: dict[int, int] = {int(k or 0): int(v) for k, v in session.execute(
            select(Case.owner_id, func.count()).where(Case.state != "closed", Case.owner_id.is_not(None))
            .group_by(Case.owner_id))}
        last = session.scalar(select(Case.owner_id).where(Case.routed_by == "pool").order_by(Case.id.desc()).limit(1))
        self.last_pool = last

    def route(self, c: Candidate) -> tuple[User | None, str, list[str]]:
        """(owner or None, the step that chose, why the earlier steps did not)."""
        why: list[str] = []
        agent = self.by_agent.get(c.last_agent) if c.last_agent else None
        for step in self.settings.order:
            owner: User | None = None
            if step == "last_agent":
                owner = agent
                if owner is None:
                    missing = f"agent {c.last_agent} is not an active user" if c.last_agent else "no agent"
                    why.append(f"last_agent: {missing}")
            elif step == "supervisor":
                if agent is not None and agent.supervisor_id:
                    owner = self.by_id.get(agent.supervisor_id)
                elif c.directory_supervisor:
                    owner = self.named(c.directory_supervisor)
                if owner is None:
                    named = f" ({c.directory_supervisor} in the agent directory)" if c.directory_supervisor else ""
                    why.append(f"supervisor: the last agent has no active supervisor{named}")
            elif step == "account_manager":
                owner = self.named(c.account_manager) if c.account_manager else None
                if owner is None:
                    why.append(f"account_manager: {self._no_manager(c)}")
            elif step == "pool":
                owner = self._next_in_pool()
                if owner is None:
                    why.append("pool: no active pool member under capacity" if self.pool else "pool: the pool is empty")
            if owner is not None:
                self.load[owner.id] = self.load.get(owner.id, 0) + 1
                if step == "pool":
                    self.last_pool = owner.id
                return owner, step, why
        return None, "unassigned", why

    def named(self, name: str) -> User | None:
        """The active user a directory names: by user name, agent id or e-mail (case-insensitive)."""
        wanted = name.strip().casefold()
        for u in self.by_id.values():
            if wanted in (u.username.casefold(), (u.agent_id or "").casefold(), (u.email or "").casefold()):
                return u
        return None

    @staticmethod
    def _no_manager(c: Candidate) -> str:
        if not c.has_directory:
            return NO_DIRECTORY
        if not c.account_manager:
            return "the customer directory names no account manager for this customer"
        return f"account manager {c.account_manager} is not an active user"

    def _next_in_pool(self) -> User | None:
        if not self.pool:
            return None
        start = 0
        if self.last_pool is not None:
            after = [i for i, u in enumerate(self.pool) if u.id > self.last_pool]
            start = after[0] if after else 0
        for i in range(len(self.pool)):
            u = self.pool[(start + i) % len(self.pool)]
            if self.load.get(u.id, 0) < (u.capacity or self.settings.default_capacity):
                return u
        return None


def _tables(store: Store) -> set[str]:
    return {r[0] for r in store.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


def _utc(ts: datetime | None) -> datetime | None:
    return ts.astimezone(UTC) if ts is not None else None


def store_context(store: Store, items: Sequence[tuple[int, datetime]]) -> list[dict[str, Any]]:
    """What routing and priority need from the contact store for each (customer, crossing time):
    ``last_agent`` (agent of the customer's latest contact at or before it), ``last_contact_at``,
    ``latest_at`` (the store's latest contact), and from the directories when the store has them
    (``recontact directory import``): ``directory_supervisor``, ``account_manager``, ``revenue``.
    Keyword arguments of :class:`Candidate`, one dict per item."""
    import numpy as np

    from recontact.store.sql import registered

    if not items:
        return []
    tables = _tables(store)

    def filled(table: str) -> bool:  # the tables exist in every store of schema 8: are they filled?
        return table in tables and bool(store.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    agents = filled("directory_agents")
    customers = filled("directory_customers") and "directory_identifiers" in tables
    # The instants travel as microseconds since the epoch and become TIMESTAMPTZ in SQL.
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    eps = {"i": np.arange(len(items), dtype=np.int64),
           "customer_key": np.array([k for k, _ in items], dtype=np.int64),
           "crossed_us": np.array([(t - epoch) // timedelta(microseconds=1) for _, t in items], dtype=np.int64)}
    sup = ("(SELECT max(d.supervisor) FROM directory_agents d WHERE d.agent_id = a.agent_id)"
           if agents else "NULL")
    directory = """
            , directory AS (
                SELECT i.customer_key, max(c.account_manager) AS account_manager,
                       sum(c.monthly_revenue) AS revenue
                FROM directory_customers c
                JOIN directory_identifiers d ON d.directory = 'customers' AND d.line = c.line
                JOIN identifiers i ON i.ident = d.ident
                WHERE i.customer_key IN (SELECT customer_key FROM _case_eps)
                GROUP BY i.customer_key)""" if customers else ""
    dir_cols = "r.account_manager, r.revenue" if customers else "NULL, NULL"
    dir_join = "LEFT JOIN directory r USING (customer_key)" if customers else ""
    with registered(store.con, "_case_eps_np", eps):
        store.con.execute("CREATE OR REPLACE TEMP VIEW _case_eps AS SELECT i, customer_key, "
                          "to_timestamp(0) + to_microseconds(crossed_us) AS crossed_at FROM _case_eps_np")
        try:
            rows = store.con.execute(f"""
                WITH agents AS (
                    SELECT e.i, c.agent_id FROM _case_eps e ASOF LEFT JOIN
                        (SELECT customer_key, started_at, agent_id FROM contacts
                         WHERE agent_id IS NOT NULL AND customer_key IS NOT NULL) c
                    ON e.customer_key = c.customer_key AND e.crossed_at >= c.started_at),
                latest AS (
                    SELECT customer_key, max(started_at) AS last_at FROM contacts
                    WHERE customer_key IN (SELECT customer_key FROM _case_eps) GROUP BY customer_key){directory}
                SELECT e.i, a.agent_id, l.last_at, {sup}, {dir_cols}
                FROM _case_eps e JOIN agents a USING (i) LEFT JOIN latest l USING (customer_key) {dir_join}
                ORDER BY e.i""").fetchall()
            latest = store.con.execute("SELECT max(started_at) FROM contacts").fetchall()[0][0]
        finally:
            store.con.execute("DROP VIEW IF EXISTS _case_eps")
    return [{"last_agent": agent, "last_contact_at": _utc(last), "latest_at": _utc(latest),
             "directory_supervisor": supervisor, "account_manager": manager,
             "revenue": float(revenue) if revenue is not None else None, "has_directory": customers}
            for _, agent, last, supervisor, manager, revenue in rows]
