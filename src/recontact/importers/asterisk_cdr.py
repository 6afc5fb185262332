"""Asterisk CDR ``Master.csv`` (no header), in either column order Asterisk writes.

* ``cdr_csv`` (standard): accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
  lastdata, start, answer, end, duration, billsec, disposition, amaflags[, uniqueid, userfield]
  (``loguniqueid``, ``loguserfield``)[, peeraccount, linkedid, sequence] (``newcdrcolumns``,
  Asterisk 1.8+): 16, 17, 18, 20 or 21 fields.
* ``cdr_custom`` with the sample template: clid, src, dst, dcontext, channel, dstchannel, lastapp,
  lastdata, start, answer, end, duration, billsec, disposition, amaflags, accountcode, uniqueid,
  userfield, sequence.

``src`` (else the number in ``clid``'s ``"Name" <number>``) is the caller; ``billsec`` is talk
time and ``duration - billsec`` the time before answer. One call is the records sharing its
``linkedid`` (when the layout has one and it is set), else its ``uniqueid``: that id is the
contact id, and the records are legs (queue fan-out, forwarding, transfers) folded into one contact
(store/events.py: answered if any leg was, talk summed, wait to the first answer).
Times are local wall-clock times of the PBX: pass ``--tz``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import AsteriskDesk, EventLog, ImportOptions, Scan, check_map_targets, sql_ident, sql_str
from recontact.importers.csv_scan import extra_json_sql, read_csv_sql
from recontact.importers.text import decode_head, detect_encoding, encoding_notes, read_head

NAME = "asterisk"
DESCRIPTION = "Asterisk CDR Master.csv (cdr_csv standard order or cdr_custom sample order)"

STANDARD = ["accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
            "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
            "uniqueid", "userfield"]
NEW_COLUMNS = ["peeraccount", "linkedid", "sequence"]  # cdr_csv with newcdrcolumns = yes
CUSTOM = ["clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start",
          "answer", "end", "duration", "billsec", "disposition", "amaflags", "accountcode",
          "uniqueid", "userfield", "sequence"]
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
_UNIQUEID = re.compile(r"^\d+\.\d+$")
_USED = {"src", "clid", "start", "duration", "billsec", "disposition", "uniqueid", "dstchannel",
         "dcontext"}


def _first_record(text: str) -> list[str]:
    return next(csv.reader(io.StringIO(text)), [])


def _looks_like_channel(value: str) -> bool:
    return "/" in value and not value.startswith("/")


def _looks_like_time(value: str) -> bool:
    return bool(_TIME.match(value.strip()))


def detect_layout(fields: list[str]) -> list[str] | None:
    """Column names for a record of this shape, or None when it is no Asterisk CDR.

    cdr_custom has ``channel`` in field 5 (and usually ``dstchannel``, also a channel, in field 6)
    and ``start`` in field 9; cdr_csv has ``clid`` in field 5, ``channel`` in field 6 and ``start``
    in field 10. The start time decides when both fields 5 and 6 could be channels."""
    if len(fields) < 16:
        return None
    custom, standard = _looks_like_channel(fields[4]), _looks_like_channel(fields[5])
    if custom and standard:  # channel + dstchannel (custom), or a clid with a slash (standard)
        custom = not (_looks_like_time(fields[9]) and not _looks_like_time(fields[8]))
    if custom:
        names = CUSTOM[: len(fields)]
    elif standard:
        names = _standard_names(fields)
    else:
        return None
    return names + [f"extra_{i}" for i in range(len(names) + 1, len(fields) + 1)]


def _standard_names(fields: list[str]) -> list[str]:
    """cdr_csv names: 21 fields with an integer last are STANDARD and NEW_COLUMNS; 20 such fields
    with a uniqueid in field 17 lack the userfield; other lengths take STANDARD's first ones (then
    ``extra_N``)."""
    sequence = fields[-1].strip().isdigit()
    if len(fields) == 21 and sequence:
        return [*STANDARD, *NEW_COLUMNS]
    if len(fields) == 20 and sequence and _UNIQUEID.match(fields[16].strip()):
        return [*STANDARD[:17], *NEW_COLUMNS]
    return STANDARD[: len(fields)]


def _without_suffix(channel: str) -> str:
    """SQL: a channel without its call suffix: ``PJSIP/6001-0000001a`` -> ``PJSIP/6001``."""
    return f"regexp_replace({channel}, '-[0-9a-fA-F]+(;[0-9]+)?$', '')"


def _endpoint(channel: str) -> str:
    """SQL: the endpoint a channel belongs to: ``PJSIP/6001-0000001a`` and ``Local/6001@ctx-…;1``
    -> ``6001``."""
    return f"split_part(regexp_extract({_without_suffix(channel)}, '^[^/]*/(.*)$', 1), '@', 1)"


def _desk_placed(desk: AsteriskDesk, col: Callable[[str], str]) -> str:
    """SQL condition: the desk placed the call.

    The desk placed it when its source (``src`` or the calling channel) is one of the desk's
    extensions, or when neither end is a desk extension or queue and ``dcontext`` is one of the
    desk's contexts. A call from elsewhere to the desk (an employee's phone calling an internal IT
    desk) is inbound even in a context the desk shares."""

    def listed(values: tuple[str, ...]) -> str:
        return ", ".join(sql_str(v) for v in values) if values else "NULL"

    exts, both = listed(desk.extensions), listed(desk.extensions + desk.queues)
    queue_name = f"trim(split_part({col('lastdata')}, ',', 1))"
    from_desk = (f"(trim({col('src')}) IN ({exts}) OR {_endpoint(col('channel'))} IN ({exts}) "
                 f"OR {_without_suffix(col('channel'))} IN ({exts}))")
    to_desk = (f"(trim({col('dst')}) IN ({both}) OR {_endpoint(col('dstchannel'))} IN ({exts}) "
               f"OR {_without_suffix(col('dstchannel'))} IN ({exts}) "
               f"OR (upper({col('lastapp')}) = 'QUEUE' AND {queue_name} IN ({listed(desk.queues)})))")
    in_context = f"(trim({col('dcontext')}) IN ({listed(desk.contexts)}))"
    return f"coalesce({from_desk} OR (NOT coalesce({to_desk}, false) AND {in_context}), false)"


def sniff(path: Path, head: str) -> str | None:
    fields = _first_record(head)
    names = detect_layout(fields)
    if names is None:
        return None
    channel = fields[names.index("channel")]
    return f"no header; {len(fields)} fields with the channel {channel!r} where a CDR has it"


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    check_map_targets(options.column_map)
    head = read_head(path)
    encoding = detect_encoding(head, options.encoding)
    fields = _first_record(decode_head(head, encoding))
    names = detect_layout(fields)
    if names is None:
        raise InputFileError(
            f"{path}: line 1: not an Asterisk CDR record ({len(fields)} fields; expected the cdr_csv "
            "or cdr_custom column order, with a channel such as SIP/100-0001 in field 5 or 6)"
        )
    source, rejects = read_csv_sql(path, names, delimiter=",", encoding=encoding, header=False)

    def col(name: str) -> str:
        return sql_ident(name)

    answered = f"(upper(trim({col('disposition')})) = 'ANSWERED')"
    duration, billsec = f"TRY_CAST({col('duration')} AS DOUBLE)", f"TRY_CAST({col('billsec')} AS DOUBLE)"
    number_in_clid = f"nullif(regexp_extract({col('clid')}, '<([^>]*)>', 1), '')"
    name_in_clid = f"nullif(trim(regexp_extract({col('clid')}, '^\\s*\"?([^\"<]*)\"?\\s*<', 1)), '')"
    known = ", ".join(f"'{d}'" for d in DISPOSITIONS)
    caller = f"coalesce(nullif(trim({col('src')}), ''), {number_in_clid})"
    ids = [f"nullif(trim({col(c)}), '')" for c in ("linkedid", "uniqueid") if c in names]
    call_id = f"coalesce({', '.join(ids)})" if ids else "CAST(NULL AS VARCHAR)"
    select = {
        "contact_id": call_id,
        "started_at": col("start"),
        "channel": "'phone'",
        "direction": "'inbound'",
        "phone": caller,
        "customer_name": name_in_clid,
        "agent_id": f"nullif({_without_suffix(col('dstchannel'))}, '')",
        "queue": f"nullif({col('dcontext')}, '')",
        "wait_s": f"CAST(CASE WHEN {answered} THEN {duration} - {billsec} ELSE {duration} END AS VARCHAR)",
        "talk_s": col("billsec"),
        "answered": f"CASE WHEN {answered} THEN 'true' ELSE 'false' END",
        "abandoned": f"CASE WHEN upper(trim({col('disposition')})) = 'NO ANSWER' THEN 'true' ELSE 'false' END",
    }
    reject = (
        f"CASE WHEN upper(trim({col('disposition')})) NOT IN ({known}) OR {col('disposition')} IS NULL "
        f"THEN 'disposition ' || coalesce('\"' || {col('disposition')} || '\"', 'missing') "
        f"|| ' is not one of {', '.join(DISPOSITIONS)}' "
        f"WHEN {duration} IS NULL OR {billsec} IS NULL OR {billsec} > {duration} "
        f"THEN 'duration/billsec \"' || coalesce({col('duration')}, '') || '\"/\"' "
        f"|| coalesce({col('billsec')}, '') || '\" are not seconds with billsec <= duration' END"
    )
    notes = []
    if options.asterisk.configured():
        placed = _desk_placed(options.asterisk, col)
        # A call the desk places: outbound, dst the customer, the calling channel the agent.
        select["direction"] = f"CASE WHEN {placed} THEN 'outbound' ELSE 'inbound' END"
        select["phone"] = f"CASE WHEN {placed} THEN nullif(trim({col('dst')}), '') ELSE {caller} END"
        select["customer_name"] = f"CASE WHEN {placed} THEN NULL ELSE {name_in_clid} END"
        select["agent_id"] = (f"nullif(CASE WHEN {placed} THEN {_without_suffix(col('channel'))} "
                              f"ELSE {_without_suffix(col('dstchannel'))} END, '')")
        notes.append("direction from the desk's own extensions, queues and contexts (asterisk table of "
                     "recontact.toml): calls the desk places are outbound, to dst")
    for src, target in options.column_map.items():
        if src not in names:
            raise InputFileError(f"--map names CDR column {src!r}, not in this layout; columns are: {', '.join(names)}")
        select[target] = sql_ident(src)
    kept = [n for n in names if n not in _USED or n in ("dcontext", "dstchannel")]
    kept += ["disposition", "clid"] if "clid" in names else ["disposition"]
    sql = (f"SELECT {', '.join(f'{v} AS {k}' for k, v in select.items())}, "
           f"{extra_json_sql(sorted(set(kept), key=names.index))} AS _extra, {reject} AS _reject, "
           f"{call_id} AS _event_id, CASE WHEN {answered} THEN 1 ELSE 0 END AS _event_order_1 "
           f"FROM {source}")
    layout = "cdr_custom" if names[0] == "clid" else "cdr_csv"
    notes[:0] = [f"Asterisk {layout} column order, {len(fields)} fields",
                 *encoding_notes(head, encoding, options.encoding)]
    if options.tz == "UTC":
        notes.append("CDR times carry no zone and were read as UTC; pass --tz for the PBX's zone")
    call = "linkedid, else uniqueid" if "linkedid" in names else "uniqueid"
    events = EventLog(id_column=call, order=("an answered leg",), legs=True)
    notes.append(f"one call is the CDR records sharing its {call}: its legs fold into one contact")
    return Scan(sql=sql, header_lines=0, rejects_table=rejects, notes=notes, fields=tuple(select),
                source_sql=source, source_columns=tuple(names), encoding=encoding, events=events)
