"""Zendesk: tickets (incremental export API, JSON or JSON lines; or the CSV export) and Zendesk
Talk calls (the Talk incremental calls export).

JSON: each document is a page of the incremental export, ``{"tickets": [...], "users": [...],
"metric_sets": [...], "after_cursor": …, "end_of_stream": …}`` (``users`` and ``metric_sets`` are
there with ``include=users,metric_sets``) or a Talk page ``{"calls": [...], "next_page": …}``; or a
ticket or call object on its own (``jq -c '.tickets[]'``). Documents one per line (the API's own
compact output, pages appended with ``>>``, or JSON lines) are read line by line: a line that is
not JSON is rejected alone and every ticket of a page carries the page's line. Pretty-printed
documents spanning lines are read whole (a document that does not parse stops the import) and
their tickets are numbered as records (1, 2, … across pages) instead of lines.

The CSV export (Reporting → Export, or a view exported as CSV) is read by its column titles; see
``zendesk_csv.py``. Field by field, see docs/importing.md.
"""

from __future__ import annotations

import json
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers import zendesk_csv
from recontact.importers.base import EventLog, ImportOptions, Scan, check_map_targets, sql_str
from recontact.importers.csv_scan import read_csv_sql
from recontact.importers.text import decode_head, detect_encoding, encoding_notes, first_lines, read_head

NAME = "zendesk"
DESCRIPTION = ("Zendesk tickets (incremental export JSON / JSON lines, or CSV export) and Zendesk Talk calls "
               "(incremental calls export)")

#: Keys that tell a Zendesk ticket and a Talk call record from other JSON.
TICKET_KEYS = ("requester_id", "via")
CALL_KEYS = ("completion_status", "customer_id")
#: Ticket ``via.channel`` values -> canonical channels (others are kept as written).
VIA_CHANNELS = {
    "email": "email", "voice": "phone", "phone": "phone",
    "chat": "chat", "native_messaging": "chat", "sms": "chat", "whatsapp": "chat", "messenger": "chat",
    "facebook": "chat", "twitter": "chat", "instagram_dm": "chat", "line": "chat", "wechat": "chat",
    "telegram": "chat", "any_channel": "chat",
    "web": "web", "web_form": "web", "web_widget": "web", "help_center": "web", "mobile": "web",
    "mobile_sdk": "web", "api": "web", "web_service": "web",
}
#: Ticket keys turned into canonical fields and so not repeated in ``extra``.
TICKET_USED = ("id", "created_at", "tags", "type", "assignee_id", "group_id", "requester_id")
CALL_USED = ("id", "created_at", "direction", "customer_id", "agent_id", "ticket_id", "wait_time", "talk_time",
             "hold_time", "wrap_up_time")


def _first_object(head: str) -> dict[str, object] | None:
    """The first line as a JSON object, when it is one by itself."""
    lines = [line for line in first_lines(head, 5) if line.strip()]
    try:
        value = json.loads(lines[0]) if lines else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def sniff(path: Path, head: str) -> str | None:
    text = head.lstrip()
    if not text.startswith("{"):
        return zendesk_csv.sniff(head)
    opening = text[:2000]
    for key in ("tickets", "calls"):
        if f'"{key}"' in opening and ('"requester_id"' in text[:200_000] or '"completion_status"' in text[:200_000]):
            return f'JSON with a "{key}" array of Zendesk {key} (incremental export)'
    first = _first_object(head)
    if first is not None:
        for keys, what in ((TICKET_KEYS, "tickets"), (CALL_KEYS, "Talk calls")):
            if all(k in first for k in keys):
                return f"JSON lines of Zendesk {what} (keys {', '.join(keys)})"
    return None


def _doc_per_line(head: str) -> bool:
    """True when the first document sits on one line (JSON lines, or compact API pages)."""
    return _first_object(head) is not None


def _records_sql(docs: str) -> str:
    """SQL: one row per ticket or call in ``docs(_line, _seq, j)``: ``_line``, ``_idx`` (its place in
    its document), ``kind`` and ``r`` (the record, or NULL for a document that is not JSON)."""
    pages = " UNION ALL ".join(
        f"SELECT _line, _seq, CAST(e._idx AS INTEGER) AS _idx, '{kind}' AS kind, e.r "
        f"FROM {_elements(docs, key, '_line, _seq')} e"
        for key, kind in (("tickets", "ticket"), ("calls", "call")))
    kind = "CASE WHEN (j->'completion_status') IS NOT NULL THEN 'call' ELSE 'ticket' END"
    alone = (f"SELECT _line, _seq, 0, {kind}, j FROM {docs} "
             "WHERE j IS NULL OR NOT (coalesce(json_type(j->'tickets') = 'ARRAY', false) "
             "OR coalesce(json_type(j->'calls') = 'ARRAY', false))")
    return f"{pages} UNION ALL {alone}"


