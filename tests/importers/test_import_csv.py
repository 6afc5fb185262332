"""Generic CSV importer, through the library entry point: headers, mapping, delimiters,
encodings, line endings, timestamps, booleans and malformed rows (files in tests/data/csv)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact.errors import InputFileError


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- headers, mapping, extra columns ------------------------------------------------------------


def test_canonical_headers_are_matched_case_insensitively(samples, run_import, contact_rows):
    s = run_import(samples / "csv" / "canonical.csv")
    assert (s.read, s.imported, s.rejected) == (2, 2, 0)
    k1, k2 = contact_rows()
    assert k1["contact_id"] == "k1"
    assert k1["started_at"] == utc(2026, 1, 5, 9, 0)
    assert k1["phone"] == "+14155550134"
    assert k1["phone_raw"] == "(415) 555-0134"
    assert k1["email"] == "ann.lee@example.com"
    assert (k1["channel"], k1["direction"], k1["agent_id"], k1["category"]) == ("phone", "inbound", "a7", "billing")
    assert (k1["talk_s"], k1["wait_s"], k1["hold_s"], k1["wrap_s"], k1["csat"]) == (300, 12.5, 0, 30, 4)
    assert (k1["answered"], k1["resolved"]) == (True, False)
    # "E-mail" is a channel synonym; empty numeric and boolean cells are NULL, not 0 / false.
    assert (k2["channel"], k2["direction"], k2["resolved"]) == ("email", "outbound", True)
    assert (k2["talk_s"], k2["answered"], k2["phone"]) == (None, None, None)


def test_unknown_columns_are_kept_in_extra_as_json(samples, run_import, contact_rows):
    run_import(samples / "csv" / "canonical.csv")
    k1, k2 = contact_rows()
    assert json.loads(k1["extra"])["Plan Tier"] == "gold"
    assert json.loads(k2["extra"])["Region Code"] == "EU-1"
    # Only the unknown columns: no canonical field leaks into extra.
    assert set(json.loads(k1["extra"])) <= {"Plan Tier", "Region Code"}


def test_explicit_map_wins_over_a_guessed_alias(samples, run_import, contact_rows):
    """``Caller`` and ``Caller ID`` are both known spellings of phone; the first column would win,
    so ``--map "Caller ID=phone"`` must take precedence and leave ``Caller`` in extra."""
    path = samples / "csv" / "mapped.csv"
    s = run_import(path, column_map={"Caller ID": "phone", "When": "started_at"})
    assert (s.imported, s.rejected) == (2, 0)
    rows = contact_rows()
    assert [r["phone"] for r in rows] == ["+14155550134", "+14155550134"]
    assert [r["started_at"] for r in rows] == [utc(2026, 1, 5, 9), utc(2026, 1, 5, 10)]
    assert [r["category"] for r in rows] == ["billing", "login"]  # "Topic" alias
    assert "column 'Topic' read as category" in s.notes
    extra = json.loads(rows[0]["extra"])
    assert extra == {"Ticket Ref": "T-1", "Caller": "Front Desk"}


def test_without_the_map_the_first_alias_column_is_the_phone(samples, run_import, contact_rows):
    run_import(samples / "csv" / "mapped.csv", column_map={"When": "started_at"})
    rows = contact_rows()
    assert [r["phone"] for r in rows] == [None, None]
    assert [r["extension"] for r in rows] == ["front desk", "front desk"]
    assert json.loads(rows[0]["extra"])["Caller ID"] == "(415) 555-0134"


def test_map_keys_are_case_insensitive(samples, run_import, contact_rows):
    run_import(samples / "csv" / "mapped.csv", column_map={"caller id": "phone", "WHEN": "started_at"})
    assert [r["phone"] for r in contact_rows()] == ["+14155550134", "+14155550134"]


def test_no_started_at_column_is_an_error_naming_the_file_and_columns(samples, run_import, store_path):
    path = samples / "csv" / "mapped.csv"
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(path) in str(e.value)
    assert "no started_at column among Ticket Ref, Caller, Caller ID, When, Topic" in str(e.value)


def test_map_naming_a_missing_column_or_unknown_field_is_an_error(samples, run_import):
    path = samples / "csv" / "mapped.csv"
    with pytest.raises(InputFileError, match=r"--map names column\(s\) not in the file: Caller Number"):
        run_import(path, column_map={"Caller Number": "phone", "When": "started_at"})
    # Headers compare ignoring case, spaces, "_" and "-": CallerId is the column "Caller ID".
    assert run_import(path, column_map={"CallerId": "phone", "When": "started_at"}).imported > 0
    with pytest.raises(InputFileError, match=r"--map names unknown field\(s\) 'telephone'"):
        run_import(path, column_map={"Caller ID": "telephone", "When": "started_at"})


# --- delimiters, encodings, line endings --------------------------------------------------------


@pytest.mark.parametrize(("name", "note"), [("semicolon.csv", "a, b and c"), ("tab.tsv", "a, b; c")])
def test_semicolon_and_tab_delimiters_are_detected(samples, run_import, contact_rows, name, note):
    """The note column holds the other delimiters, so a wrong guess would split it or fail."""
    s = run_import(samples / "csv" / name)
    assert (s.imported, s.rejected) == (2, 0)
    rows = contact_rows()
    assert [r["phone"] for r in rows] == ["+14155550134", "+16505550199"]
    assert [r["category"] for r in rows] == ["billing", "login"]
    assert json.loads(rows[0]["extra"]) == {"note": note}


def test_comma_delimiter_is_detected(samples, run_import, contact_rows):
    run_import(samples / "csv" / "crlf.csv")
    assert [r["category"] for r in contact_rows()] == ["billing", "login", "password"]


def test_explicit_delimiter_overrides_detection(samples, run_import):
    # Told the semicolon file is comma-separated, there is one column and no started_at.
    with pytest.raises(InputFileError, match="no started_at column"):
        run_import(samples / "csv" / "semicolon.csv", delimiter=",")
    s = run_import(samples / "csv" / "tab.tsv", delimiter="\\t")
    assert s.imported == 2


def test_utf8_with_bom(samples, run_import, contact_rows):
    """The BOM must not end up in the first header (which would hide started_at)."""
    s = run_import(samples / "csv" / "utf8_bom.csv")
    assert (s.imported, s.rejected) == (1, 0)
    assert not any("latin-1" in n for n in s.notes)
    (row,) = contact_rows()
    assert row["started_at"] == utc(2026, 1, 5, 9)
    assert row["customer_name"] == "Zoë Café"
    assert json.loads(row["extra"]) == {"note": "€5 refund"}


def test_latin1_with_crlf_round_trips_accents(samples, run_import, contact_rows):
    raw = (samples / "csv" / "latin1_crlf.csv").read_bytes()
    assert b"M\xfcller" in raw and b"\r\n" in raw  # the sample really is Latin-1 with CRLF
    s = run_import(samples / "csv" / "latin1_crlf.csv")
    assert (s.imported, s.rejected) == (2, 0)
    assert "read as latin-1" in s.notes
    rows = contact_rows()
    assert [r["customer_name"] for r in rows] == ["Müller", "Renée"]
    # The last column must not keep the carriage return; the header's ß survives as a key.
    assert [json.loads(r["extra"]) for r in rows] == [{"Straße": "Königstraße 1"}, {"Straße": "Étoile"}]


def test_explicit_encoding_is_honoured(tmp_path, run_import, contact_rows):
    path = tmp_path / "utf8.csv"
    path.write_bytes("started_at,customer_name\n2026-01-05T09:00:00Z,Zoë\n".encode())
    s = run_import(path, encoding="latin-1")
    assert "read as latin-1" in s.notes
    # Read as Latin-1 the UTF-8 bytes of "ë" become two characters: proof the option was used.
    assert contact_rows()[0]["customer_name"] == "ZoÃ«"


def test_unsupported_encoding_is_an_error(samples, run_import):
    with pytest.raises(InputFileError, match="unsupported encoding 'ebcdic'"):
        run_import(samples / "csv" / "crlf.csv", encoding="ebcdic")


def test_crlf_line_endings_values_and_line_numbers(samples, run_import, contact_rows):
    assert b"\r\n" in (samples / "csv" / "crlf.csv").read_bytes()
    s = run_import(samples / "csv" / "crlf.csv")
    assert (s.read, s.imported, s.rejected) == (4, 3, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (4, 'started_at "not a time" is not an ISO 8601 time (give --time-format for other layouts)'),
    ]
    rows = contact_rows()
    assert [(r["line"], r["contact_id"], r["category"]) for r in rows] == [
        (2, "c1", "billing"), (3, "c2", "login"), (5, "c4", "password"),
    ]


# --- malformed rows -----------------------------------------------------------------------------

#: Every reject of tests/data/csv/malformed.csv, by line (counted by hand in the file: line 1 is
#: the header; m01 is line 2 … m14 is line 15).
MALFORMED_REJECTS = [
    (3, "missing columns: Expected Number of Columns: 7 Found: 4"),
    (4, "too many columns: Expected Number of Columns: 7 Found: 8"),
    (5, 'started_at "2026-13-45 25:00" is not an ISO 8601 time (give --time-format for other layouts)'),
    (6, 'answered "perhaps" is not true/false, yes/no, y/n or 1/0'),
    (7, 'talk_s "-12" is not a non-negative number'),
    (8, 'direction "sideways" is not inbound or outbound'),
    (10, "started_at is missing"),
    (11, 'talk_s "abc" is not a non-negative number'),
    (13, 'direction "upward" is not inbound or outbound; answered "sometimes" is not true/false, '
         "yes/no, y/n or 1/0"),
    (14, "missing columns: Expected Number of Columns: 7 Found: 6"),
]


def test_malformed_rows_are_rejected_with_exact_line_and_reason(samples, run_import):
    path = samples / "csv" / "malformed.csv"
    s = run_import(path)
    assert [(r.line, r.reason) for r in s.rejects] == MALFORMED_REJECTS
    assert {r.file for r in s.rejects} == {str(path)}
    assert (s.read, s.imported, s.duplicates, s.rejected) == (14, 4, 0, 10)


def test_structural_rejects_keep_the_raw_line(samples, run_import):
    s = run_import(samples / "csv" / "malformed.csv")
    raw = {r.line: r.raw for r in s.rejects}
    assert raw[3] == "m02,2026-01-05T09:05:00Z,4155550134,no"
    assert raw[4] == "m03,2026-01-05T09:10:00Z,4155550134,yes,30,inbound,billing,surplus"


def test_valid_rows_around_malformed_ones_are_all_imported(samples, run_import, contact_rows):
    """Two adjacent unsplittable lines (3 and 4) must not shift the numbers of later rows."""
    run_import(samples / "csv" / "malformed.csv")
    got = [(r["line"], r["contact_id"], r["direction"], r["answered"], r["talk_s"]) for r in contact_rows()]
    assert got == [
        (2, "m01", "inbound", True, 30),
        (9, "m08", "outbound", False, 0),
        (12, "m11", "outbound", False, 5),  # "out" and "N"
        (15, "m14", "inbound", True, 8),  # "incoming" and "1"
    ]


# --- booleans -----------------------------------------------------------------------------------


def test_boolean_spellings(samples, run_import, query):
    s = run_import(samples / "csv" / "booleans.csv")
    got = dict(query("SELECT contact_id, answered FROM contacts"))
    expected_true = ["b01", "b03", "b05", "b07", "b09", "b11", "b13", "b15"]  # true TRUE yes Yes Y y 1 " t "
    expected_false = ["b02", "b04", "b06", "b08", "b10", "b12", "b14", "b16"]  # false False no NO N n 0 f
    assert {k for k, v in got.items() if v is True} == set(expected_true)
    assert {k for k, v in got.items() if v is False} == set(expected_false)
    assert got["b17"] is None  # empty cell: unknown, not false
    assert [(r.line, r.reason) for r in s.rejects] == [
        (19, 'answered "maybe" is not true/false, yes/no, y/n or 1/0'),
        (20, 'answered "2" is not true/false, yes/no, y/n or 1/0'),
    ]


# --- timestamps ---------------------------------------------------------------------------------


def test_timestamps_with_offsets_z_and_naive_in_the_tz_option(samples, run_import, query):
    """Offsets and ``Z`` are honoured whatever ``tz`` says; naive times (and bare dates) are read in
    ``tz`` (Europe/Paris: UTC+1 in January, UTC+2 in July)."""
    run_import(samples / "csv" / "timestamps.csv", tz="Europe/Paris")
    got = dict(query("SELECT contact_id, started_at FROM contacts"))
    assert got == {
        "z1": utc(2026, 1, 5, 9, 0),  # ...Z
        "z2": utc(2026, 1, 5, 8, 0),  # +01:00
        "z3": utc(2026, 1, 5, 14, 0),  # -05:00
        "z4": utc(2026, 1, 5, 8, 0),  # naive, Paris winter
        "z5": utc(2026, 7, 5, 7, 0),  # naive, Paris summer
        "z6": utc(2026, 1, 4, 23, 0),  # date only: local midnight
    }


def test_naive_timestamps_default_to_utc(samples, run_import, query):
    run_import(samples / "csv" / "timestamps.csv")
    got = dict(query("SELECT contact_id, started_at FROM contacts"))
    assert (got["z2"], got["z4"], got["z5"]) == (utc(2026, 1, 5, 8), utc(2026, 1, 5, 9), utc(2026, 7, 5, 9))


def test_time_format_option(samples, run_import, query):
    s = run_import(samples / "csv" / "time_format.csv", time_format="%d/%m/%Y %H:%M", tz="America/New_York")
    got = dict(query("SELECT contact_id, started_at FROM contacts"))
    assert got == {"f1": utc(2026, 1, 5, 18, 45), "f2": utc(2027, 1, 1, 4, 59)}  # EST = UTC-5
    assert [(r.line, r.reason) for r in s.rejects] == [
        (4, 'started_at "2026-01-05 13:45" does not match --time-format %d/%m/%Y %H:%M'),
        (5, 'started_at "12/31/2026 10:00" does not match --time-format %d/%m/%Y %H:%M'),
    ]


def test_dst_gap_and_repeated_hour_in_new_york(samples, run_import, query):
    """Naive local times at the 2026 America/New_York transitions, as DuckDB resolves them.

    * Spring forward, 2026-03-08: 02:00-02:59 does not exist. ``02:30`` is read as 03:30 EDT,
      i.e. 07:30 UTC (shifted forward by the gap), not rejected.
    * Fall back, 2026-11-01: 01:00-01:59 happens twice. ``01:30`` is read as the LATER occurrence,
      01:30 EST = 06:30 UTC (Python's ``fold=1``), not 05:30 UTC. A row that means the first one must
      carry its offset (``-04:00``), which is honoured.

    This is the behaviour recontact documents for naive times; if DuckDB ever changes it, these
    asserts say so.
    """
    run_import(samples / "csv" / "dst_new_york.csv", tz="America/New_York")
    got = dict(query("SELECT contact_id, started_at FROM contacts"))
    assert got == {
        "d1": utc(2026, 3, 8, 6, 59),  # 01:59 EST
        "d2": utc(2026, 3, 8, 7, 30),  # 02:30 in the gap -> 03:30 EDT
        "d3": utc(2026, 3, 8, 7, 0),  # 03:00 EDT
        "d4": utc(2026, 11, 1, 4, 59),  # 00:59 EDT
        "d5": utc(2026, 11, 1, 6, 30),  # 01:30 repeated -> later, EST
        "d6": utc(2026, 11, 1, 7, 0),  # 02:00 EST
        "d7": utc(2026, 11, 1, 5, 30),  # 01:30-04:00, explicit
    }
    # The gap row sorts after 03:00 EDT, exactly as its instant says.
    assert got["d2"] > got["d3"]
