"""Every row accounted for (issue 10 §3): mixed line ends, NUL bytes and invalid UTF-8 in one row,
broken JSON lines, over-long lines, many columns. The broken row is rejected with its line; every
other row lands, with its own line number.

Expected line numbers come from ``lines_of`` below: a brute-force reading of the bytes (split on
LF, numbered from 1), independent of the importer."""

from __future__ import annotations

import json

import pytest

from recontact.errors import InputFileError

START = "2026-01-05T09:00:00Z"


def lines_of(data: bytes, needle: bytes) -> list[int]:
    """The 1-based numbers of the lines (split on LF) that contain ``needle``."""
    return [i for i, line in enumerate(data.split(b"\n"), 1) if needle in line]


def csv_rows(n: int, *, tag: str = "r") -> list[bytes]:
    return [f"{tag}{i},{START},41555501{i:02d},cat{i}".encode() for i in range(1, n + 1)]


HEADER = b"contact_id,started_at,phone,category"


# --- line ends ---------------------------------------------------------------------------------


@pytest.mark.parametrize("first_end", [b"\r\n", b"\n"], ids=["crlf-first", "lf-first"])
def test_mixed_line_ends_import_every_row(tmp_path, run_import, query, first_end):
    other = b"\n" if first_end == b"\r\n" else b"\r\n"
    rows = [HEADER, *csv_rows(6)]
    data = b"".join(row + (first_end if i % 2 == 0 else other) for i, row in enumerate(rows))
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (6, 6, 0)
    assert any("mixes CRLF and LF" in n for n in s.notes)
    assert query("SELECT contact_id, line, category FROM contacts ORDER BY line") == [
        (f"r{i}", i + 1, f"cat{i}") for i in range(1, 7)  # no CR left in the last field
    ]
    assert not list(path.parent.glob("store/.recontact-lf-*"))  # the temporary copy is gone


def test_mixed_line_ends_with_a_quoted_line_break_and_a_bad_row(tmp_path, run_import, query):
    data = (HEADER + b"\r\n" + b'r1,' + START.encode() + b',4155550101,"two\r\nlines"\n'
            + b"r2,not a time,4155550102,x\r\n" + b"r3," + START.encode() + b",4155550103,y\n")
    path = tmp_path / "mixed.csv"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (3, 2, 1)
    assert [r.line for r in s.rejects] == lines_of(data, b"r2,")  # line 4
    assert query("SELECT contact_id, line FROM contacts ORDER BY line") == [("r1", 2), ("r3", 5)]


def test_mixed_line_ends_far_into_the_file(tmp_path, run_import, query):
    """The first MiB is all LF; a CRLF line comes later (the reader stops; the import retries
    from an LF copy)."""
    rows = [HEADER, *csv_rows(99)] * 1  # ~4 KB
    filler = [f"f{i},{START},4155550100,{'x' * 40}".encode() for i in range(30_000)]  # ~1.6 MB
    data = b"\n".join([*rows, *filler]) + b"\n" + b"late," + START.encode() + b",4155550199,end\r\n"
    path = tmp_path / "late.csv"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (99 + 30_000 + 1, 99 + 30_000 + 1, 0)
    late = lines_of(data, b"late,")[0]
    assert query("SELECT line, category FROM contacts WHERE contact_id = 'late'") == [(late, "end")]


def test_mixed_line_ends_in_json_lines_and_asterisk(samples, tmp_path, run_import, query):
    objects = [json.dumps({"contact_id": f"j{i}", "started_at": START, "phone": f"41555501{i:02d}"}).encode()
               for i in range(1, 5)]
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(objects[0] + b"\r\n" + objects[1] + b"\n" + b"\r\n" + objects[2] + b"\n" + objects[3] + b"\r\n")
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (4, 4, 0)
    assert query("SELECT contact_id, line FROM contacts ORDER BY line") == [("j1", 1), ("j2", 2), ("j3", 4), ("j4", 5)]

    cdr = (samples / "asterisk" / "cdr_csv.csv").read_bytes().split(b"\n")
    path = tmp_path / "mixed_cdr.csv"
    path.write_bytes(b"".join(line + (b"\r\n" if i % 2 else b"\n") for i, line in enumerate(cdr) if line))
    s = run_import(path, db=tmp_path / "cdr.duckdb")
    assert (s.source, s.read, s.imported, s.duplicates, s.rejected) == ("asterisk", 6, 4, 1, 1)
    assert [r.line for r in s.rejects] == [5]


