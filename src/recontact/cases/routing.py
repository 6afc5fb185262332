"""Routing policy: who owns a new case, and its priority (``[routing]`` in ``recontact.toml``).

Steps, tried in the configured ``order``; the first that names an active user wins:

* ``last_agent``: the user whose ``agent_id`` is the agent of the customer's latest contact at or
  before the crossing (any direction, any channel).
* ``supervisor``: that agent's supervisor (``users.supervisor_id``; the agent must be a user).
* ``account_manager``: the customer's account manager. The store has no customer directory yet
  (no account managers, no revenue): this step never names anyone, and ``route`` says so.
* ``pool``: the liaison pool (active users with ``in_pool``), round robin in user-id order,
  skipping members at capacity (open cases owned >= ``capacity``, else
  ``[routing] default_capacity``). The rotation continues after the pool member who got the
  latest pool-routed case.

No step: the case stays unassigned, and the opening event says why each step failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recontact.cases.models import Case, User
from recontact.cases.settings import PriorityWeights, RoutingSettings
from recontact.rules.spec import Rule

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
    revenue: float | None = None


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
                owner = self.by_id.get(agent.supervisor_id) if agent and agent.supervisor_id else None
                if owner is None:
                    why.append("supervisor: the last agent is not a user with an active supervisor")
            elif step == "account_manager":
                why.append(f"account_manager: {NO_DIRECTORY}")
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