def _side_loads(docs: str) -> str:
    """SQL CTEs: ``users`` (id -> email, phone, name) and ``metrics`` (ticket id -> solved_at), from
    every page's side-loaded ``users`` and ``metric_sets``."""
    return (f"users AS (SELECT e.r->>'id' AS uid, any_value(e.r->>'email') AS email, "
            f"any_value(e.r->>'phone') AS phone, any_value(e.r->>'name') AS name "
            f"FROM {_elements(docs, 'users')} e GROUP BY 1), "
            f"metrics AS (SELECT e.r->>'ticket_id' AS tid, any_value(e.r->>'solved_at') AS solved_at "
            f"FROM {_elements(docs, 'metric_sets')} e GROUP BY 1)")


def _elements(docs: str, key: str, carried: str = "") -> str:
    """SQL: the elements ``r`` of each document's ``key`` array, with ``_idx`` (0, 1, …) and the
    ``carried`` columns of their document. (Not ``json_each``: each of its rows carries the whole
    document, so a 1 MB page of 1,000 tickets made 1 GB.)"""
    keep = f"{carried}, " if carried else ""
    return (f"(SELECT {keep}generate_subscripts(l, 1) - 1 AS _idx, unnest(l) AS r FROM "
            f"(SELECT {keep}CAST(j->'{key}' AS JSON[]) AS l FROM {docs} WHERE json_type(j->'{key}') = 'ARRAY'))")


def _drop(keys: tuple[str, ...]) -> str:
    """A JSON merge patch removing ``keys`` from an object."""
    return sql_str(json.dumps(dict.fromkeys(keys)))


def _text(expr: str) -> str:
    return f"nullif(trim({expr}), '')"


