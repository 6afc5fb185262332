"""Webhooks: one JSON POST per notification (``httpx``).

The body is what chat tools' incoming webhooks take (Slack, Microsoft Teams, Mattermost, Rocket.Chat
read ``text``) plus structured fields for anything else that listens::

    {"text": "Case 12 opened for C34 (repeat-30d), owner: Ann Lee",
     "id": "6f1c…", "idempotency_key": "6f1c…", "notification_id": 7,
     "event": "case_opened", "subject": "…", "case": {…}, "owner": {…}}

The key is also the ``Idempotency-Key`` header. SMS / call gateways get
``{"id", "idempotency_key", "task": "sms"|"call", "to": "+1…", "text": "…", "case_id"}``.

Any 2xx is success. 408, 425, 429 and 5xx, timeouts and connection errors are worth another
attempt (a ``Retry-After`` in seconds is honoured); other 4xx are refusals for good.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from recontact import __version__
from recontact.notify.channels import Permanent, Transient
from recontact.notify.models import Notification

_RETRYABLE = {408, 425, 429}


def body_for(n: Notification) -> dict[str, Any]:
    """The JSON body of one notification."""
    common = {"id": n.key, "idempotency_key": n.key, "notification_id": n.id}
    if n.channel in ("sms", "call"):
        return {**common, "task": n.channel, "to": n.recipient, "text": n.body, "case_id": n.case_id}
    return {"text": n.body, **common, "subject": n.subject, **n.payload}


def headers_for(n: Notification, worker: str) -> dict[str, str]:
    return {"Idempotency-Key": n.key, "User-Agent": f"recontact/{__version__}", "X-Recontact-Worker": worker}


def _retry_after(response: httpx.Response) -> timedelta | None:
    value = response.headers.get("Retry-After", "").strip()
    return timedelta(seconds=int(value)) if value.isdigit() else None


def send(client: httpx.Client, url: str, n: Notification, worker: str) -> None:
    """POST the notification; return when the receiver answered 2xx."""
    try:
        response = client.post(url, json=body_for(n), headers=headers_for(n, worker))
    except httpx.HTTPError as e:  # timeouts, refused or reset connections, bad TLS
        raise Transient(f"POST {_safe(url)}: {type(e).__name__}: {e}") from None
    if response.is_success:
        return
    what = f"POST {_safe(url)}: HTTP {response.status_code} {response.text[:200].strip()}"
    if response.status_code >= 500 or response.status_code in _RETRYABLE:
        raise Transient(what, _retry_after(response))
    raise Permanent(what)


def _safe(url: str) -> str:
    """The URL without its path and query: incoming-webhook URLs carry their secret there."""
    u = httpx.URL(url)
    return f"{u.scheme}://{u.host}{f':{u.port}' if u.port else ''}/…"
