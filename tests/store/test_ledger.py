"""Import provenance (issue 10 §2): systems and conflicts, the import ledger, removing an import,
and re-importing the same file with other options."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import desk
from recontact.config import Settings
from recontact.errors import RecontactError
from reference import Contact

HEADER = "contact_id,started_at,phone,category,Reason\n"
DESK_A = HEADER + ("t1,2026-03-02T09:00:00Z,4155550101,billing,bill\n"
                   "t2,2026-03-02T10:00:00Z,2125550102,network,down\n"
                   "t3,2026-03-03T09:00:00Z,4155550101,billing,bill\n")
# Another desk numbering its tickets the same way: t1 and t2 are other contacts, t3 the same row.
DESK_B = HEADER + ("t1,2026-03-04T09:00:00Z,6175550103,billing,refund\n"
                   "t2,2026-03-04T10:00:00Z,6175550103,billing,refund\n"
                   "t3,2026-03-03T09:00:00Z,4155550101,billing,bill\n"
                   "t4,2026-03-05T10:00:00Z,3125550104,network,slow\n")


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text)
    return path


def reports(db: Path, config: Settings | None = None) -> dict[str, Any]:
    """What a user sees: flags, weekly and monthly top callers (keys included)."""
    config = config or Settings()
    return {"flags": desk.list_flags(db, config), "week": desk.top_callers(db, config, "week", 10),
            "month": desk.top_callers(db, config, "month", 10)}


def store_rows(query) -> dict[str, list[tuple[Any, ...]]]:
    return {"contacts": sorted(query("SELECT source, contact_id, content_hash, customer_key, import_id, line "
                                     "FROM contacts"), key=repr),
            "identifiers": sorted(query("SELECT ident, customer_key FROM identifiers"))}


# --- systems and conflicts -----------------------------------------------------------------------


def test_overlapping_ids_are_conflicts_and_system_imports_them(tmp_path, run_import, query, store_path):
    a, b = write(tmp_path, "a.csv", DESK_A), write(tmp_path, "b.csv", DESK_B)
    first = run_import(a)
    assert (first.import_id, first.system, first.imported) == (1, "csv", 3)
    s = run_import(b)
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped) == (4, 1, 1, 2, 0, 0)
    assert [(r.line, r.reason) for r in s.conflicted] == [
        (2, 'conflict: contact_id "t1" of system csv was imported by import 1 (line 2) with other content'),
        (3, 'conflict: contact_id "t2" of system csv was imported by import 1 (line 3) with other content'),
    ]
    assert any("--system NAME" in n for n in s.notes)
    assert query("SELECT count(*) FROM contacts WHERE phone = '+16175550103'") == [(0,)]
    # The rejects file lists the conflicts with their lines.
    assert s.rejects_file and Path(s.rejects_file).read_text().count("conflict: ") == 2

    # The same file as another system: it replaces that import, and every row is imported.
    again = run_import(b, system="deskB")
    assert (again.replaced, again.import_id, again.system) == (2, 3, "deskB")
    assert (again.read, again.imported, again.duplicates, again.conflicts) == (4, 4, 0, 0)
    assert query("SELECT source, count(*) FROM contacts GROUP BY 1 ORDER BY 1") == [("csv", 3), ("deskB", 4)]
    assert [(r["import_id"], r["system"]) for r in desk.list_imports(store_path, Settings())] == [
        (1, "csv"), (3, "deskB")]


def test_conflicting_rows_link_no_one(tmp_path, run_import, query):
    """A conflicting row is not imported, so its identifiers must not join anyone either."""
    run_import(write(tmp_path, "a.csv", HEADER + "t1,2026-03-02T09:00:00Z,4155550101,billing,x\n"
                                               "t2,2026-03-02T09:00:00Z,2125550102,billing,x\n"))
    run_import(write(tmp_path, "b.csv", "contact_id,started_at,phone,email\n"
                                        "t1,2026-03-04T09:00:00Z,4155550101,bo@example.org\n"
                                        "t9,2026-03-04T09:00:00Z,2125550102,bo@example.org\n"))
    assert query("SELECT count(DISTINCT customer_key) FROM identifiers") == [(2,)]
    assert query("SELECT count(*) FROM identifiers WHERE ident = 'email:bo@example.org'") == [(1,)]


def test_read_adds_up_for_every_format(samples, run_import, tmp_path):
    """Every sample file of every format, imported into one store and then again: every row read is
    imported, a duplicate, a conflict, rejected or skipped."""
    counted = {"csv": 0, "jsonl": 0, "asterisk": 0}
    for source in counted:
        for path in sorted((samples / source).iterdir()):
            try:
                first = run_import(path, source=source)
            except RecontactError:  # nothing valid in it (a test file of its own)
                continue
            for s in (first, run_import(path, source=source)):
                assert s.read == s.imported + s.duplicates + s.conflicts + s.rejected + s.skipped + s.folded, path
            counted[source] += 1
    assert min(counted.values()) >= 1, counted


def test_an_event_log_is_named(tmp_path, run_import):
    """One ticket id on many rows of one caller, each row another state: the file is named an event
    log; the first row of each ticket is imported and the updates conflict (never doubled)."""
    rows = "".join(f"T{t},2026-03-0{t}T09:00:00Z,415555010{t},billing,{state}\n"
                   for t in (1, 2) for state in ("new", "assigned", "resolved", "closed"))
    s = run_import(write(tmp_path, "log.csv", "contact_id,started_at,phone,category,state\n" + rows))
    assert (s.read, s.imported, s.duplicates, s.conflicts) == (8, 2, 0, 6)
    assert any("event log" in n and "docs/importing.md#event-logs" in n for n in s.notes)
    # An id reused for other callers (a counter that restarts) is no event log.
    reused = "".join(f"X1,2026-03-0{d}T09:00:00Z,415555011{d},billing,new\n" for d in (1, 2, 3, 4))
    other = run_import(write(tmp_path, "reused.csv", "contact_id,started_at,phone,category,state\n" + reused))
    assert (other.imported, other.conflicts) == (1, 3)
    assert not any("event log" in n for n in other.notes)


# --- the same file again -------------------------------------------------------------------------


def test_same_file_same_options_changes_nothing(tmp_path, run_import, query):
    a = write(tmp_path, "a.csv", DESK_A)
    run_import(a)
    before = store_rows(query)
    again = run_import(write(tmp_path, "copy of a.csv", DESK_A))  # another name, the same bytes
    assert (again.already_imported, again.import_id, again.imported, again.duplicates) == (1, None, 0, 3)
    assert store_rows(query) == before
    assert query("SELECT count(*) FROM imports") == [(1,)]


@pytest.mark.parametrize("with_ids", [True, False], ids=["ids", "no-ids"])
def test_a_corrected_map_replaces_the_import(tmp_path, run_import, query, with_ids):
    text = DESK_A if with_ids else "\n".join(line.partition(",")[2] for line in DESK_A.splitlines()) + "\n"
    a = write(tmp_path, "a.csv", text)
    s1 = run_import(a)
    assert s1.imported == 3
    assert query("SELECT count(*) FROM contacts WHERE category = 'bill'") == [(0,)]
    s2 = run_import(a, column_map={"Reason": "category", "category": "queue"})
    assert (s2.replaced, s2.import_id, s2.imported, s2.duplicates, s2.conflicts) == (1, 2, 3, 0, 0)
    assert query("SELECT count(*), count(*) FILTER (WHERE category = 'bill') FROM contacts") == [(3, 2)]
    assert query("SELECT import_id, options->>'$.column_map.Reason' FROM imports") == [(2, "category")]
    # A corrected time zone replaces too (times without an offset are read in --tz).
    naive = write(tmp_path, "naive.csv", text.replace("Z,", ","))
    run_import(naive, system="naive")
    s4 = run_import(naive, system="naive", tz="America/New_York")
    assert (s4.replaced, s4.imported) == (3, 3)
    assert query("SELECT count(*) FROM contacts") == [(6,)]
    assert query("SELECT min(started_at) FROM contacts WHERE import_id = 4")[0][0].hour == 14


def test_a_failed_replacement_keeps_the_earlier_import(tmp_path, run_import, query):
    a = write(tmp_path, "a.csv", DESK_A)
    run_import(a)
    before = store_rows(query)
    with pytest.raises(RecontactError, match="no valid contact"):
        run_import(a, time_format="%d/%m/%Y")  # every time fails this format
    assert store_rows(query) == before


# --- the ledger and removal ----------------------------------------------------------------------


def test_ledger_lists_every_import_with_its_options(tmp_path, run_import, store_path):
    a = write(tmp_path, "a.csv", DESK_A)
    run_import(a, column_map={"Reason": "tags"}, tz="Europe/London")
    (row,) = desk.list_imports(store_path, Settings())
    assert list(row) == ["import_id", "file", "size", "sha256", "system", "format", "options", "read", "imported",
                         "duplicates", "conflicts", "rejected", "skipped", "folded", "imported_at"]
    assert (row["file"], row["size"], row["system"], row["format"]) == (str(a), len(DESK_A), "csv", "csv")
    assert row["sha256"] == hashlib.sha256(DESK_A.encode()).hexdigest()
    assert row["options"] == {"column_map": {"Reason": "tags"}, "tz": "Europe/London", "time_format": None,
                              "encoding": None, "delimiter": None, "region": "GB"}
    assert (row["read"], row["imported"], row["duplicates"], row["conflicts"], row["rejected"]) == (3, 3, 0, 0, 0)


def test_remove_takes_out_exactly_that_import(tmp_path, run_import, store_path, query):
    a = write(tmp_path, "a.csv", DESK_A)
    b = write(tmp_path, "b.csv", DESK_B)
    run_import(a)
    before = store_rows(query)
    run_import(b, system="deskB")
    removed = desk.remove_import(store_path, Settings(), 2)
    assert (removed["import_id"], removed["imported"]) == (2, 4)
    assert store_rows(query) == before
    # Ids are never reused; an unknown id is an error naming the known ones.
    assert run_import(b, system="deskB").import_id == 3
    with pytest.raises(RecontactError, match=r"no import 2 .*imports: 1, 3"):
        desk.remove_import(store_path, Settings(), 2)


def test_removing_an_import_that_joined_two_customers_gives_their_keys_back(tmp_path, run_import, store_path,
                                                                             query):
    run_import(write(tmp_path, "a.csv", "contact_id,started_at,phone,email\n"
                                        "a1,2026-03-02T09:00:00Z,4155550101,\n"
                                        "a2,2026-03-02T10:00:00Z,,ann@example.com\n"
                                        "a3,2026-03-02T11:00:00Z,2125550102,\n"))
    keys = dict(query("SELECT ident, customer_key FROM identifiers"))
    assert len(set(keys.values())) == 3
    run_import(write(tmp_path, "b.csv", "contact_id,started_at,phone,email\n"
                                        "b1,2026-03-03T09:00:00Z,4155550101,ann@example.com\n"))
    assert query("SELECT count(DISTINCT customer_key) FROM contacts") == [(2,)]
    desk.remove_import(store_path, Settings(), 2)
    assert dict(query("SELECT ident, customer_key FROM identifiers")) == keys
    assert query("SELECT contact_id, customer_key FROM contacts ORDER BY 1") == [
        ("a1", keys["phone:+14155550101"]), ("a2", keys["email:ann@example.com"]),
        ("a3", keys["phone:+12125550102"])]


@settings(max_examples=examples(15), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=reference.contact_sets(max_size=20), second=reference.contact_sets(max_size=20),
       overlap=st.integers(0, 5))
def test_import_then_remove_leaves_flags_and_top_callers_as_before(first: list[Contact], second: list[Contact],
                                                                   overlap: int) -> None:
    """Import A, import B (which may join A's customers, and reuse some of A's ids with other
    content), remove B: flags and top callers are exactly as after A alone, keys included."""
    second = [dataclasses.replace(c, contact_id=c.contact_id if i < overlap else f"b{c.contact_id}")
              for i, c in enumerate(second)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = root / "s.duckdb"
        run = desk.ImportRequest
        desk.import_contacts(db, run(reference.write_csv(root / "a.csv", first), source="csv"), Settings())
        before = reports(db)
        s = desk.import_contacts(db, run(reference.write_csv(root / "b.csv", second), source="csv"), Settings())
        assert s.read == s.imported + s.duplicates + s.conflicts + s.rejected
        if s.already_imported is None:  # B's file may come out byte for byte A's: then there is no import 2
            desk.remove_import(db, Settings(), 2)
        assert reports(db) == before
