"""Files read without the user converting them: gzip and one-file ZIP archives, UTF-16 with a BOM,
Windows-1252; and format detection (which format, and why; ambiguous and unknown files).

Compressed and re-encoded variants are made from the hand-written samples in a temporary folder."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import pytest

from recontact import desk
from recontact.config import Settings
from recontact.errors import InputFileError
from recontact.importers import FORMATS, detect_format, generic_csv, jsonl


@pytest.fixture
def crlf(samples) -> Path:
    return samples / "csv" / "crlf.csv"  # 4 rows, CRLF line ends, line 4 rejected


def _gzip(src: Path, dst: Path) -> Path:
    dst.write_bytes(gzip.compress(src.read_bytes()))
    return dst


def test_gzip_is_read_directly(crlf, tmp_path, run_import, contact_rows):
    s = run_import(_gzip(crlf, tmp_path / "calls.csv.gz"))
    assert (s.source, s.read, s.imported, s.rejected) == ("csv", 4, 3, 1)
    assert s.rejects[0].line == 4
    assert "read from the gzip file" in s.notes
    assert [r["category"] for r in contact_rows()] == ["billing", "login", "password"]
    assert not list(tmp_path.glob("store/.recontact-plain-*"))  # the copy is gone


def test_gzip_rejects_keep_their_lines(samples, tmp_path, run_import):
    plain = run_import(samples / "twilio" / "call_log.csv", db=tmp_path / "a.duckdb")
    packed = run_import(_gzip(samples / "twilio" / "call_log.csv", tmp_path / "c.gz"), db=tmp_path / "b.duckdb")
    assert [(r.line, r.reason) for r in packed.rejects] == [(r.line, r.reason) for r in plain.rejects]
    assert packed.rejects[0].file == str(tmp_path / "c.gz")


def test_the_same_gzip_again_is_already_imported(crlf, tmp_path, run_import):
    path = _gzip(crlf, tmp_path / "calls.csv.gz")
    first = run_import(path)
    again = run_import(path)
    assert again.already_imported == first.import_id


def test_zip_with_one_member(crlf, tmp_path, run_import):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("__MACOSX/._calls.csv", b"\0\0junk")
        z.writestr("exports/", b"")
        z.write(crlf, "exports/calls.csv")
    s = run_import(path)
    assert (s.read, s.imported) == (4, 3)
    assert "read calls.csv from the ZIP archive" in s.notes


def test_zip_with_several_members_is_an_error(crlf, tmp_path, run_import, store_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.write(crlf, "a.csv")
        z.write(crlf, "b.csv")
    with pytest.raises(InputFileError, match=r"the ZIP archive holds 2 files \(a\.csv, b\.csv\); recontact reads an "
                                             "archive of one export: unpack it and import each file"):
        run_import(path)
    assert not store_path.exists()


def test_empty_zip_and_damaged_gzip(crlf, tmp_path, run_import):
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with pytest.raises(InputFileError, match=r"empty\.zip: the ZIP archive holds no file"):
        run_import(empty)
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(gzip.compress(crlf.read_bytes() * 50)[:60])
    with pytest.raises(InputFileError, match=r"cut\.csv\.gz: the gzip file is damaged or cut short"):
        run_import(cut)


def test_gzip_of_an_empty_file(tmp_path, run_import):
    path = tmp_path / "nothing.csv.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(InputFileError, match=r"nothing\.csv\.gz: the file is empty"):
        run_import(path)


def test_utf16_with_bom_keeps_line_numbers(samples, tmp_path, run_import, contact_rows):
    src = samples / "twilio" / "call_log.csv"
    text = src.read_text().replace("ANN LEE", "ANNÉ LÉE")
    path = tmp_path / "calls16.csv"
    path.write_bytes(text.encode("utf-16"))
    s = run_import(path)
    assert "read as utf-16" in s.notes
    assert (s.read, s.imported, s.rejected) == (13, 7, 5)
    assert [r.line for r in s.rejects] == [8, 9, 10, 11, 13]
    assert [r["customer_name"] for r in contact_rows("customer_name IS NOT NULL")] == ["ANNÉ LÉE"]


def test_cp1252_is_read_with_its_quotes_and_euro(tmp_path, run_import, contact_rows):
    path = tmp_path / "win.csv"
    path.write_bytes("started_at,phone,customer_name,note\n"
                     "2026-01-05T09:00:00Z,4155550134,Zoë \u201cZed\u201d Müller,costs 5 \u20ac\n".encode("cp1252"))
    s = run_import(path)
    assert s.notes[1] == ("read as cp1252 (Windows-1252: Latin-1 with the euro sign, curly quotes and dashes "
                          "in bytes 0x80-0x9F)")
    (row,) = contact_rows()
    assert row["customer_name"] == "Zoë \u201cZed\u201d Müller"
    assert row["extra"] == '{"note":"costs 5 \u20ac"}'


def test_latin1_without_windows_bytes_is_read_in_place(samples, run_import):
    s = run_import(samples / "csv" / "latin1_crlf.csv")
    assert "read as latin-1" in s.notes
    assert not any("cp1252" in n for n in s.notes)


def test_explicit_cp1252(tmp_path, run_import, contact_rows):
    path = tmp_path / "win.csv"
    path.write_bytes("started_at,customer_name\n2026-01-05T09:00:00Z,\u2018Ann\u2019\n".encode("cp1252"))
    run_import(path, encoding="windows-1252")
    assert contact_rows()[0]["customer_name"] == "\u2018Ann\u2019"


# --- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    (b"\n\n  \n", "the file is empty"),
    (bytes(range(256)) * 40, "looks binary"),
])
def test_unreadable_files(tmp_path, run_import, content, message):
    path = tmp_path / "junk.dat"
    path.write_bytes(content)
    with pytest.raises(InputFileError, match=message):
        run_import(path)


@pytest.mark.parametrize("name", ["twilio", "csv"])
def test_header_only(tmp_path, run_import, name):
    path = tmp_path / "empty.csv"
    path.write_text("Call Sid,Start Time,From,To,Direction,Status,Duration\n" if name == "twilio"
                    else "contact_id,started_at,phone\n")
    with pytest.raises(InputFileError, match=r"no valid contact in 0 rows \(the file has no rows after its header\)"):
        run_import(path)


def test_a_huge_line_is_rejected_alone(tmp_path, run_import):
    path = tmp_path / "calls.csv"
    huge = "x" * (5 << 20)
    path.write_text("Call Sid,Start Time,From,To,Direction,Status,Duration\n"
                    "CA1,2026-01-05T09:00:00Z,+14155550134,+18005550100,inbound,completed,10\n"
                    f"CA2,2026-01-05T09:00:00Z,+14155550134,+18005550100,inbound,completed,{huge}\n"
                    "CA3,2026-01-05T10:00:00Z,+14155550134,+18005550100,inbound,completed,10\n")
    s = run_import(path)
    assert (s.read, s.imported, s.rejected) == (3, 2, 1)
    assert s.rejects[0].line == 3
    assert "longer than 4 MiB" in s.rejects[0].reason


# --- detection ----------------------------------------------------------------------------------


def test_detection_says_which_format_and_why(samples, store_path):
    s = desk.import_contacts(store_path, desk.ImportRequest(samples / "csv" / "mapped.csv",
                                                            options=_mapped()), Settings())
    assert s.notes[0] == ("read as csv: header has Caller (as phone), Topic (as category) "
                          "(say --source to choose another format)")


def _mapped():  # type: ignore[no-untyped-def]
    from recontact.importers.base import ImportOptions

    return ImportOptions(column_map={"When": "started_at"})


def test_detection_of_the_generic_formats(samples):
    assert detect_format(samples / "jsonl" / "contacts.jsonl") == (jsonl, "the first line is a JSON object")
    assert detect_format(samples / "csv" / "no_ids.csv") == (generic_csv, "header has started_at, phone, category")


def test_an_unknown_file_lists_the_formats(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("alpha,beta,gamma\n1,2,3\n")
    with pytest.raises(InputFileError) as e:
        detect_format(path)
    message = str(e.value)
    assert message.startswith(f"{path}: not a format recontact recognises (first line: 'alpha,beta,gamma'); "
                              "say which with --source")
    for name in FORMATS:
        assert f"{name}: " in message


def test_map_makes_an_unknown_file_generic_csv(tmp_path):
    path = tmp_path / "mystery.csv"
    path.write_text("alpha,beta\n2026-01-05T09:00:00Z,2\n")
    assert detect_format(path, mapped=True) == (generic_csv, "--map names its columns")


def test_source_overrides_detection(samples, run_import):
    with pytest.raises(InputFileError, match="not an Asterisk CDR record"):
        run_import(samples / "twilio" / "call_log.csv", source="asterisk")
    s = run_import(samples / "twilio" / "call_log.csv", source="csv", column_map={"Start Time": "started_at"})
    assert s.source == "csv"
    assert not any(n.startswith("read as ") and "header has" in n for n in s.notes)


def test_two_vendor_formats_claiming_one_file_is_an_error(tmp_path, run_import):
    path = tmp_path / "both.csv"
    path.write_text("Ticket ID,Created time,From,To,Direction,Status\n1,2026-01-05 09:00:00,+14155550134,"
                    "+18005550100,inbound,completed\n")
    with pytest.raises(InputFileError) as e:
        run_import(path)
    assert str(e.value) == (f"{path}: could be any of: twilio (header has From, To, Direction, Status); freshdesk "
                            "(header has Ticket ID, Created time); say which with --source twilio|freshdesk")
    assert run_import(path, source="twilio", column_map={"Created time": "started_at"}).imported == 1


@pytest.mark.parametrize(("folder", "name", "counts"), [
    ("twilio", "call_log.csv", (13, 7, 5)),
    ("freeswitch", "Master.csv", (11, 6, 4)),
    ("zendesk", "tickets.jsonl", (5, 3, 1)),
    ("freshdesk", "tickets.csv", (9, 6, 2)),
])
def test_vendor_files_with_a_utf8_bom(samples, tmp_path, run_import, contact_rows, folder, name, counts):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + (samples / folder / name).read_bytes())
    s = run_import(path)
    assert (s.source, (s.read, s.imported, s.rejected)) == (folder, counts)
    assert not any("\ufeff" in str(v) for r in contact_rows() for v in r.values())


def test_a_zendesk_view_export_with_requested(tmp_path, run_import, contact_rows):
    path = tmp_path / "view.csv"
    path.write_text("ID,Subject,Requester,Requested,Status\n301,Printer,Ann Lee,2026-01-05 09:00:00,Solved\n")
    s = run_import(path)
    assert (s.source, s.imported) == ("zendesk", 1)
    (row,) = contact_rows()
    assert (row["contact_id"], row["customer_name"], row["resolved"]) == ("301", "Ann Lee", True)
