"""What the importers of vendors' CSV exports share (Twilio, Freshdesk, Zendesk, FreeSWITCH).

A vendor export has a documented header; each importer names, per canonical field, the columns
that feed it (by their documented spellings, compared as ``generic_csv.header_key`` compares
them: case, spaces, ``_`` and ``-`` ignored) and SQL over them. Every column it does not turn into
a field is kept in ``extra``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan, check_map_targets, sql_ident, sql_str
from recontact.importers.csv_scan import extra_json_sql, read_csv_sql
from recontact.importers.generic_csv import header_key
from recontact.importers.text import (
    decode_head,
    dedupe_names,
    detect_delimiter,
    detect_encoding,
    encoding_notes,
    parse_header,
    read_head,
)


@dataclass(frozen=True)
class Header:
    """A CSV file's first MiB, its encoding, delimiter and (unique) column names."""

    head: bytes
    encoding: str
    delimiter: str
    names: list[str]

    def find(self, *spellings: str) -> str | None:
        """The first column named like one of ``spellings`` (in the order of ``spellings``)."""
        keys = {header_key(n): n for n in reversed(self.names)}
        return next((keys[header_key(s)] for s in spellings if header_key(s) in keys), None)


def read_header(path: Path, options: ImportOptions) -> Header:
    head = read_head(path)
    encoding = detect_encoding(head, options.encoding)
    text = decode_head(head, encoding)
    delimiter = detect_delimiter(text, options.delimiter)
    return Header(head, encoding, delimiter, dedupe_names(parse_header(text, delimiter)))


#: How much of the head ``header_of`` sniffs the delimiter in: csv.Sniffer's regular expressions
#: take quadratic time on one long line (a 1 MB JSON page took 12 s per vendor format asked).
SNIFF_CHARS = 64 * 1024


def header_of(head: str) -> list[str]:
    """The header's column names, for ``sniff`` (delimiter detected); none for JSON (a head
    opening with ``{`` or ``[``) or an empty head."""
    text = head.lstrip()
    if not text or text[0] in "{[":
        return []
    return [n.strip() for n in parse_header(head, detect_delimiter(head[:SNIFF_CHARS]))]


def has_columns(head: str, *required: str) -> str | None:
    """``sniff`` for a header naming every one of ``required``: ``"header has A, B, C"``, or None."""
    keys = {header_key(n) for n in header_of(head)}
    if all(header_key(r) in keys for r in required):
        return f"header has {', '.join(required)}"
    return None


def present(*names: str | None) -> set[str]:
    """The columns of ``names`` the file has (``Header.find`` gives None for the others)."""
    return {n for n in names if n is not None}


def col(name: str | None) -> str:
    """SQL: the column's trimmed text, NULL when empty or absent."""
    return f"nullif(trim({sql_ident(name)}), '')" if name else "CAST(NULL AS VARCHAR)"


def rfc2822_or_text(expr: str) -> str:
    """SQL: an RFC 2822 time (``Fri, 05 Jan 2024 17:15:22 +0000``, as Twilio's API writes) as ISO
    8601 text; any other text unchanged (ISO 8601 with or without an offset is read as usual)."""
    parsed = f"try_strptime({expr}, '%a, %d %b %Y %H:%M:%S %z')"
    return f"coalesce(strftime({parsed}, '%Y-%m-%dT%H:%M:%S%z'), {expr})"


def vendor_scan(path: Path, options: ImportOptions, header: Header, select: dict[str, str], used: Iterable[str],
                reject: str = "CAST(NULL AS VARCHAR)", notes: Iterable[str] = (), has_header: bool = True) -> Scan:
    """The Scan of a vendor CSV: ``select`` (canonical field -> SQL over the file's columns), every
    column not in ``used`` kept in ``extra``, ``reject`` a reason per row (or NULL). ``--map``
    entries name file columns and override the importer's choice for their field. A file without
    a header row (``has_header`` false) is read with ``header.names`` as its column names."""
    check_map_targets(options.column_map)
    select = dict(select)
    taken = set(used)
    for src, target in options.column_map.items():
        name = header.find(src)
        if name is None:
            raise InputFileError(f"--map names column(s) not in the file: {src}; "
                                 f"columns are: {', '.join(header.names)}")
        select[target] = col(name)
        taken.add(name)
    source, rejects = read_csv_sql(path, header.names, delimiter=header.delimiter, encoding=header.encoding,
                                   header=has_header)
    kept = [n for n in header.names if n not in taken]
    sql = (f"SELECT {', '.join(f'{v} AS {sql_ident(k)}' for k, v in select.items())}, "
           f"{extra_json_sql(kept)} AS _extra, {reject} AS _reject FROM {source}")
    return Scan(sql=sql, header_lines=int(has_header), rejects_table=rejects, time_format=options.time_format,
                notes=[*notes, *encoding_notes(header.head, header.encoding, options.encoding)],
                fields=tuple(select), source_sql=source, source_columns=tuple(header.names),
                encoding=header.encoding)


def one_of(expr: str, label: str, allowed: Iterable[str]) -> str:
    """SQL: a reject reason when the lower-cased ``expr`` is missing or not in ``allowed``."""
    words = list(allowed)
    listed = ", ".join(sql_str(w) for w in words)
    return (f"CASE WHEN {expr} IS NULL THEN {sql_str(label + ' is missing')} "
            f"WHEN lower({expr}) NOT IN ({listed}) THEN {sql_str(label + ' ')} || '\"' || left({expr}, 60) || '\"' "
            f"|| {sql_str(' is not one of ' + ', '.join(words))} END")


def first_reason(*reasons: str) -> str:
    """SQL: the first non-NULL of several reject reasons."""
    return f"coalesce({', '.join(reasons)})" if len(reasons) > 1 else reasons[0]
