"""ServiceNow incidents: the incident list export (CSV) and the event-log layout in which an
incident appears once per update (the audit-based "incident management process enriched event
log" published by UCI).

One contact per incident (``number``), at ``opened_at``: rows of one incident fold into one
contact (``store/events.py``), the fields that change between updates (caller, category, state,
priority, assignment, reassignment and reopen counts, resolved and closed times) taken from its
latest update: the highest ``sys_mod_count``, then the latest ``sys_updated_at``, then file order.
``?`` and empty cells are missing values, never text. Caller (``caller_id``) -> employee_id
(incident callers are the desk's users), ``assigned_to`` -> agent_id, ``assignment_group`` -> team,
``number`` -> ticket_id and contact_id, ``contact_type`` -> channel, ``category`` -> category;
resolved when the incident has a resolve time or is Resolved / Closed. Every other column
(``reopen_count``, ``reassignment_count``, ``resolved_at``, ``closed_at``, priority, state…) is kept
in ``extra``, those four under their field names even when the file gives the list view's labels
(``Reopen count``, ``Resolved``…); ``resolved_at`` and ``closed_at`` there are instants in UTC ISO 8601
(``2016-03-04T16:00:00Z``, read in the import's time format and zone; a value that is no time is
kept as written), so ticket resolution times can use the export's own resolve time
(``metrics.fcr.ticket_outcomes``). Column names or the list view's labels (``Number``, ``Opened``,
``Caller``…) both work.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import EventLog, ImportOptions, Scan, check_map_targets, sql_ident, sql_str
from recontact.importers.csv_scan import extra_json_sql, read_csv_sql
from recontact.importers.generic_csv import header_key
from recontact.importers.text import decode_head, encoding_notes
from recontact.importers.vendor_csv import header_of, read_header

NAME = "servicenow"
DESCRIPTION = "ServiceNow incident list or incident event log (CSV: number, opened_at, caller_id, …)"

#: ServiceNow field -> the headers it goes by (field name, dot-walked name, list-view label).
COLUMNS: dict[str, tuple[str, ...]] = {
    "number": ("number", "Number"),
    "opened_at": ("opened_at", "Opened"),
    "caller_id": ("caller_id", "Caller"),
    "caller_email": ("caller_id.email", "Caller.Email"),
    "caller_phone": ("caller_id.phone", "Caller.Business phone", "caller_id.mobile_phone"),
    "assigned_to": ("assigned_to", "Assigned to"),
    "assignment_group": ("assignment_group", "Assignment group"),
    "category": ("category", "Category"),
    "contact_type": ("contact_type", "Contact type", "Channel"),
    "state": ("incident_state", "state", "Incident state", "State"),
    "resolved_at": ("resolved_at", "Resolved"),
    "closed_at": ("closed_at", "Closed"),
    "closed_by": ("closed_by", "Closed by"),
    "reopen_count": ("reopen_count", "Reopen count"),
    "reassignment_count": ("reassignment_count", "Reassignment count"),
    "sys_mod_count": ("sys_mod_count", "Updates"),
    "sys_updated_at": ("sys_updated_at", "sys_updated_on", "Updated"),
}
#: ServiceNow field -> canonical field (the others are read for rules below, and kept in extra).
CANONICAL = {"number": "contact_id", "opened_at": "started_at", "caller_id": "employee_id",
             "caller_email": "email", "caller_phone": "phone", "assigned_to": "agent_id",
             "assignment_group": "team", "category": "category", "contact_type": "channel"}
#: Layouts ServiceNow writes times in (the instance's format; the UCI log: day first, no seconds),
#: tried in turn on the head of the file; ISO 8601 needs none.
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S", "%m/%d/%Y %H:%M:%S",
                "%m/%d/%Y %H:%M", "%d-%m-%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S")
MISSING = ("", "?")  # how ServiceNow exports (and the UCI log) write an empty field
#: ServiceNow's default export cap (``glide.ui.export.limit``): a list export of exactly this many
#: rows may have been cut.
EXPORT_CAP = 10_000
_CAP_CHECK_BYTES = 256 << 20  # files up to this size are counted for the cap note
#: Fields kept in ``extra`` under their field name whatever the file calls them (a list export's
#: ``Reopen count`` is ``reopen_count`` there, as in an event log): FCR and ticket resolution read them.
KEPT_AS_FIELD = ("reopen_count", "reassignment_count", "resolved_at", "closed_at")
#: Times of the incident kept in ``extra`` as instants (UTC ISO 8601), so that metrics can read
#: them whatever the instance's layout and zone: the resolve time is the ticket's resolution.
INSTANTS = ("resolved_at", "closed_at")


def sniff(path: Path, head: str) -> str | None:
    """``header has number, opened_at`` (or another incident column beside ``number``), or None."""
    keys = {header_key(n) for n in header_of(head)}
    beside = [c for c in ("opened_at", "Opened", "sys_mod_count", "incident_state") if header_key(c) in keys]
    return f"header has number, {beside[0]} (a ServiceNow incident export)" if "number" in keys and beside else None


def find_columns(names: list[str]) -> dict[str, str]:
    """ServiceNow field -> the file's header for it (the first header that names it)."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(header_key(name), name)
    found = {}
    for field, spellings in COLUMNS.items():
        for spelling in spellings:
            if header_key(spelling) in by_key:
                found[field] = by_key[header_key(spelling)]
                break
    return found


