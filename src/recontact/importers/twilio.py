"""Twilio call log: the Console's call log download (CSV), the Calls API list written as CSV, or
the Calls API's own JSON list pages (``{"calls": [...], "page": …, "next_page_uri": …}``, one page
or pages appended; records numbered 1, 2, … across pages).

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

import json
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan, check_map_targets, sql_str
from recontact.importers.text import read_head
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


#: The keys of a call in the API's JSON; ``sid`` is the contact id.
JSON_KEYS = {"sid": "sid", "start": "start_time", "created": "date_created", "from": "from", "to": "to",
             "name": "caller_name", "direction": "direction", "status": "status", "duration": "duration"}


def _json_page(head: str) -> bool:
    text = head.lstrip()
    return text.startswith("{") and '"calls"' in text[:2000] and '"account_sid"' in text[:200_000] \
        and '"completion_status"' not in text[:200_000]


def sniff(path: Path, head: str) -> str | None:
    if _json_page(head):
        return 'JSON with a "calls" array of Twilio calls (Calls API list page)'
    return has_columns(head, "From", "To", "Direction", "Status")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _select(c: dict[str, str]) -> tuple[dict[str, str], str]:
    """The canonical columns and the reject reason over ``c`` (JSON_KEYS' names -> SQL text, NULL
    when empty)."""
    direction, status, duration, frm, to = c["direction"], c["status"], c["duration"], c["from"], c["to"]
    inbound = f"lower({direction}) IN ({_listed(INBOUND)})"
    state = f"lower({status})"
    select = {
        "contact_id": c["sid"],
        "started_at": rfc2822_or_text(f"coalesce({c['start']}, {c['created']})"),
        "channel": "'phone'",
        "direction": f"CASE WHEN {inbound} THEN 'inbound' ELSE 'outbound' END",
        "phone": f"CASE WHEN {inbound} THEN {frm} ELSE {to} END",
        "customer_name": f"CASE WHEN {inbound} THEN {c['name']} END",
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
    return select, reject


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    if _json_page(read_head(path).decode("utf-8", "replace")):
        return _scan_json(path, options)
    h = read_header(path, options)
    sid, start = h.find("Call Sid", "CallSid", "Sid"), h.find("Start Time")
    created, name = h.find("Date Created"), h.find("Caller Name")
    c = {"sid": col(sid), "start": col(start), "created": col(created), "from": col(h.find("From")),
         "to": col(h.find("To")), "name": col(name), "direction": col(h.find("Direction")),
         "status": col(h.find("Status")), "duration": col(h.find("Duration"))}
    select, reject = _select(c)
    start = start or created
    if start is None and "started_at" not in options.column_map.values():
        raise InputFileError(f"{path}: line 1: no Start Time or Date Created column among {', '.join(h.names)}; "
                             "name the start with --map \"COLUMN=started_at\"")
    return vendor_scan(path, options, h, select, used=present(sid, start, created, name, h.find("Duration")),
                       reject=reject)


def _scan_json(path: Path, options: ImportOptions) -> Scan:
    """The API's JSON pages: each call of each page's ``calls`` array is a record; keys other than
    the ones read are kept in ``extra``."""
    check_map_targets(options.column_map)
    c = {k: f"nullif(trim(r->>{sql_str(key)}), '')" for k, key in JSON_KEYS.items()}
    select, reject = _select(c)
    for src, target in options.column_map.items():
        select[target] = f"(r->>{sql_str(src)})"
    drop = sql_str(json.dumps(dict.fromkeys(["sid", "start_time", "caller_name", "duration"])))
    items = ", ".join(f"{v} AS {k}" for k, v in select.items())
    docs = f"read_json_objects({sql_str(str(path))}, format='auto')"
    sql = (f"WITH docs AS MATERIALIZED (SELECT row_number() OVER () AS _seq, json AS j FROM {docs}), "
           f"rec AS MATERIALIZED (SELECT _seq, generate_subscripts(l, 1) AS _idx, unnest(l) AS r FROM "
           f"(SELECT _seq, CAST(j->'calls' AS JSON[]) AS l FROM docs WHERE json_type(j->'calls') = 'ARRAY')) "
           f"SELECT row_number() OVER (ORDER BY _seq, _idx) AS _line, {items}, "
           f"CAST(json_merge_patch(r, {drop}) AS VARCHAR) AS _extra, "
           f"CASE WHEN json_type(r) <> 'OBJECT' THEN 'a call that is not a JSON object' ELSE {reject} END AS _reject "
           f"FROM rec ORDER BY _seq, _idx")
    notes = ["Twilio Calls API JSON: records are numbered 1, 2, … across pages instead of lines"]
    return Scan(sql=sql, own_lines=True, unit="record", notes=notes, fields=tuple(select),
                time_format=options.time_format)
