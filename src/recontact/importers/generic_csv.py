"""Generic CSV (or semicolon / tab separated) export with a header row.

Headers naming a canonical field are used as they are (case, spaces, ``_`` and ``-`` ignored:
``CustomerID`` = ``customer_id``); ``--map "Caller
ID=phone"`` maps others; common spellings (``caller id``, ``timestamp`` …) are recognised and said
so; every other column is kept in ``extra``.
"""

from __future__ import annotations

from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import EventLog, ImportOptions, Scan, check_map_targets, sql_ident, sql_str
from recontact.importers.csv_scan import extra_json_sql, read_csv_sql
from recontact.importers.text import (
    decode_head,
    dedupe_names,
    detect_delimiter,
    detect_encoding,
    encoding_notes,
    parse_header,
    read_head,
)
from recontact.schema import CONTACT_FIELDS

NAME = "csv"
DESCRIPTION = "CSV with a header row; canonical column names, or mapped with --map"

#: Header spellings seen in real exports, mapped to canonical fields.
ALIASES: dict[str, str] = {
    "id": "contact_id", "call_id": "contact_id", "interaction_id": "contact_id",
    "timestamp": "started_at", "start": "started_at", "start_time": "started_at",
    "started": "started_at", "date": "started_at", "datetime": "started_at", "created_at": "started_at",
    "caller_id": "phone", "callerid": "phone", "caller id": "phone", "ani": "phone", "from": "phone",
    "phone_number": "phone", "caller": "phone", "msisdn": "phone",
    "e-mail": "email", "email_address": "email",
    "account": "account_id", "customer_id": "account_id", "account_number": "account_id",
    "employee": "employee_id", "staff_id": "employee_id",
    "agent": "agent_id", "agent_name": "agent_id", "reason": "category", "topic": "category",
    "ticket": "ticket_id", "case_id": "ticket_id",
}


def sniff(path: Path, head: str) -> str | None:
    """Why the header reads as contacts: it names canonical fields (or their common spellings)."""
    if not head.strip():
        return None
    names = dedupe_names(parse_header(head, detect_delimiter(head)))
    mapping, _, _ = map_columns(names, {})
    if not mapping:
        return None
    said = [src if header_key(src) == header_key(field) else f"{src} (as {field})" for src, field in mapping.items()]
    return f"header has {', '.join(said[:4])}{' …' if len(said) > 4 else ''}"


def header_key(name: str) -> str:
    """``'Customer ID'``, ``'customer_id'``, ``'CustomerID'`` -> ``'customerid'``: how headers compare."""
    return "".join(ch for ch in name.lower() if ch not in " _-")


_CANONICAL = {header_key(f): f for f in CONTACT_FIELDS}
_ALIASES = {header_key(k): v for k, v in ALIASES.items()}


def map_columns(names: list[str], column_map: dict[str, str],
                reserved: frozenset[str] = frozenset()) -> tuple[dict[str, str], list[str], list[str]]:
    """Source column -> canonical field; the unmapped (kept) columns; notes on guessed mappings.

    Explicit ``column_map`` entries win, then exact canonical names, then ALIASES. Each canonical
    field takes the first column that claims it; ``reserved`` fields (made otherwise, by a profile)
    are taken by explicit entries only.
    """
    check_map_targets(column_map)
    wanted = {header_key(k.strip()): v for k, v in column_map.items()}
    present = {header_key(n) for n in names}
    missing = sorted(k for k in column_map if header_key(k.strip()) not in present)
    if missing:
        raise InputFileError(f"--map names column(s) not in the file: {', '.join(missing)}; "
                             f"columns are: {', '.join(names)}")
    mapping: dict[str, str] = {}
    notes: list[str] = []
    taken: set[str] = set()
    for stage in ("map", "exact", "alias"):
        if stage == "exact":
            taken |= reserved
        for name in names:
            key = header_key(name)
            if name in mapping:
                continue
            target = {"map": wanted.get(key), "exact": _CANONICAL.get(key), "alias": _ALIASES.get(key)}[stage]
            if target and target not in taken:
                mapping[name] = target
                taken.add(target)
                if stage == "alias":
                    notes.append(f"column {name!r} read as {target}")
    kept = [n for n in names if n not in mapping]
    return mapping, kept, notes


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    head = read_head(path)
    encoding = detect_encoding(head, options.encoding)
    text = decode_head(head, encoding)
    delimiter = detect_delimiter(text, options.delimiter)
    names = dedupe_names(parse_header(text, delimiter))
    mapping, kept, notes = map_columns(names, options.column_map, made_targets(options))
    # an explicit --map wins over what the profile makes
    made = {f: sql for f, sql in made_fields(names, options).items() if f not in mapping.values()}
    if "started_at" not in [*mapping.values(), *made]:
        raise InputFileError(
            f"{path}: line 1: no started_at column among {', '.join(names)}; "
            f"name one with --map \"YOUR COLUMN=started_at\""
        )
    source, rejects = read_csv_sql(path, names, delimiter=delimiter, encoding=encoding, header=True)
    select = [f"{sql_ident(src)} AS {sql_ident(field)}" for src, field in mapping.items()]
    select += [f"{value} AS {sql_ident(field)}" for field, value in made.items()]
    events = event_log(names, options)
    if events is not None:
        select += event_columns(events)
    skip = skip_sql(names, options)
    if skip:
        select.append(f"{skip} AS _skip")
    sql = (f"SELECT {', '.join(select)}, {extra_json_sql(kept)} AS _extra, "
           f"CAST(NULL AS VARCHAR) AS _reject FROM {cleaned_sql(source, names, options)}")
    notes[:0] = encoding_notes(head, encoding, options.encoding)
    if options.profile:
        notes.insert(0, f"mapping profile {options.profile}")
    return Scan(sql=sql, header_lines=1, rejects_table=rejects, time_format=options.time_format,
                notes=notes, fields=(*mapping.values(), *made), source_sql=source, source_columns=tuple(names),
                encoding=encoding, events=events, skips=bool(skip))


