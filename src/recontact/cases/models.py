"""The operational store's tables (SQLAlchemy 2 declarative models).

Each table is created by an Alembic revision in ``migrations/versions`` (never by
``create_all``): a new table or column is a new revision, and a test checks that the models and
the migrated schema agree. Times are :class:`~recontact.cases.db.UTCDateTime` (aware, UTC).

* ``roles``: admin, supervisor, liaison, manager, senior, viewer (seeded by the first revision).
* ``users``: who can own, work or watch cases; ``agent_id`` ties a user to the agent id on
  contacts (routing to the last handling agent); ``supervisor_id`` and the liaison pool
  (``in_pool``, ``capacity``: most open cases at once) drive routing.
* ``cases``: the work on a flag: customer (a key of the DuckDB store, kept current through its
  key history), rule, category (same-category rules), ``opened_at`` (the crossing time of the
  flag that opened it), state, owner, priority, due date, escalation, resolution.
* ``case_flags``: the flag episodes attached to a case, identified by (customer_key, rule,
  category, crossed_at) — unique among live rows; ``live`` is false once re-resolution made the
  episode disappear.
* ``case_events``: the case's timeline (opened, transitions with who/when/why, assignments,
  escalations, notes, outreach, attached flags, merges).
* ``notes``, ``outreach`` (attempts and outcomes), ``audit_log`` (every change: who, when, what
  before and after).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from recontact.cases.db import UTCDateTime

EPISODE_INDEX = "uq_case_flags_episode"  # migration 0003

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Role(Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"))
    agent_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    in_pool: Mapped[bool] = mapped_column(Boolean, default=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]

    supervisor: Mapped[User | None] = relationship(remote_side=[id])


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_key: Mapped[int] = mapped_column(BigInteger, index=True)
    rule: Mapped[str] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime]  # crossing time of the flag that opened the case
    created_at: Mapped[datetime]  # when recontact made the case (wall clock)
    source: Mapped[str] = mapped_column(String(20), default="flag")  # flag | top | manual
    state: Mapped[str] = mapped_column(String(20), default="new", index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    routed_by: Mapped[str | None] = mapped_column(String(40))  # which routing step chose the owner, or why none
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    contact_count: Mapped[int] = mapped_column(Integer, default=0)  # contacts in the window at the crossing
    due_at: Mapped[datetime | None]
    escalated_to: Mapped[str | None] = mapped_column(String(20))  # senior | manager
    escalated_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution_code: Mapped[str | None] = mapped_column(String(40))
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    closed_at: Mapped[datetime | None]  # wall clock of the latest close
    updated_at: Mapped[datetime]

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    flags: Mapped[list[CaseFlag]] = relationship(back_populates="case", order_by="CaseFlag.crossed_at")

    __table_args__ = (Index("ix_cases_customer_rule_state", "customer_key", "rule", "state"),)


class CaseFlag(Base):
    __tablename__ = "case_flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    customer_key: Mapped[int] = mapped_column(BigInteger, index=True)
    rule: Mapped[str] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(200))
    crossed_at: Mapped[datetime]
    count: Mapped[int] = mapped_column(Integer)
    contact_id: Mapped[str | None] = mapped_column(String(200))
    closed_at: Mapped[datetime | None]  # when the flag episode closed (None: open at the latest contact)
    live: Mapped[bool] = mapped_column(Boolean, default=True)
    attached_at: Mapped[datetime]

    case: Mapped[Case] = relationship(back_populates="flags")

    # One live row per episode (what identifies it; category null for most rules, hence coalesce):
    # two syncs at once cannot both attach it, so neither can open a second case for it.
    __table_args__ = (Index(EPISODE_INDEX, "customer_key", "rule", text("coalesce(category, '')"), "crossed_at",
                            unique=True, sqlite_where=text("live"), postgresql_where=text("live")),)


class CaseEvent(Base):
    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any] | None]


class Note(Base):
    __tablename__ = "notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    author: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)


class Outreach(Base):
    __tablename__ = "outreach"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(20))
    outcome: Mapped[str] = mapped_column(String(30))
    detail: Mapped[str | None] = mapped_column(Text)


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(100))
    entity: Mapped[str] = mapped_column(String(20))  # case | user
    entity_id: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(30))
    before: Mapped[dict[str, Any] | None]
    after: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)


# The outbox table (``notifications``) lives with the notifications code; importing its module here
# puts it in Base.metadata, which the migrations are checked against. A plain module import, so
# that importing recontact.notify.models first works too (it imports this module for Base).
import recontact.notify.models  # noqa: E402,F401
