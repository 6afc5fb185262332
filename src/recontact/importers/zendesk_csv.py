"""Zendesk tickets exported as CSV (Reporting → Export → CSV, or a view exported as CSV): part of
``--source zendesk``, chosen when the file does not start with ``{``.

Columns by their titles in the export: ``Id`` (ticket id, contact id), ``Created at`` (else
``Created``/``Requested``), ``Requester`` (name), ``Requester id`` (account), ``Requester email``,
``Requester phone``, ``Via`` (channel), ``Assignee`` (agent), ``Group`` (team), ``Ticket type`` (else
``Type``: category), ``Status`` (Solved/Closed: resolved), ``Satisfaction Score`` (Good 1, Bad 0),
``Tags`` (space-separated in the export; stored comma-separated). Every other column (``Solved at``,
``Subject``, ``Priority``, ``Organization``, reply and resolution times…) is kept in ``extra``.
"""

from __future__ import annotations

from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan
from recontact.importers.vendor_csv import col, has_columns, present, read_header, vendor_scan

#: Words in the export's ``Via`` column -> canonical channels (checked in this order).
VIA_WORDS = (("mail", "email"), ("voice", "phone"), ("phone", "phone"), ("call", "phone"),
             ("chat", "chat"), ("messag", "chat"), ("sms", "chat"), ("whatsapp", "chat"), ("facebook", "chat"),
             ("twitter", "chat"), ("web", "web"), ("widget", "web"), ("help center", "web"), ("api", "web"),
             ("mobile", "web"))


def sniff(head: str) -> str | None:
    return (has_columns(head, "Id", "Requester", "Created at") or has_columns(head, "Id", "Requester", "Requested")
            or has_columns(head, "Id", "Requester", "Via"))


def scan(path: Path, options: ImportOptions) -> Scan:
    h = read_header(path, options)
    ticket = h.find("Id", "Ticket ID", "ID")
    created = h.find("Created at", "Created", "Requested")
    if created is None and "started_at" not in options.column_map.values():
        raise InputFileError(f"{path}: line 1: no Created at column among {', '.join(h.names)}; "
                             "name the creation time with --map \"COLUMN=started_at\"")
    name, account, email = h.find("Requester"), h.find("Requester id"), h.find("Requester email")
    phone, agent, group = h.find("Requester phone"), h.find("Assignee"), h.find("Group")
    kind, tags, score = h.find("Ticket type", "Type"), h.find("Tags"), h.find("Satisfaction Score", "Satisfaction")
    via, status = col(h.find("Via")), f"lower({col(h.find('Status'))})"
    channel = " ".join(f"WHEN contains(lower({via}), '{word}') THEN '{c}'" for word, c in VIA_WORDS)
    select = {
        "contact_id": col(ticket),
        "started_at": col(created),
        "channel": f"CASE {channel} ELSE lower({via}) END",
        "direction": "'inbound'",
        "phone": col(phone),
        "email": col(email),
        "account_id": col(account),
        "customer_name": col(name),
        "agent_id": col(agent),
        "team": col(group),
        "category": col(kind),
        "ticket_id": col(ticket),
        "resolved": f"CASE WHEN {status} IN ('solved', 'closed') THEN 'true' "
                    f"WHEN {status} IN ('new', 'open', 'pending', 'hold', 'on-hold') THEN 'false' END",
        "csat": f"CASE lower({col(score)}) WHEN 'good' THEN '1' WHEN 'bad' THEN '0' END",
        "tags": f"nullif(array_to_string(string_split_regex(trim({col(tags)}), '\\s+'), ','), '')",
    }
    used = present(ticket, created, name, account, email, phone, agent, group, kind, tags)
    return vendor_scan(path, options, h, select, used=used, notes=["Zendesk CSV export"])
