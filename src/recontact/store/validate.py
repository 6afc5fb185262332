"""SQL that turns an importer's text columns into typed canonical columns plus a reject reason.

Each ``*_sql`` function returns ``(value_expression, reason_expression)``: the reason is NULL when
the value is fine (missing optional values are fine), else a message naming the field and value.
"""

from __future__ import annotations

from recontact.importers.base import sql_str
from recontact.schema import (
    CHANNEL_SYNONYMS,
    DIRECTION_SYNONYMS,
    FALSE_WORDS,
    TRUE_WORDS,
)


def _quoted(col: str) -> str:
    """SQL: the raw value in double quotes for messages, shortened to 60 characters."""
    return f"'\"' || left({col}, 60) || '\"'"


def _present(col: str) -> str:
    return f"({col} IS NOT NULL AND trim({col}) <> '')"


def _words(words: frozenset[str]) -> str:
    return ", ".join(sql_str(w) for w in sorted(words))


def timestamp_sql(col: str, time_format: str | None) -> tuple[str, str]:
    """Instant from ISO 8601 text (offset honoured; naive text read in the session time zone), or
    from ``time_format`` (strptime) when given."""
    if time_format:
        value = f"CAST(try_strptime(trim({col}), {sql_str(time_format)}) AS TIMESTAMPTZ)"
        hint = f"does not match --time-format {time_format}"
    else:
        value = f"TRY_CAST(trim({col}) AS TIMESTAMPTZ)"
        hint = "is not an ISO 8601 time (give --time-format for other layouts)"
    reason = (f"CASE WHEN NOT {_present(col)} THEN 'started_at is missing' "
              f"WHEN {value} IS NULL THEN 'started_at ' || {_quoted(col)} || ' {hint}' END")
    return value, reason


def number_sql(col: str, field: str, *, non_negative: bool = True) -> tuple[str, str]:
    """A finite number; optionally not negative."""
    value = f"TRY_CAST(trim({col}) AS DOUBLE)"
    bad = f"({value} IS NULL OR NOT isfinite({value}){f' OR {value} < 0' if non_negative else ''})"
    reason = (f"CASE WHEN {_present(col)} AND {bad} THEN '{field} ' || {_quoted(col)} "
              f"|| ' is not a {'non-negative ' if non_negative else ''}number' END")
    return f"CASE WHEN {_present(col)} THEN {value} END", reason


def boolean_sql(col: str, field: str) -> tuple[str, str]:
    """true/false, yes/no, y/n, 1/0, t/f in any case."""
    low = f"lower(trim({col}))"
    value = (f"CASE WHEN {low} IN ({_words(TRUE_WORDS)}) THEN true "
             f"WHEN {low} IN ({_words(FALSE_WORDS)}) THEN false END")
    reason = (f"CASE WHEN {_present(col)} AND {value} IS NULL THEN '{field} ' || {_quoted(col)} "
              f"|| ' is not true/false, yes/no, y/n or 1/0' END")
    return value, reason


def _synonyms(low: str, synonyms: dict[str, str]) -> str:
    cases = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in sorted(synonyms.items()))
    return f"CASE {low} {cases} ELSE {low} END"


def channel_sql(col: str) -> tuple[str, str]:
    """Lower-cased, common synonyms folded (call -> phone, e-mail -> email…); others kept."""
    low = f"nullif(lower(trim({col})), '')"
    return _synonyms(low, CHANNEL_SYNONYMS), "CAST(NULL AS VARCHAR)"


def direction_sql(col: str) -> tuple[str, str]:
    """inbound / outbound (in, out, incoming, outgoing accepted); missing means inbound."""
    low = f"lower(trim({col}))"
    value = f"coalesce(CASE WHEN {_present(col)} THEN {_synonyms(low, DIRECTION_SYNONYMS)} END, 'inbound')"
    reason = (f"CASE WHEN {value} NOT IN ('inbound', 'outbound') THEN 'direction ' || {_quoted(col)} "
              f"|| ' is not inbound or outbound' END")
    return value, reason


def text_sql(col: str) -> tuple[str, str]:
    """Trimmed text; empty is NULL."""
    return f"nullif(trim({col}), '')", "CAST(NULL AS VARCHAR)"