def time_format(samples: list[str]) -> str | None:
    """The layout most sample times read in: None for ISO 8601, else one of TIME_FORMATS (ties go
    to the earlier: ISO, then day first). A few bad values do not decide it: their rows are
    rejected, saying the value is not a time."""
    samples = [s.strip() for s in samples if s.strip() not in MISSING]
    best, fits = None, sum(map(_iso, samples))
    for fmt in TIME_FORMATS:
        n = sum(1 for s in samples if _fits(s, fmt))
        if n > fits:
            best, fits = fmt, n
    return best


def _fits(text: str, fmt: str) -> bool:
    try:
        datetime.strptime(text, fmt)
    except ValueError:
        return False
    return True


def _iso(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return True


def _head_values(text: str, delimiter: str, column: int, rows: int = 200) -> list[str]:
    import csv
    import io

    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    next(reader, None)
    out = []
    for row in reader:
        if len(row) > column:
            out.append(row[column])
        if len(out) >= rows:
            break
    return out[:-1] if len(out) > 1 else out  # the last row of the head may be cut


def _missing(col: str) -> str:
    """SQL: the column's text, NULL when empty or ``?``."""
    return f"CASE WHEN trim({col}) IN ({', '.join(map(sql_str, MISSING))}) THEN NULL ELSE {col} END"


def _time(col: str, fmt: str | None) -> str:
    value = f"try_strptime(trim({col}), {sql_str(fmt)})" if fmt else f"TRY_CAST(trim({col}) AS TIMESTAMP)"
    return f"CAST({value} AS TIMESTAMP)"


def _instant_text(col: str, fmt: str | None) -> str:
    """SQL: a cleaned time column as the instant it names, in UTC ISO 8601 (``2016-03-04T16:00:00Z``):
    read in ``fmt`` (None: ISO 8601) and, without an offset, in the import's zone (the session's);
    the text as it was when it does not read as a time, NULL when missing."""
    value = (f"CAST(try_strptime(trim({col}), {sql_str(fmt)}) AS TIMESTAMPTZ)" if fmt else
             f"TRY_CAST(trim({col}) AS TIMESTAMPTZ)")
    return f"coalesce(strftime(timezone('UTC', {value}), '%Y-%m-%dT%H:%M:%SZ'), {col})"


def _field_keys(found: dict[str, str], kept: list[str]) -> dict[str, str]:
    """Kept column -> its ``extra`` key, for the ``KEPT_AS_FIELD`` columns named otherwise (unless
    another kept column already has that name)."""
    return {found[f]: f for f in KEPT_AS_FIELD if f in found and found[f] in kept and f not in kept}


def _records_at_cap(path: Path, encoding: str, delimiter: str) -> bool:
    """Whether the file holds exactly EXPORT_CAP records after its header (quoted line breaks
    counted as part of their record); files over _CAP_CHECK_BYTES are not counted."""
    import csv

    if not path.is_file() or path.stat().st_size > _CAP_CHECK_BYTES:
        return False
    with path.open(encoding=encoding, errors="replace", newline="") as f:
        return sum(1 for _ in csv.reader(f, delimiter=delimiter)) - 1 == EXPORT_CAP


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    header = read_header(path, options)
    head, encoding, delimiter, names = header.head, header.encoding, header.delimiter, header.names
    text = decode_head(head, encoding)
    found = find_columns(names)
    for need in ("number", "opened_at"):
        if need not in found:
            raise InputFileError(f"{path}: line 1: no {need} column ({' or '.join(map(repr, COLUMNS[need]))}) "
                                 f"among {', '.join(names)}; is this a ServiceNow incident export?")
    check_map_targets(options.column_map)
    fmt = options.time_format or time_format(_head_values(text, delimiter, names.index(found["opened_at"])))
    source, rejects = read_csv_sql(path, names, delimiter=delimiter, encoding=encoding, header=True)
    instants = {found[f] for f in INSTANTS if f in found}
    cleaned = "(SELECT {} FROM (SELECT {} FROM {}))".format(
        ", ".join(_instant_text(sql_ident(n), fmt) + f" AS {sql_ident(n)}" if n in instants else sql_ident(n)
                  for n in names),
        ", ".join(f"{_missing(sql_ident(n))} AS {sql_ident(n)}" for n in names), source)

    def col(field: str) -> str:
        return sql_ident(found[field])

    select = {CANONICAL[f]: col(f) for f in CANONICAL if f in found}
    if "caller_id" in found:  # a display value "Patrick Brown (pab26)": the login is the identifier
        login = f"nullif(trim(regexp_extract({col('caller_id')}, '\\(([^()]+)\\)\\s*$', 1)), '')"
        select["employee_id"] = f"coalesce({login}, {col('caller_id')})"
        select["customer_name"] = (f"CASE WHEN {login} IS NOT NULL THEN nullif(trim(regexp_replace("
                                   f"{col('caller_id')}, '\\s*\\([^()]+\\)\\s*$', '')), '') END")
    select["ticket_id"] = col("number")
    select["direction"] = "'inbound'"
    state = f"lower(trim({col('state')}))" if "state" in found else "NULL"
    resolved_at = " OR ".join(f"{col(f)} IS NOT NULL" for f in ("resolved_at", "closed_by") if f in found) or "false"
    select["resolved"] = (f"CASE WHEN {resolved_at} OR {state} IN ('resolved', 'closed') THEN 'true' "
                          f"WHEN {state} IS NOT NULL THEN 'false' END")
    for src, target in options.column_map.items():
        match = [n for n in names if header_key(n) == header_key(src.strip())]
        if not match:
            raise InputFileError(f"--map names column(s) not in the file: {src}; columns are: {', '.join(names)}")
        select[target] = sql_ident(match[0])
    used = {found[f] for f in CANONICAL if f in found and CANONICAL[f] in select}
    kept = [n for n in names if n not in used and n not in {src for src in options.column_map}]
    order = [f for f in ("sys_mod_count", "sys_updated_at") if f in found]
    order_sql = {}
    if "sys_mod_count" in found:  # a list export may lack it: then sys_updated_on alone, else file order
        order_sql["sys_mod_count"] = f"TRY_CAST(trim({col('sys_mod_count')}) AS BIGINT)"
    if "sys_updated_at" in found:
        order_sql["sys_updated_at"] = _time(col("sys_updated_at"), fmt)
    events = EventLog(id_column=found["number"], order=tuple(found[f] for f in order))
    event_items = [f"nullif(trim({col('number')}), '') AS _event_id",
                   *(f"{order_sql[f]} AS _event_order_{i}" for i, f in enumerate(order, 1))]
    sql = (f"SELECT {', '.join(f'{v} AS {k}' for k, v in select.items())}, {', '.join(event_items)}, "
           f"{extra_json_sql(kept, _field_keys(found, kept))} AS _extra, CAST(NULL AS VARCHAR) AS _reject "
           f"FROM {cleaned}")
    notes = encoding_notes(head, encoding, options.encoding)
    if not order:
        notes.append("no sys_mod_count or sys_updated_on column: an incident's rows are ordered by file order")
    if _records_at_cap(path, encoding, delimiter):
        notes.append(f"exactly {EXPORT_CAP:,} incidents: ServiceNow's default export cap "
                     "(glide.ui.export.limit); the export may be cut short — export in smaller ranges")
    if fmt and not options.time_format:
        notes.append(f"times read as {fmt} (give --time-format to choose another layout)")
    return Scan(sql=sql, header_lines=1, rejects_table=rejects, time_format=fmt, notes=notes,
                fields=tuple(select), source_sql=source, source_columns=tuple(names), encoding=encoding,
                events=events)
