"""Zendesk incremental ticket export pages of any size, written after the API reference
(``GET /api/v2/incremental/tickets.json`` and ``/incremental/tickets/cursor.json``): a ticket
carries the documented keys (url, id, via, subject, description, status, requester_id, tags,
custom_fields, satisfaction_rating…); the page carries the paging keys of its variant."""

from __future__ import annotations

import json
from pathlib import Path

STATUSES = ("new", "open", "pending", "hold", "solved", "closed")
CHANNELS = ("email", "web", "voice", "chat", "api")


def ticket(n: int) -> dict[str, object]:
    """Ticket ``n`` (about 1 KB compact): requester 9000 + n % 300, created n minutes after 2026-01-05."""
    channel = CHANNELS[n % len(CHANNELS)]
    source: dict[str, object] = {"from": {}, "to": {}, "rel": None}
    if channel == "email":
        source = {"from": {"address": f"customer{n % 300}@example.com", "name": f"Customer {n % 300}"},
                  "to": {"address": "support@example.zendesk.com", "name": "Support"}, "rel": None}
    elif channel == "voice":
        source = {"from": {"phone": f"+1415555{n % 300:04d}", "name": f"Customer {n % 300}"},
                  "to": {"phone": "+18005550100"}, "rel": "inbound"}
    minute = n % 1440
    created = f"2026-01-{5 + n // 1440:02d}T{minute // 60:02d}:{minute % 60:02d}:00Z"
    return {
        "url": f"https://example.zendesk.com/api/v2/tickets/{n}.json", "id": n, "external_id": None,
        "via": {"channel": channel, "source": source}, "created_at": created, "updated_at": created,
        "generated_timestamp": 1767600000 + n, "type": "question", "subject": f"Question number {n}",
        "raw_subject": f"Question number {n}",
        "description": ("I cannot sign in since this morning; the page says my password expired. " * 5).strip(),
        "priority": "normal", "status": STATUSES[n % len(STATUSES)], "recipient": "support@example.com",
        "requester_id": 9000 + n % 300, "submitter_id": 9000 + n % 300, "assignee_id": 500 + n % 7,
        "organization_id": None, "group_id": 40 + n % 3, "collaborator_ids": [], "follower_ids": [],
        "email_cc_ids": [], "forum_topic_id": None, "problem_id": None, "has_incidents": False,
        "is_public": True, "due_at": None, "tags": ["login", f"tier{n % 3}"],
        "custom_fields": [{"id": 360001, "value": None}, {"id": 360002, "value": "plan_gold"}],
        "satisfaction_rating": {"score": "unoffered"}, "sharing_agreement_ids": [],
        "fields": [{"id": 360001, "value": None}, {"id": 360002, "value": "plan_gold"}],
        "followup_ids": [], "ticket_form_id": 360000001, "brand_id": 360000002,
        "allow_channelback": False, "allow_attachments": True, "from_messaging_channel": False,
    }


def page(first: int, count: int, cursor: bool = False) -> dict[str, object]:
    """One page of ``count`` tickets from id ``first``: time-based (``next_page``, ``end_time``,
    ``count``) or cursor-based (``after_cursor``, ``after_url``, ``before_cursor``…)."""
    tickets = [ticket(n) for n in range(first, first + count)]
    base = "https://example.zendesk.com/api/v2/incremental/tickets"
    if cursor:
        return {"tickets": tickets, "after_url": f"{base}/cursor.json?cursor=MTU3NjYxMzUzOS4wfHw0Njd8",
                "after_cursor": "MTU3NjYxMzUzOS4wfHw0Njd8", "before_url": None, "before_cursor": None,
                "end_of_stream": False}
    return {"tickets": tickets, "next_page": f"{base}.json?start_time={1767600000 + first + count}",
            "count": count, "end_of_stream": False, "end_time": 1767600000 + first + count}


def write_page(path: Path, first: int, count: int, cursor: bool = False, indent: int | None = None) -> Path:
    """Write one page as the API sends it (compact), or pretty-printed with ``indent``."""
    path.write_text(json.dumps(page(first, count, cursor), indent=indent) + "\n", encoding="utf-8")
    return path
