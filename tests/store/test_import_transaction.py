"""The import transaction (recontact.store.load): idempotent, atomic, every reject reported with
file, line and reason, and written to a rejects CSV."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import duckdb
import pytest

from recontact import desk
from recontact.config import Settings
from recontact.errors import InputFileError
from recontact.importers import generic_csv
from recontact.importers.base import ImportOptions, Scan
from recontact.store.contacts import open_store
from recontact.store.load import import_file

TABLES = ("contacts", "identifiers", "imports", "meta")


def snapshot(query) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every store table, in a stable order."""
    return {t: sorted(query(f"SELECT * FROM {t}"), key=repr) for t in TABLES}


# --- idempotence and duplicates -----------------------------------------------------------------


def test_duplicates_within_one_file(samples, run_import, query):
    s = run_import(samples / "csv" / "duplicates.csv")
    # u1 three times (the third with other content: same id, so a conflict), u2 once, the
    # id-less 6505550199/login row twice, 6505550199/password once.
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected) == (7, 4, 2, 1, 0)
    assert [(r.line, r.reason) for r in s.conflicted] == [
        (8, 'conflict: contact_id "u1" is also on line 2, with other content')]
    # The first occurrence wins.
    assert query("SELECT contact_id, line, category FROM contacts ORDER BY line") == [
        ("u1", 2, "billing"), ("u2", 3, "billing"), (None, 5, "login"), (None, 7, "password"),
    ]


def test_same_file_twice_adds_nothing(samples, run_import, query):
    path = samples / "csv" / "duplicates.csv"
    run_import(path)
    before = snapshot(query)
    again = run_import(path)
    assert (again.read, again.imported, again.duplicates, again.conflicts, again.rejected) == (7, 0, 6, 1, 0)
    assert (again.already_imported, again.import_id, again.replaced) == (1, None, None)
    assert any(n.startswith("already imported as import 1") for n in again.notes)
    assert snapshot(query) == before  # nothing changes, not even the ledger


def test_content_hash_dedupes_rows_without_an_id_and_sees_extra_columns(samples, run_import, query):
    """no_ids.csv: lines 2 and 4 are identical; line 3 differs only in an unmapped column, which
    must be enough to make it another contact."""
    s = run_import(samples / "csv" / "no_ids.csv")
    assert (s.imported, s.duplicates) == (2, 1)
    assert query("SELECT line, extra FROM contacts ORDER BY line") == [
        (2, '{"Ticket Note":"first"}'), (3, '{"Ticket Note":"second"}'),
    ]
    assert all(k.startswith("md5:") for (k,) in query("SELECT content_hash FROM contacts"))


def test_content_hash_is_independent_of_file_name_and_line(samples, tmp_path, run_import, query):
    copy = tmp_path / "renamed export.csv"
    shutil.copy(samples / "csv" / "no_ids.csv", copy)
    run_import(samples / "csv" / "no_ids.csv")
    again = run_import(copy)
    assert (again.imported, again.duplicates) == (0, 3)
    # The same rows in another order are the same contacts too.
    lines = (samples / "csv" / "no_ids.csv").read_text().splitlines()
    shuffled = tmp_path / "shuffled.csv"
    shuffled.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    assert run_import(shuffled).imported == 0
    assert query("SELECT count(*) FROM contacts") == [(2,)]


def test_dedupe_key_is_per_source(samples, tmp_path, run_import, query):
    """(source, contact_id) is the key: a CSV contact u1 and a JSON lines contact u1 are two."""
    run_import(samples / "csv" / "duplicates.csv")
    other = tmp_path / "u1.jsonl"
    other.write_text('{"contact_id": "u1", "started_at": "2026-01-05T09:00:00Z", "phone": "4155550134"}\n')
    assert run_import(other).imported == 1
    assert query("SELECT source, count(*) FROM contacts WHERE contact_id = 'u1' GROUP BY 1 ORDER BY 1") == [
        ("csv", 1), ("jsonl", 1),
    ]


# --- atomicity ----------------------------------------------------------------------------------


def test_a_file_with_no_valid_row_raises_and_leaves_the_store_unchanged(samples, run_import, query):
    run_import(samples / "csv" / "link_first.csv")
    before = snapshot(query)
    for name in ("bad_rows_only.csv", "header_only.csv"):
        with pytest.raises(InputFileError, match="no valid contact"):
            run_import(samples / "csv" / name)
    assert snapshot(query) == before


