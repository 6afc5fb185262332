"""JSON lines importer (tests/data/jsonl): valid objects, broken lines, blank lines, extra keys,
JSON numbers and booleans."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from recontact.errors import InputFileError

#: Every reject of contacts.jsonl. Lines counted by hand in the file (2 and 7 are blank / spaces;
#: they are skipped but still count as lines).
JSONL_REJECTS = [
    (4, "not valid JSON"),  # plain text
    (5, "not a JSON object"),  # a JSON array
    (8, 'started_at "yesterday" is not an ISO 8601 time (give --time-format for other layouts)'),
    (9, 'talk_s "-3" is not a non-negative number'),  # a JSON number, negative
    (11, "not a JSON object"),  # a JSON string
    (12, "not valid JSON"),  # a cut-off object
    (14, 'direction "sideways" is not inbound or outbound; answered "maybe" is not true/false, '
         "yes/no, y/n or 1/0"),
]


def test_counts_and_exact_rejects(samples, run_import):
    path = samples / "jsonl" / "contacts.jsonl"
    s = run_import(path)
    assert s.source == "jsonl"
    assert [(r.line, r.reason) for r in s.rejects] == JSONL_REJECTS
    assert {r.file for r in s.rejects} == {str(path)}
    # 14 lines, 2 blank: 12 read; j1 appears twice (lines 1 and 13), with other content: a conflict.
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected) == (12, 4, 0, 1, 7)


def test_valid_rows_keep_their_physical_line_numbers(samples, run_import, query):
    run_import(samples / "jsonl" / "contacts.jsonl")
    assert query("SELECT contact_id, line FROM contacts ORDER BY line") == [
        ("j1", 1), ("j2", 3), ("j3", 6), ("j6", 10),
    ]


def test_json_numbers_and_booleans_are_typed(samples, run_import, contact_rows):
    run_import(samples / "jsonl" / "contacts.jsonl")
    rows = {r["contact_id"]: r for r in contact_rows()}
    j1, j6 = rows["j1"], rows["j6"]
    assert (j1["talk_s"], j1["csat"]) == (42.5, 5.0)  # JSON numbers
    assert (j1["answered"], j1["resolved"]) == (True, False)  # JSON true / false
    assert (j6["answered"], j6["escalated"]) == (True, True)  # JSON 1 and the string "yes"
    assert j6["wait_s"] == 7.0  # a number written as a JSON string
    assert j6["account_id"] == "12345"  # a JSON number used as an id is text


def test_strings_are_normalised_like_csv(samples, run_import, contact_rows):
    run_import(samples / "jsonl" / "contacts.jsonl")
    rows = {r["contact_id"]: r for r in contact_rows()}
    assert rows["j1"]["phone"] == "+14155550134"
    assert rows["j2"]["email"] == "bob@example.com"
    assert (rows["j2"]["channel"], rows["j2"]["direction"]) == ("chat", "outbound")
    assert rows["j2"]["started_at"] == datetime(2026, 2, 1, 9, 0, tzinfo=UTC)  # +01:00 honoured
    assert (rows["j3"]["withheld"], rows["j3"]["customer_key"]) == (True, None)


def test_unknown_keys_are_kept_in_extra(samples, run_import, contact_rows):
    run_import(samples / "jsonl" / "contacts.jsonl")
    rows = {r["contact_id"]: r for r in contact_rows()}
    extra = json.loads(rows["j1"]["extra"])
    # The whole object is kept, with JSON types (not strings) and nesting intact.
    assert extra["vip"] is True
    assert extra["plan"] == {"tier": "gold"}
    assert extra["talk_s"] == 42.5
    # Objects with only canonical keys have no extra.
    assert rows["j2"]["extra"] is None


def test_mapped_keys_and_tz(samples, run_import, contact_rows):
    run_import(samples / "jsonl" / "mapped.jsonl", tz="America/New_York",
               column_map={"id": "contact_id", "When": "started_at", "Caller ID": "phone"})
    rows = contact_rows()
    assert [r["contact_id"] for r in rows] == ["x1", "x2"]
    assert [r["started_at"] for r in rows] == [datetime(2026, 2, 1, 14, tzinfo=UTC),
                                               datetime(2026, 2, 1, 15, tzinfo=UTC)]
    assert [r["phone"] for r in rows] == ["+14155550134", "+14155550134"]
    assert len({r["customer_key"] for r in rows}) == 1
    assert json.loads(rows[0]["extra"])["Queue Name"] == "billing"


def test_reimport_adds_nothing(samples, run_import, query):
    path = samples / "jsonl" / "contacts.jsonl"
    run_import(path)
    again = run_import(path)
    assert (again.imported, again.duplicates, again.conflicts, again.rejected) == (0, 4, 1, 7)
    assert query("SELECT count(*) FROM contacts") == [(4,)]


def test_a_file_that_is_not_json_lines(tmp_path, run_import):
    path = tmp_path / "not.jsonl"
    path.write_text("started_at,phone\n2026-01-01T00:00:00Z,4155550134\n")
    with pytest.raises(InputFileError) as e:
        run_import(path, source="jsonl")
    assert str(e.value) == f"{path}: line 1: not JSON lines (the first line does not start with '{{')"


def test_jsonl_with_crlf_line_endings(tmp_path, run_import, query):
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'{"contact_id": "r1", "started_at": "2026-02-01T09:00:00Z", "phone": "4155550134"}\r\n'
                     b"\r\n"
                     b'{"contact_id": "r2", "started_at": "2026-02-01T10:00:00Z", "phone": "4155550134"}\r\n')
    s = run_import(path)
    assert (s.imported, s.rejected) == (2, 0)
    assert query("SELECT contact_id, line, phone FROM contacts ORDER BY line") == [
        ("r1", 1, "+14155550134"), ("r2", 3, "+14155550134"),
    ]
