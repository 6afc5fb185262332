"""Twilio call log CSV: the Console's call log download, or the Calls API list written as CSV.

Columns (spelled as the Console writes them, ``Start Time``, or as the API does, ``start_time``):
``Call Sid`` (or ``Sid``) is the contact id; ``Start Time`` (else ``Date Created``) the start, ISO
8601 or RFC 2822 (``Fri, 05 Jan 2024 17:15:22 +0000``); ``Duration`` the call's seconds from answer
to hang-up (talk time); ``Caller Name`` the caller's CNAM name.

``Direction``: ``inbound`` (and ``trunking-originating``) is a customer calling the desk, the
customer is ``From``; ``outbound-api``, ``outbound-dial`` (and ``trunking-terminating``) are calls
the desk places, the customer is ``To``. ``Status``: ``completed`` (and ``in-progress``) answered;
``no-answer`` and ``canceled`` on an inbound call abandoned (the caller gave up before an answer);
``busy`` and ``failed`` neither; ``queued`` and ``ringing`` have no outcome yet. Any other
direction or status rejects the row. Every other column (``From``/``To`` included) is kept.
"""

from __future__ import annotations

from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan
from recontact.importers.vendor_csv import (
    col,
    first_reason,
    has_columns,
    one_of,
    present,
    read_header,
    rfc2822_or_text,
    vendor_scan,
)

NAME = "twilio"
DESCRIPTION = "Twilio call log CSV (Console download or Calls API): From, To, Direction, Status, Start Time"

INBOUND = ("inbound", "trunking-originating")
OUTBOUND = ("outbound-api", "outbound-dial", "trunking-terminating")
ANSWERED = ("completed", "in-progress")
UNANSWERED = ("no-answer", "canceled")  # abandoned when inbound
NEITHER = ("busy", "failed")
PENDING = ("queued", "ringing")


def sniff(path: Path, head: str) -> str | None:
    return has_columns(head, "From", "To", "Direction", "Status")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    h = read_header(path, options)
    sid, start = h.find("Call Sid", "CallSid", "Sid"), h.find("Start Time", "Date Created")
    frm, to, name = h.find("From"), h.find("To"), h.find("Caller Name")
    direction, status, duration = col(h.find("Direction")), col(h.find("Status")), col(h.find("Duration"))
    inbound = f"lower({direction}) IN ({_listed(INBOUND)})"
    state = f"lower({status})"
    select = {
        "contact_id": col(sid),
        "started_at": rfc2822_or_text(col(start)),
        "channel": "'phone'",
        "direction": f"CASE WHEN {inbound} THEN 'inbound' ELSE 'outbound' END",
        "phone": f"CASE WHEN {inbound} THEN {col(frm)} ELSE {col(to)} END",
        "customer_name": f"CASE WHEN {inbound} THEN {col(name)} END",
        "talk_s": duration,
        "answered": f"CASE WHEN {state} IN ({_listed(ANSWERED)}) THEN 'true' "
                    f"WHEN {state} IN ({_listed(PENDING)}) THEN NULL ELSE 'false' END",
        "abandoned": f"CASE WHEN {state} IN ({_listed(PENDING)}) THEN NULL "
                     f"WHEN {inbound} AND {state} IN ({_listed(UNANSWERED)}) THEN 'true' ELSE 'false' END",
    }
    reject = first_reason(
        one_of(direction, "Direction", INBOUND + OUTBOUND),
        one_of(status, "Status", ANSWERED + UNANSWERED + NEITHER + PENDING),
        f"CASE WHEN {duration} IS NOT NULL AND TRY_CAST({duration} AS DOUBLE) IS NULL "
        f"THEN 'Duration \"' || left({duration}, 60) || '\" is not seconds' END",
    )
    if start is None and "started_at" not in options.column_map.values():
        raise InputFileError(f"{path}: line 1: no Start Time or Date Created column among {', '.join(h.names)}; "
                             "name the start with --map \"COLUMN=started_at\"")
    return vendor_scan(path, options, h, select, used=present(sid, start, name, h.find("Duration")), reject=reject)
