"""The outbox table: one row per message to send, written in the transaction of the change that
causes it, and delivered later by ``recontact worker``.

A row's life: ``pending`` (due at ``next_attempt_at``) -> ``sending`` (claimed by one worker
until ``lease_until``) -> ``delivered``, or back to ``pending`` with a later ``next_attempt_at``
after a failed attempt, or ``dead`` after ``max_attempts`` failures or a permanent refusal. A
``sending`` row whose lease has expired (its worker died) is due again. Times are UTC.

The table belongs to the operational store (``recontact.cases.models.Base``); Alembic revision
``0002_outbox`` creates it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from recontact.cases.models import Base

PENDING, SENDING, DELIVERED, DEAD = "pending", "sending", "delivered", "dead"
STATES = (PENDING, SENDING, DELIVERED, DEAD)


class Notification(Base):
    """One message to one recipient over one channel."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: Sent as the ``Idempotency-Key`` header and in the body (e-mail: ``Message-ID`` and a header):
    #: a receiver that sees one key twice drops the second copy.
    key: Mapped[str] = mapped_column(String(36), unique=True)
    event: Mapped[str] = mapped_column(String(40))  # case_opened, case_assigned, case_escalated, customer_told
    audience: Mapped[str] = mapped_column(String(16))  # owner, channel (a chat room), customer
    channel: Mapped[str] = mapped_column(String(16))  # email, webhook, sms, call
    recipient: Mapped[str] = mapped_column(String(320))  # address, phone number, or "webhook"
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]]  # structured fields of the webhook body
    state: Mapped[str] = mapped_column(String(12), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    lease_token: Mapped[str | None] = mapped_column(String(32))
    worker: Mapped[str | None] = mapped_column(String(80))  # the worker holding it, or that delivered it
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_notifications_due", "state", "next_attempt_at"),)
