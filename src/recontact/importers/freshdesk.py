"""Freshdesk ticket export (Tickets → Export, CSV).

Columns by their titles in the export: ``Ticket ID`` (contact and ticket id), ``Created time``
(the start, the helpdesk's local time: pass ``--tz``), ``Source`` (Email, Portal, Phone, Chat,
Feedback Widget, Outbound Email, WhatsApp…: the channel; Outbound Email is outbound), ``Status``
(Resolved and Closed: resolved; Open, Pending and the Waiting on… statuses: not), ``Type``
(category), ``Agent``, ``Group`` (team), ``Tags`` (comma-separated), the requester's ``Full name``
(or ``Requester Name``), ``Email`` (or ``Requester Email``), ``Work phone`` / ``Mobile phone`` (or
``Phone``) and ``Contact ID`` (account). Every other column (``Subject``, ``Priority``, ``Resolved
time``, ``Closed time``, ``Survey results``, response and resolution hours…) is kept in ``extra``.
"""

from __future__ import annotations

from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan
from recontact.importers.vendor_csv import col, has_columns, present, read_header, vendor_scan

NAME = "freshdesk"
DESCRIPTION = "Freshdesk ticket export CSV: Ticket ID, Created time, Source, Status, requester's contact fields"

#: Freshdesk ``Source`` values -> canonical channels (others are kept as written, lower-cased).
SOURCES = {"email": "email", "outbound email": "email", "portal": "web", "feedback widget": "web",
           "phone": "phone", "chat": "chat", "whatsapp": "chat", "facebook": "chat", "twitter": "chat",
           "mobihelp": "web", "forum": "web", "ecommerce": "web", "bot": "chat"}
RESOLVED = ("resolved", "closed")


def sniff(path: Path, head: str) -> str | None:
    return has_columns(head, "Ticket ID", "Created time")


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    h = read_header(path, options)
    ticket, created = h.find("Ticket ID", "ID"), h.find("Created time", "Created at", "Created")
    if created is None and "started_at" not in options.column_map.values():
        raise InputFileError(f"{path}: line 1: no Created time column among {', '.join(h.names)}; "
                             "name the creation time with --map \"COLUMN=started_at\"")
    name, email = h.find("Full name", "Requester Name", "Contact name"), h.find("Email", "Requester Email")
    work, mobile = h.find("Work phone", "Phone", "Requester Phone"), h.find("Mobile phone")
    contact, agent, group = h.find("Contact ID", "Requester ID"), h.find("Agent"), h.find("Group")
    kind, tags = h.find("Type"), h.find("Tags")
    source, status = f"lower({col(h.find('Source'))})", f"lower({col(h.find('Status'))})"
    channels = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in SOURCES.items())
    select = {
        "contact_id": col(ticket),
        "started_at": col(created),
        "channel": f"CASE {source} {channels} ELSE {source} END",
        "direction": f"CASE WHEN starts_with({source}, 'outbound') THEN 'outbound' ELSE 'inbound' END",
        "phone": f"coalesce({col(work)}, {col(mobile)})",
        "email": col(email),
        "account_id": col(contact),
        "customer_name": col(name),
        "agent_id": col(agent),
        "team": col(group),
        "category": col(kind),
        "ticket_id": col(ticket),
        "resolved": f"CASE WHEN {status} IN ('resolved', 'closed') THEN 'true' WHEN {status} IS NOT NULL "
                    "THEN 'false' END",
        "tags": f"nullif(array_to_string(list_filter(list_transform(string_split({col(tags)}, ','), "
                "lambda t: trim(t)), lambda t: t <> ''), ','), '')",
    }
    # Both phone columns stay in extra when both are filled: the second is not lost.
    used = present(ticket, created, name, email, contact, agent, group, kind, tags)
    return vendor_scan(path, options, h, select, used=used)
