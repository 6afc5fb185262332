"""Delivery channels. Each ``send`` either returns (the receiver accepted the message) or raises
:class:`Transient` (try again later) or :class:`Permanent` (the receiver refused it for good:
dead-letter it now)."""

from __future__ import annotations

from datetime import timedelta


class DeliveryError(Exception):
    """A failed attempt; the message names the receiver's answer."""


class Transient(DeliveryError):
    """Worth another attempt (timeout, connection refused, 4xx SMTP reply, HTTP 5xx / 429 / 408).
    ``retry_after``: the receiver's own wish (HTTP ``Retry-After``), if it said."""

    def __init__(self, message: str, retry_after: timedelta | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Permanent(DeliveryError):
    """Will fail again however often it is tried (5xx SMTP reply, HTTP 4xx such as 404)."""


class Unbuildable(Permanent):
    """The notification cannot be turned into a message at all (e.g. a recipient address with a
    line break): no attempt can succeed, so it is dead-lettered with the reason."""
