"""Asterisk CDR ``Master.csv`` (no header), in either column order Asterisk writes.

* ``cdr_csv`` (standard): accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
  lastdata, start, answer, end, duration, billsec, disposition, amaflags[, uniqueid, userfield,
  …further columns when ``loguniqueid``/``loguserfield``/sequence logging is on].
* ``cdr_custom`` with the sample template: clid, src, dst, dcontext, channel, dstchannel, lastapp,
  lastdata, start, answer, end, duration, billsec, disposition, amaflags, accountcode, uniqueid,
  userfield, sequence.

``src`` (else the number in ``clid``'s ``"Name" <number>``) is the caller; ``uniqueid`` is the
contact id; ``billsec`` is talk time and ``duration - billsec`` the time before answer.
Times are local wall-clock times of the PBX: pass ``--tz``.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Scan, sql_ident
from recontact.importers.csv_scan import extra_json_sql, read_csv_sql
from recontact.importers.text import decode_head, detect_encoding, read_head

NAME = "asterisk"
DESCRIPTION = "Asterisk CDR Master.csv (cdr_csv standard order or cdr_custom sample order)"

STANDARD = ["accountcode", "src", "dst", "dcontext", "clid", "channel", "dstchannel", "lastapp",
            "lastdata", "start", "answer", "end", "duration", "billsec", "disposition", "amaflags",
            "uniqueid", "userfield"]
CUSTOM = ["clid", "src", "dst", "dcontext", "channel", "dstchannel", "lastapp", "lastdata", "start",
          "answer", "end", "duration", "billsec", "disposition", "amaflags", "accountcode",
          "uniqueid", "userfield", "sequence"]
DISPOSITIONS = ("ANSWERED", "NO ANSWER", "BUSY", "FAILED", "CONGESTION")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")
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
        names = STANDARD[: len(fields)]
    else:
        return None
    return names + [f"extra_{i}" for i in range(len(names) + 1, len(fields) + 1)]


def sniff(path: Path, head: str) -> bool:
    return detect_layout(_first_record(head)) is not None


def scan(con: object, path: Path, options: ImportOptions) -> Scan:
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
    select = {
        "contact_id": f"nullif(trim({col('uniqueid')}), '')" if "uniqueid" in names else "NULL",
        "started_at": col("start"),
        "channel": "'phone'",
        "direction": "'inbound'",
        "phone": f"coalesce(nullif(trim({col('src')}), ''), {number_in_clid})",
        "customer_name": name_in_clid,
        "agent_id": f"nullif(regexp_replace({col('dstchannel')}, '-[0-9a-fA-F]+(;[0-9]+)?$', ''), '')",
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
    kept = [n for n in names if n not in _USED or n in ("dcontext", "dstchannel")]
    kept += ["disposition", "clid"] if "clid" in names else ["disposition"]
    sql = (f"SELECT {', '.join(f'{v} AS {k}' for k, v in select.items())}, "
           f"{extra_json_sql(sorted(set(kept), key=names.index))} AS _extra, {reject} AS _reject "
           f"FROM {source}")
    layout = "cdr_custom" if names[0] == "clid" else "cdr_csv"
    notes = [f"Asterisk {layout} column order, {len(fields)} fields"]
    if options.tz == "UTC":
        notes.append("CDR times carry no zone and were read as UTC; pass --tz for the PBX's zone")
    return Scan(sql=sql, header_lines=0, rejects_table=rejects, notes=notes, fields=tuple(select),
                source_sql=source, source_columns=tuple(names), encoding=encoding)