class _FailingConnection:
    """A DuckDB connection that fails the first statement starting with one of ``fail_on``, as a
    full disk or a killed process would."""

    def __init__(self, con: Any, fail_on: tuple[str, ...]) -> None:
        self._con, self._fail_on, self.failed = con, fail_on, False

    def execute(self, sql: str, *args: Any) -> Any:
        if not self.failed and " ".join(sql.split()).startswith(self._fail_on):
            self.failed = True
            raise OSError("simulated failure: no space left on device")
        return self._con.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


@pytest.mark.parametrize("fail_on", [
    ("INSERT INTO contacts",),  # after identities were resolved (and two customers merged)
    ("INSERT INTO imports",),  # the last statement before COMMIT
    ("INSERT INTO identifiers",),  # after the merge moved the retired key's identifiers and contacts
], ids=["contacts", "imports", "identifiers"])
def test_a_failure_mid_import_rolls_everything_back(samples, store_path, run_import, query, fail_on):
    run_import(samples / "csv" / "link_first.csv")
    before = snapshot(query)
    second = samples / "csv" / "link_second.csv"  # links two known customers: a merge
    with open_store(store_path) as store:
        failing = _FailingConnection(store.con, fail_on)
        store.con = failing  # type: ignore[assignment]
        with pytest.raises(OSError, match="simulated failure"):
            import_file(store, second, generic_csv, ImportOptions())
        assert failing.failed
    assert snapshot(query) == before
    # The store is still usable, and the retried import does exactly what it would have.
    s = run_import(second)
    assert s.imported == 1
    assert query("SELECT count(DISTINCT customer_key) FROM identifiers") == [(3,)]


def test_a_scan_that_fails_while_reading_adds_nothing(samples, store_path, run_import, query, tmp_path):
    """An importer whose SQL fails half-way through the file (a read error, a bad byte):
    InputFileError naming the file, and nothing of the rows before the failure lands."""
    run_import(samples / "csv" / "link_first.csv")
    before = snapshot(query)
    rows = ", ".join(f"('2026-02-0{i}T09:00:00Z', '415555010{i}')" for i in range(1, 6))
    broken = SimpleNamespace(NAME="broken", scan=lambda con, path, options: Scan(
        sql=("SELECT started_at, phone, CAST(NULL AS VARCHAR) AS _extra, CAST(NULL AS VARCHAR) AS _reject "
             f"FROM (VALUES {rows}) v(started_at, phone) "
             "WHERE CASE WHEN phone = '4155550104' THEN error('read error at row 4') ELSE true END"),
        fields=("started_at", "phone")))
    path = tmp_path / "broken.dat"
    with open_store(store_path) as store, pytest.raises(InputFileError) as e:
        import_file(store, path, broken, ImportOptions())  # type: ignore[arg-type]
    assert str(e.value).startswith(f"{path}: cannot be read: ")
    assert "read error at row 4" in str(e.value)
    assert snapshot(query) == before


# --- rejects: file, line, reason; the rejects CSV ----------------------------------------------


def test_rejects_csv_is_written_beside_the_store(samples, store_path, run_import):
    path = samples / "csv" / "crlf.csv"
    s = run_import(path)
    target = store_path.parent / "crlf.csv.rejects.csv"
    assert s.rejects_file == str(target)
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["file", "line", "reason", "raw"],
        [str(path), "4", 'started_at "not a time" is not an ISO 8601 time (give --time-format for other layouts)',
         ""],
    ]


def test_rejects_csv_lists_every_reject_in_line_order(samples, tmp_path, run_import):
    path = samples / "csv" / "malformed.csv"
    target = tmp_path / "out" / "rejects.csv"
    s = run_import(path, rejects_path=target)
    assert s.rejects_file == str(target)
    with target.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["file"], int(r["line"]), r["reason"]) for r in rows] == [(r.file, r.line, r.reason) for r in s.rejects]
    assert [int(r["line"]) for r in rows] == [3, 4, 5, 6, 7, 8, 10, 11, 13, 14]
    assert rows[0]["raw"] == "m02,2026-01-05T09:05:00Z,4155550134,no"


def test_no_rejects_no_rejects_file(samples, store_path, run_import):
    s = run_import(samples / "csv" / "semicolon.csv")
    assert (s.rejected, s.rejects, s.rejects_file) == (0, [], None)
    assert not (store_path.parent / "semicolon.csv.rejects.csv").exists()


def test_read_is_imported_plus_duplicates_plus_conflicts_plus_rejected(samples, run_import):
    for name in ("malformed.csv", "duplicates.csv", "booleans.csv", "crlf.csv"):
        s = run_import(samples / "csv" / name)
        assert s.read == s.imported + s.duplicates + s.conflicts + s.rejected + s.skipped + s.folded, name


