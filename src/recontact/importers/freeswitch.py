"""FreeSWITCH CDR CSV written by ``mod_cdr_csv`` with its default template (A legs, the default).

The default ``example`` template of ``cdr_csv.conf.xml`` writes, quoted and without a header:
caller_id_name, caller_id_number, destination_number, context, start_stamp, answer_stamp,
end_stamp, duration, billsec, hangup_cause, uuid, bleg_uuid, accountcode, read_codec, write_codec
(the module's compiled-in template stops after accountcode). A file with a header row naming these
variables (as ``mod_cdr_pg_csv`` or an export script writes) is read by its names instead.

``uuid`` is the contact id; ``start_stamp`` the start, the switch's local wall-clock time (pass
``--tz``); ``answer_stamp`` present means answered; ``billsec`` is talk time and ``duration -
billsec`` the time before answer. An unanswered inbound call that ended with ``ORIGINATOR_CANCEL``
(the caller hung up), ``NO_ANSWER`` or ``NO_USER_RESPONSE`` is abandoned.

Direction, after the vanilla dialplan's two contexts: ``public`` is where calls from outside
arrive; ``default`` is where the switch's own phones call from. A call in ``default`` to a number
of seven digits or more is one the desk places (outbound, the customer is ``destination_number``);
every other call is inbound and the customer is ``caller_id_number`` (an employee's extension
calling the IT desk included).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan
from recontact.importers.generic_csv import header_key
from recontact.importers.text import decode_head, dedupe_names, detect_encoding, read_head
from recontact.importers.vendor_csv import Header, col, first_reason, vendor_scan

NAME = "freeswitch"
DESCRIPTION = "FreeSWITCH mod_cdr_csv CDR (default template, no header; or a header naming its variables)"

TEMPLATE = ["caller_id_name", "caller_id_number", "destination_number", "context", "start_stamp",
            "answer_stamp", "end_stamp", "duration", "billsec", "hangup_cause", "uuid", "bleg_uuid",
            "accountcode", "read_codec", "write_codec"]
ABANDONED = ("ORIGINATOR_CANCEL", "NO_ANSWER", "NO_USER_RESPONSE")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}")
_CAUSE = re.compile(r"^[A-Z][A-Z0-9_]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_NEEDED = ("caller_id_number", "start_stamp", "duration", "billsec", "hangup_cause", "uuid")


def _first_record(text: str) -> list[str]:
    return [f.strip() for f in next(csv.reader(io.StringIO(text)), [])]


def _headed(fields: list[str]) -> bool:
    keys = {header_key(f) for f in fields}
    return all(header_key(n) in keys for n in _NEEDED)


def _templated(fields: list[str]) -> bool:
    """The record has the default template's shape: times, seconds, a hangup cause and a uuid."""
    return (len(fields) >= 11 and bool(_TIME.match(fields[4])) and bool(_TIME.match(fields[6]))
            and fields[7].isdigit() and fields[8].isdigit() and bool(_CAUSE.match(fields[9]))
            and bool(_UUID.match(fields[10])))


def sniff(path: Path, head: str) -> str | None:
    fields = _first_record(head)
    if _headed(fields):
        return "header has caller_id_number, start_stamp, billsec, hangup_cause, uuid"
    if _templated(fields):
        return (f"no header; {len(fields)} fields with start_stamp, duration, billsec, the hangup cause "
                f"{fields[9]} and a uuid where mod_cdr_csv's default template has them")
    return None


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    head = read_head(path)
    encoding = detect_encoding(head, options.encoding)
    fields = _first_record(decode_head(head, encoding))
    headed = _headed(fields)
    if headed:
        names = dedupe_names(fields)
    elif _templated(fields):
        names = TEMPLATE[: len(fields)] + [f"extra_{i}" for i in range(len(TEMPLATE) + 1, len(fields) + 1)]
    else:
        raise InputFileError(f"{path}: line 1: not a FreeSWITCH CDR record ({len(fields)} fields; expected "
                             "mod_cdr_csv's default template: caller_id_name, caller_id_number, destination_number, "
                             "context, start_stamp, answer_stamp, end_stamp, duration, billsec, hangup_cause, uuid, …)")
    h = Header(head, encoding, ",", names)
    c = {n: col(h.find(n)) for n in TEMPLATE}
    duration, billsec = f"TRY_CAST({c['duration']} AS DOUBLE)", f"TRY_CAST({c['billsec']} AS DOUBLE)"
    answered = f"({c['answer_stamp']} IS NOT NULL)"
    placed = (f"(lower({c['context']}) = 'default' "
              f"AND length(regexp_replace(coalesce({c['destination_number']}, ''), '[^0-9]', '', 'g')) >= 7)")
    causes = ", ".join(f"'{a}'" for a in ABANDONED)
    select = {
        "contact_id": c["uuid"],
        "started_at": c["start_stamp"],
        "channel": "'phone'",
        "direction": f"CASE WHEN {placed} THEN 'outbound' ELSE 'inbound' END",
        "phone": f"CASE WHEN {placed} THEN {c['destination_number']} ELSE {c['caller_id_number']} END",
        "customer_name": f"CASE WHEN {placed} OR {c['caller_id_name']} = {c['caller_id_number']} THEN NULL "
                         f"ELSE {c['caller_id_name']} END",
        "wait_s": f"CAST(CASE WHEN {answered} THEN {duration} - {billsec} ELSE {duration} END AS VARCHAR)",
        "talk_s": c["billsec"],
        "answered": f"CASE WHEN {answered} THEN 'true' ELSE 'false' END",
        "abandoned": f"CASE WHEN NOT {answered} AND NOT {placed} AND upper({c['hangup_cause']}) IN ({causes}) "
                     "THEN 'true' ELSE 'false' END",
    }
    reject = first_reason(
        f"CASE WHEN {c['hangup_cause']} IS NULL THEN 'hangup_cause is missing' END",
        f"CASE WHEN {duration} IS NULL OR {billsec} IS NULL OR {billsec} > {duration} "
        f"THEN 'duration/billsec \"' || coalesce({c['duration']}, '') || '\"/\"' || coalesce({c['billsec']}, '') "
        "|| '\" are not seconds with billsec <= duration' END",
    )
    notes = [f"FreeSWITCH {'CDR with a header row' if headed else 'default cdr_csv template'}, {len(fields)} fields"]
    if options.tz == "UTC":
        notes.append("CDR times carry no zone and were read as UTC; pass --tz for the switch's zone")
    used = [n for n in ("uuid", "start_stamp", "duration", "billsec") if h.find(n)]
    return vendor_scan(path, options, h, select, used=used, reject=reject, notes=notes, has_header=headed)