def _select(options: ImportOptions) -> tuple[str, tuple[str, ...]]:
    """SQL over ``rec`` (records joined to ``users`` u and ``metrics`` m): the canonical columns,
    and their names."""
    r = "rec.r"

    def key(name: str) -> str:
        return f"({r}->>{sql_str(name)})"

    ticket, call = "rec.kind = 'ticket'", "rec.kind = 'call'"
    via = f"lower(({r}->>'$.via.channel'))"
    channels = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in VIA_CHANNELS.items())
    sender = f"({r}->'$.via.source.from')"
    from_phone, from_address, from_name = (_text(f"({sender}->>'{k}')") for k in ("phone", "address", "name"))
    score = f"lower({r}->>'$.satisfaction_rating.score')"
    status = f"lower(({r}->>'status'))"
    completion = f"lower(({r}->>'completion_status'))"
    talk = f"TRY_CAST(({r}->>'talk_time') AS DOUBLE)"
    ticket_extra = f"json_merge_patch({r}, {_drop(TICKET_USED)})"
    with_solved = (f"CASE WHEN m.solved_at IS NULL THEN {ticket_extra} "
                   f"ELSE json_merge_patch({ticket_extra}, json_object('solved_at', m.solved_at)) END")
    extra = f"CASE WHEN {ticket} THEN {with_solved} ELSE json_merge_patch({r}, {_drop(CALL_USED)}) END"
    cols = {
        "contact_id": f"CASE WHEN {ticket} THEN {_text(key('id'))} ELSE 'call:' || (({r}->>'id')) END",
        "started_at": _text(f"({r}->>'created_at')"),
        "channel": f"CASE WHEN {call} THEN 'phone' ELSE CASE {via} {channels} ELSE {via} END END",
        "direction": f"CASE WHEN {call} THEN lower(({r}->>'direction')) ELSE 'inbound' END",
        "phone": f"CASE WHEN {ticket} THEN coalesce({from_phone}, {_text('u.phone')}) END",
        "email": f"CASE WHEN {ticket} THEN coalesce({from_address}, {_text('u.email')}) END",
        "account_id": f"CASE WHEN {ticket} THEN ({r}->>'requester_id') ELSE ({r}->>'customer_id') END",
        "customer_name": f"CASE WHEN {ticket} THEN coalesce({from_name}, {_text('u.name')}) END",
        "agent_id": f"CASE WHEN {ticket} THEN ({r}->>'assignee_id') ELSE ({r}->>'agent_id') END",
        "team": f"CASE WHEN {ticket} THEN ({r}->>'group_id') END",
        "category": f"CASE WHEN {ticket} THEN {_text(key('type'))} END",
        "ticket_id": f"CASE WHEN {ticket} THEN ({r}->>'id') ELSE ({r}->>'ticket_id') END",
        "wait_s": f"CASE WHEN {call} THEN ({r}->>'wait_time') END",
        "talk_s": f"CASE WHEN {call} THEN ({r}->>'talk_time') END",
        "hold_s": f"CASE WHEN {call} THEN ({r}->>'hold_time') END",
        "wrap_s": f"CASE WHEN {call} THEN ({r}->>'wrap_up_time') END",
        "answered": f"CASE WHEN {call} THEN CASE WHEN {completion} = 'completed' OR coalesce({talk} > 0, false) "
                    "THEN 'true' ELSE 'false' END END",
        "abandoned": f"CASE WHEN {call} THEN CASE WHEN starts_with({completion}, 'abandoned') THEN 'true' "
                     "ELSE 'false' END END",
        "resolved": f"CASE WHEN {ticket} THEN CASE WHEN {status} IN ('solved', 'closed') THEN 'true' "
                    f"WHEN {status} IN ('new', 'open', 'pending', 'hold') THEN 'false' END END",
        "csat": f"CASE WHEN {ticket} THEN CASE {score} WHEN 'good' THEN '1' WHEN 'bad' THEN '0' END END",
        "tags": f"CASE WHEN {ticket} AND json_array_length(({r}->'tags')) > 0 "
                f"THEN array_to_string(CAST(json_extract_string({r}, '$.tags[*]') AS VARCHAR[]), ',') END",
    }
    for src, target in options.column_map.items():  # a top-level key of the record
        cols[target] = f"({r}->>{sql_str(src)})"
    items = ", ".join(f"{v} AS {k}" for k, v in cols.items())
    # The export sends a ticket again each time it changes: its versions fold into one contact, the
    # latest (by updated_at) winning. A deleted ticket is skipped.
    items += (f", {cols['contact_id']} AS _event_id, TRY_CAST({key('updated_at')} AS TIMESTAMPTZ) AS _event_order_1, "
              f"({ticket} AND {status} = 'deleted') AS _skip, ({cols['phone']}) IS NULL AS _no_caller_id")
    reject = (f"CASE WHEN {r} IS NULL THEN 'not valid JSON' "
              f"WHEN json_type({r}) <> 'OBJECT' THEN 'a ' || rec.kind || ' that is not a JSON object' "
              f"WHEN ({r}->>'id') IS NULL THEN 'a ' || rec.kind || ' without an id' "
              f"WHEN {call} AND lower(({r}->>'direction')) NOT IN ('inbound', 'outbound') "
              f"THEN 'call direction \"' || coalesce(({r}->>'direction'), '') || '\" is not inbound or outbound' END")
    return (f"{items}, CASE WHEN {r} IS NOT NULL AND json_type({r}) = 'OBJECT' THEN CAST(nullif(CAST({extra} "
            f"AS VARCHAR), '{{}}') AS VARCHAR) END AS _extra, {reject} AS _reject"), tuple(cols)


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    check_map_targets(options.column_map)
    head = read_head(path)
    encoding = detect_encoding(head, options.encoding)
    text = decode_head(head, encoding)
    if not text.lstrip().startswith("{"):
        return zendesk_csv.scan(path, options)
    notes = encoding_notes(head, encoding, options.encoding)
    rejects = None
    if _doc_per_line(text):
        source, rejects = read_csv_sql(path, ["line"], delimiter="\x01", encoding=encoding, header=False, quote="")
        docs = (f"(SELECT _line, _line AS _seq, CASE WHEN json_valid(line) THEN CAST(line AS JSON) END AS j "
                f"FROM (SELECT row_number() OVER () AS _line, line FROM {source}) WHERE trim(line) <> '')")
        numbered, unit = "rec._line", "line"
    else:
        if encoding != "utf-8":
            raise InputFileError(f"{path}: a JSON export spanning lines must be UTF-8 (read as {encoding})")
        docs = (f"(SELECT row_number() OVER () AS _seq, 0 AS _line, json AS j FROM "
                f"read_json_objects({sql_str(str(path))}, format='unstructured'))")
        numbered, unit = "row_number() OVER (ORDER BY rec._seq, rec._idx)", "record"
        notes.append("JSON documents span lines: records are numbered 1, 2, … across pages instead of lines")
    columns, fields = _select(options)
    sql = (f"WITH docs AS MATERIALIZED {docs}, {_side_loads('docs')}, "
           # Materialized, with its join keys: left inline, every expression over ``r`` kept a page's
           # whole array alive per row (hundreds of MB for a 1 MB page).
           f"rec AS MATERIALIZED (SELECT *, r->>'requester_id' AS _requester, r->>'id' AS _id "
           f"FROM ({_records_sql('docs')})) "
           f"SELECT {numbered} AS _line, {columns} "
           f"FROM rec LEFT JOIN users u ON u.uid = rec._requester "
           f"LEFT JOIN metrics m ON m.tid = rec._id AND rec.kind = 'ticket' "
           f"ORDER BY rec._seq, rec._idx")
    return Scan(sql=sql, header_lines=0, own_lines=True, time_format=options.time_format, notes=notes,
                rejects_table=rejects, encoding=encoding, unit=unit, skips=True, fields=fields, no_caller_id=True,
                events=EventLog(id_column="id", order=("updated_at",)),
                reader_reasons={"TOO MANY COLUMNS": "not valid JSON (a raw control character in the line)"})