def test_format_guess_is_said_in_the_notes(samples, store_path):
    s = desk.import_contacts(store_path, desk.ImportRequest(samples / "csv" / "crlf.csv"), Settings())
    assert s.notes[0].startswith("read as csv: header has contact_id, started_at")
    told = desk.import_contacts(store_path, desk.ImportRequest(samples / "csv" / "crlf.csv", source="csv"),
                                Settings())
    assert not any(n.startswith("read as csv") for n in told.notes)


# --- known limits of line numbering -------------------------------------------------------------


def test_line_numbers_after_a_blank_line(tmp_path: Path, run_import):
    path = tmp_path / "blank.csv"
    path.write_text("contact_id,started_at\na1,2026-01-05T09:00:00Z\n\na2,bad\n")
    s = run_import(path)
    assert [r.line for r in s.rejects] == [4]


def test_line_numbers_after_a_multi_line_field(tmp_path: Path, run_import):
    path = tmp_path / "multiline.csv"
    path.write_text('contact_id,started_at,note\na1,2026-01-05T09:00:00Z,"two\nlines"\na2,bad,x\n')
    s = run_import(path)
    assert [r.line for r in s.rejects] == [4]


def test_line_numbers_with_every_kind_of_extra_line(tmp_path: Path, run_import, query):
    """Blank lines, a three-line quoted field, an unsplittable line and CRLF endings, all in one file:
    every record keeps the line it starts on."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(b'contact_id,started_at,note\r\n'
                     b'a1,2026-01-05T09:00:00Z,"one\r\ntwo\r\nthree"\r\n'   # lines 2-4
                     b'\r\n'                                                # 5 blank
                     b'a2,2026-01-05T10:00:00Z,x\r\n'                       # 6
                     b'a3,2026-01-05T11:00:00Z\r\n'                         # 7 missing a column
                     b'a4,bad,"y\r\nz"\r\n'                                 # 8-9
                     b'\r\n\r\n'                                            # 10, 11 blank
                     b'a5,2026-01-05T12:00:00Z,w\r\n')                      # 12
    s = run_import(path)
    assert [(r.line, r.reason.split(":")[0].split(" ")[0]) for r in s.rejects] == [(7, "missing"), (8, "started_at")]
    assert query("SELECT contact_id, line FROM contacts ORDER BY line") == [("a1", 2), ("a2", 6), ("a5", 12)]


def test_progress_rises_to_100(tmp_path):
    """The progress callback (the CLI's progress bar) only moves forward and ends at 100 %."""
    from recontact import desk, samples
    from recontact.config import Settings

    samples.write_csv(tmp_path / "d.csv", 20_000)
    seen: list[float] = []
    desk.import_contacts(tmp_path / "s.duckdb", desk.ImportRequest(path=tmp_path / "d.csv"), Settings(),
                         progress=seen.append)
    assert seen == sorted(seen) and seen[-1] == 100.0 and all(0 <= p <= 100 for p in seen)


def test_an_import_larger_than_the_memory_limit_spills_instead_of_failing(tmp_path):
    """1M contacts (a 155 MB CSV; the typed staging table alone is several times 250 MB) import
    under a 250 MB engine memory limit; a limit too small to work in at all is a clear StoreError."""
    from recontact import desk, samples
    from recontact.config import Settings
    from recontact.errors import StoreError

    samples.write_csv(tmp_path / "d.csv", 1_000_000)
    request = desk.ImportRequest(path=tmp_path / "d.csv")
    s = desk.import_contacts(tmp_path / "a.duckdb", request, Settings(memory_limit="250MB"))
    assert s.imported == 1_000_000
    with pytest.raises(StoreError, match="out of memory while reading"):
        desk.import_contacts(tmp_path / "b.duckdb", request, Settings(memory_limit="40MB"))


def test_a_store_of_another_schema_version_is_refused_with_a_reason(tmp_path):
    from recontact.errors import StoreError
    from recontact.store.contacts import MIGRATIONS, SCHEMA_VERSION, open_store

    db = tmp_path / "s.duckdb"
    oldest = min(MIGRATIONS) - 1  # older than any store this recontact migrates
    for version, says in ((oldest, "older recontact"), (SCHEMA_VERSION + 1, "newer recontact")):
        with open_store(db) as store:
            store.set_meta("schema_version", str(version))
        with pytest.raises(StoreError, match=says):
            open_store(db)
        with duckdb.connect(str(db)) as con:
            con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