def _in(col: str, values: tuple[str, ...]) -> str:
    """SQL: the trimmed column is one of ``values``."""
    return f"coalesce(trim({col}) IN ({', '.join(map(sql_str, values))}), false)" if values else "false"


def made_targets(options: ImportOptions) -> frozenset[str]:
    """The canonical fields a profile makes (see made_fields)."""
    outcome = {"answered", "abandoned"} if options.outcome else set()
    return frozenset({*options.combine, *options.constants, *outcome})


def made_fields(names: list[str], options: ImportOptions) -> dict[str, str]:
    """Canonical field -> SQL for the fields a profile makes: columns joined by a space (missing
    parts left out; none at all: missing), constants, outcome codes."""
    made: dict[str, str] = {}
    for target, columns in options.combine.items():
        parts = [f"nullif(trim({sql_ident(_column(names, c, 'the profile'))}), '')" for c in columns]
        made[target] = f"nullif(concat_ws(' ', {', '.join(parts)}), '')"
    made.update({target: sql_str(value) for target, value in options.constants.items()})
    outcome = options.outcome
    if outcome is not None:
        col = sql_ident(_column(names, outcome.column, "the profile's outcome"))
        yes, no = _in(col, outcome.answered), _in(col, outcome.abandoned)
        made["answered"] = f"CASE WHEN {yes} THEN 'true' WHEN {no} THEN 'false' END"
        made["abandoned"] = f"CASE WHEN {no} THEN 'true' WHEN {yes} THEN 'false' END"
    return made


def skip_sql(names: list[str], options: ImportOptions) -> str | None:
    """SQL: the row is one the profile says to skip (a listed value in one of its skip columns)."""
    tests = [_in(sql_ident(_column(names, c, "the profile's skip")), values) for c, values in options.skip.items()]
    return " OR ".join(tests) or None


def cleaned_sql(source: str, names: list[str], options: ImportOptions) -> str:
    """``source``, with a profile's placeholder values read as missing (in every use of the column)."""
    if not options.placeholders:
        return source
    blank = {_column(names, c, "the profile's placeholders"): v for c, v in options.placeholders.items()}
    cols = [f"CASE WHEN {_in(sql_ident(n), blank[n])} THEN NULL ELSE {sql_ident(n)} END AS {sql_ident(n)}"
            if n in blank else sql_ident(n) for n in names]
    return f"(SELECT {', '.join(cols)} FROM {source})"


def _column(names: list[str], wanted: str, what: str) -> str:
    """The header of ``names`` that ``wanted`` names (compared as headers are); InputFileError otherwise."""
    for name in names:
        if header_key(name) == header_key(wanted.strip()):
            return name
    raise InputFileError(f"{what} names column {wanted!r}, not in the file; columns are: {', '.join(names)}")


def event_log(names: list[str], options: ImportOptions) -> EventLog | None:
    """The EventLog ``--events ID_COLUMN`` (and its ordering columns) make of this file, if any."""
    if not options.events:
        return None
    order = tuple(_column(names, c, "--events order") for c in options.events_order)
    return EventLog(id_column=_column(names, options.events, "--events"), order=order)


def event_columns(events: EventLog) -> list[str]:
    """SELECT items: ``_event_id`` (trimmed; empty is none) and the ordering values: a column sorts
    as numbers where its values read as numbers, the others after them as text; an empty value
    sorts first."""
    items = [f"nullif(trim({sql_ident(events.id_column)}), '') AS _event_id"]
    for i, column in enumerate(events.order, 1):
        col = sql_ident(column)
        items.append(f"CASE WHEN trim({col}) <> '' THEN {{'n': TRY_CAST(trim({col}) AS DOUBLE), 't': trim({col})}} "
                     f"END AS _event_order_{i}")
    return items