# --- NUL bytes and invalid UTF-8 ---------------------------------------------------------------


def test_a_nul_byte_rejects_its_row_only(tmp_path, run_import, query):
    rows = csv_rows(5)
    rows[2] = rows[2].replace(b"cat3", b"c\x00t3")  # category (a text field)
    rows[3] = rows[3].replace(b"4155550104", b"41555\x0050104")  # the caller id
    data = b"\n".join([HEADER + b",note", *(r + b",ok" for r in rows[:4]), rows[4] + b",n\x00te"]) + b"\n"
    path = tmp_path / "nul.csv"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (5, 2, 3)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (lines_of(data, b"r3,")[0], "a NUL byte in category"),
        (lines_of(data, b"r4,")[0], "a NUL byte in phone"),
        (lines_of(data, b"r5,")[0], "a NUL byte in an unmapped column"),
    ]
    assert query("SELECT contact_id, line, phone FROM contacts ORDER BY line") == [
        ("r1", 2, "+14155550101"), ("r2", 3, "+14155550102"),
    ]


def test_a_nul_byte_in_a_json_line_rejects_it(tmp_path, run_import, query):
    good = json.dumps({"contact_id": "j1", "started_at": START}).encode()
    bad = b'{"contact_id": "j2", "started_at": "' + START.encode() + b'", "x": "a\x00b"}'
    data = b"\n".join([good, bad, good.replace(b"j1", b"j3")]) + b"\n"
    path = tmp_path / "nul.jsonl"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (3, 2, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [(2, "not valid JSON")]
    assert query("SELECT contact_id, line FROM contacts ORDER BY line") == [("j1", 1), ("j3", 3)]


def test_an_escaped_nul_in_a_json_line_rejects_it(tmp_path, run_import, query):
    path = tmp_path / "escaped.jsonl"
    path.write_text(json.dumps({"contact_id": "j1", "started_at": START, "phone": "4155550101"}) + "\n"
                    + json.dumps({"contact_id": "j2", "started_at": START, "phone": "41555\x0050102"}) + "\n"
                    + json.dumps({"contact_id": "j3", "started_at": START, "note": "a\x00b"}) + "\n")
    assert b"\\u0000" in path.read_bytes() and b"\x00" not in path.read_bytes()
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (3, 1, 2)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (2, "a NUL byte in phone"), (3, "a NUL byte in an unmapped column")]
    assert query("SELECT contact_id FROM contacts") == [("j1",)]


def test_a_binary_file_is_still_refused_whole(tmp_path, run_import):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4)
    with pytest.raises(InputFileError, match="looks binary"):
        run_import(path)
    # A ZIP's signature followed by junk is a damaged archive (ZIPs are read: importers/compressed.py).
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4)
    with pytest.raises(InputFileError, match="the zip file is damaged or cut short"):
        run_import(path)


# --- JSON lines: every line counted, broken ones rejected with their line -----------------------


def test_json_lines_every_line_accounted_for(tmp_path, run_import, query):
    def obj(i: int, **more: object) -> bytes:
        return json.dumps({"contact_id": f"j{i}", "started_at": START, "phone": f"41555501{i:02d}", **more},
                          ensure_ascii=False).encode()

    lines = [
        obj(1),
        b"",  # blank: not a row
        obj(2)[:-1] + b', "x": "a\x01b"}',  # a raw control character
        obj(3)[:-1] + b', "customer_name": "Ren\xe9e"}',  # a Latin-1 byte in a UTF-8 file
        obj(4)[:-12],  # cut off
        b"   ",
        obj(5, customer_name="Zoë"),
        b"[1, 2]",
        obj(6),
        obj(1),  # a duplicate of line 1
    ]
    data = b"\n".join(lines) + b"\n"
    path = tmp_path / "broken.jsonl"
    path.write_bytes(data)
    s = run_import(path)
    non_blank = sum(1 for line in lines if line.strip())
    assert s.read == non_blank == 8
    assert s.read == s.imported + s.duplicates + s.rejected
    assert (s.imported, s.duplicates, s.rejected) == (3, 1, 4)
    assert [(r.line, r.reason.split(" (")[0]) for r in s.rejects] == [
        (3, "not valid JSON"), (4, "not valid UTF-8 text"), (5, "not valid JSON"), (8, "not a JSON object"),
    ]
    assert query("SELECT contact_id, line FROM contacts ORDER BY line") == [
        ("j1", lines_of(data, b'"j1"')[0]), ("j5", lines_of(data, b'"j5"')[0]), ("j6", lines_of(data, b'"j6"')[0]),
    ]
    assert query("SELECT customer_name FROM contacts WHERE contact_id = 'j5'") == [("Zoë",)]


