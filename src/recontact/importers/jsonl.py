"""JSON lines: one JSON object per line, with the canonical field names (or ``--map``-ped keys).

Values may be JSON strings, numbers or booleans. Keys recontact does not know are kept: the
whole object is stored in ``extra`` when it has any. Blank lines are skipped.
"""

from __future__ import annotations

from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan, check_map_targets, sql_ident, sql_str
from recontact.importers.csv_scan import read_csv_sql
from recontact.importers.text import decode_head, detect_encoding, encoding_notes, read_head
from recontact.schema import CONTACT_FIELDS

NAME = "jsonl"
DESCRIPTION = "JSON lines (one object per line) with the canonical field names"


def sniff(path: Path, head: str) -> str | None:
    return "the first line is a JSON object" if head.lstrip().startswith("{") else None


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
    check_map_targets(options.column_map)
    head = read_head(path)
    encoding = detect_encoding(head, options.encoding)
    if not decode_head(head, encoding).lstrip().startswith("{"):
        raise InputFileError(f"{path}: line 1: not JSON lines (the first line does not start with '{{')")
    # One text column per physical line: a delimiter and quote that JSON never uses unescaped. Lines
    # the reader cannot take (not valid text, a raw control character, too long) land in its
    # rejects table, with their byte offset for the line number.
    source, rejects = read_csv_sql(path, ["line"], delimiter="\x01", encoding=encoding, header=False, quote="")
    keys = {f: f for f in CONTACT_FIELDS}
    keys.update({f: src for src, f in options.column_map.items()})
    select = ", ".join(f"j->>{sql_str(json_pointer(k))} AS {sql_ident(f)}" for f, k in keys.items())
    known = ", ".join(sql_str(k) for k in keys.values())
    extra = f"CASE WHEN len(list_filter(json_keys(j), lambda k: k NOT IN ({known}))) > 0 THEN j END"
    # _line counts the lines the reader returned (blank ones included); the store adds back the
    # lines it set aside as rejects.
    sql = (
        f"SELECT _line, {select}, {extra} AS _extra, "
        f"CASE WHEN j IS NULL THEN 'not valid JSON' WHEN json_type(j) <> 'OBJECT' "
        f"THEN 'not a JSON object' END AS _reject "
        f"FROM (SELECT _line, CASE WHEN json_valid(line) THEN line END AS j "
        f"FROM (SELECT row_number() OVER () AS _line, line FROM {source}) WHERE trim(line) <> '')"
    )
    notes = encoding_notes(head, encoding, options.encoding)
    return Scan(sql=sql, header_lines=0, own_lines=True, time_format=options.time_format, notes=notes,
                rejects_table=rejects, encoding=encoding,
                reader_reasons={"TOO MANY COLUMNS": "not valid JSON (a raw control character in the line)"})


def json_pointer(key: str) -> str:
    """A JSON pointer to a top-level member: any key works (spaces, dots, quotes, empty)."""
    return "/" + key.replace("~", "~0").replace("/", "~1")
