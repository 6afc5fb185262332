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

import json
from datetime import timedelta
from typing import Any

import httpx

from recontact import __version__
from recontact.notify.channels import Permanent, Transient, Unbuildable
from recontact.notify.channels.deadline import Deadline
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


def client(timeout: float) -> httpx.Client:
    """The worker's HTTP client: a new connection for every request, so that an attempt's
    :class:`Deadline` can guard the socket it opens."""
    return httpx.Client(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=0))


def send(client: httpx.Client, url: str, n: Notification, worker: str, deadline: Deadline | None = None) -> None:
    """POST the notification; return when the receiver answered 2xx. Each operation is bounded by
    the client's timeout; the whole request by ``deadline``, when given."""
    try:
        content = json.dumps(body_for(n)).encode()
        headers = {**headers_for(n, worker), "Content-Type": "application/json"}
    except (TypeError, ValueError) as e:
        raise Unbuildable(f"cannot build the webhook body: {e}") from None
    extensions: dict[str, Any] = {}
    if deadline is not None:
        guard = deadline.guard

        def trace(event: str, info: dict[str, Any]) -> None:
            if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
                guard(info["return_value"].get_extra_info("socket"))

        extensions["trace"] = trace
    try:
        timeout = client.timeout if deadline is None else httpx.Timeout(
            deadline.op_timeout(client.timeout.read or 10.0))
        response = client.post(url, content=content, headers=headers, timeout=timeout, extensions=extensions)
    except httpx.HTTPError as e:  # timeouts, refused or reset connections, bad TLS
        error = Transient(f"POST {_safe(url)}: {type(e).__name__}: {e}")
        raise (error if deadline is None else deadline.failure(error)) from None
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