# --- sizes: a line too long, many columns, empty and header-only files ---------------------------


def test_a_line_longer_than_the_limit_is_rejected_alone(tmp_path, run_import, query):
    rows = csv_rows(3)
    rows[1] = rows[1] + b"," + b"x" * (5 << 20)  # 5 MiB in one record
    data = b"\n".join([HEADER + b",note", rows[0] + b",a", rows[1], rows[2] + b",c"]) + b"\n"
    path = tmp_path / "long.csv"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (3, 2, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (3, "the line is longer than 4 MiB, the most one record may take")]
    assert query("SELECT contact_id, line FROM contacts ORDER BY line") == [("r1", 2), ("r3", 4)]


def test_many_columns(tmp_path, run_import, contact_rows):
    n = 2_000
    header = "started_at,phone," + ",".join(f"c{i}" for i in range(n))
    row = f"{START},4155550101," + ",".join(str(i) for i in range(n))
    path = tmp_path / "wide.csv"
    path.write_text(f"{header}\n{row}\n{row.replace('4155550101', '4155550102')}\n")
    s = run_import(path)
    assert (s.imported, s.rejected) == (2, 0)
    extra = json.loads(contact_rows()[0]["extra"])
    assert len(extra) == n and extra["c1999"] == "1999"


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (HEADER + b"\n", "no valid contact in 0 rows (the file has no rows after its header)"),
    (HEADER + b"\r\n\r\n\n", "no valid contact in 0 rows (the file has no rows after its header)"),
    (b"\n\n{}\n", "no valid contact in 1 rows; first: line 3: started_at is missing"),
])
def test_empty_and_header_only_files(tmp_path, run_import, store_path, content, message):
    path = tmp_path / "e.csv"
    path.write_bytes(content)
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(e.value) == f"{path}: {message}"


def test_a_nul_byte_in_a_typed_value_is_named_and_shown(tmp_path, run_import):
    data = HEADER + b"\n" + csv_rows(1)[0] + b"\n" + b"r2,\x002026-01-05T09:00:00Z,4155550102,x\n"
    path = tmp_path / "nul_time.csv"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.imported, s.rejected) == (1, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (3, 'a NUL byte in a value; started_at "\\02026-01-05T09:00:00Z" is not an ISO 8601 time '
            "(give --time-format for other layouts)")]


def test_a_stray_latin1_byte_in_an_ascii_file_names_its_line(tmp_path, run_import, contact_rows):
    """No UTF-8 characters at all: the file is read as Latin-1 (the row kept, its byte as é), and a
    note names the line; --encoding utf-8 rejects the row instead."""
    data = HEADER + b"\n" + csv_rows(1)[0] + b"\n" + b"r2,2026-01-05T10:00:00Z,4155550102,caf\xe9\n"
    path = tmp_path / "stray.csv"
    path.write_bytes(data)
    s = run_import(path)
    assert (s.imported, s.rejected) == (2, 0)
    assert "read as latin-1" in s.notes
    assert any(n.startswith("line 3 has bytes that are not UTF-8") for n in s.notes)
    assert contact_rows()[1]["category"] == "café"
    s = run_import(path, encoding="utf-8", db=tmp_path / "strict.duckdb")
    assert (s.imported, s.rejected) == (1, 1)
    assert s.rejects[0].line == 3
