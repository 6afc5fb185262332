"""Event logs (``--events ID_COLUMN``): rows sharing an id fold into one contact, at the earliest
time, the latest row's fields winning; every row is accounted for (``folded``).

tests/data/csv/events.csv, by hand: 8 rows. T1 on lines 2, 3, 5 (times 03-02 10:00, 03-02 09:00,
03-04 12:00; seq 2, 1, 3); T2 on lines 4, 6 (not a time: rejected), 9 (seq empty); line 7 has no
ticket (a contact of its own); T3 on line 8 alone.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recontact.errors import InputFileError


@pytest.fixture
def events_csv(samples):
    return samples / "csv" / "events.csv"


def test_rows_of_a_ticket_fold_into_one_contact_latest_row_winning(events_csv, run_import, contact_rows):
    s = run_import(events_csv, events="ticket")
    # 4 contacts (T1, T2, the row without ticket, T3); line 6 rejected; T1 folds 2 rows, T2 one.
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (8, 4, 0, 0, 1, 0, 3)
    assert s.read == s.imported + s.duplicates + s.conflicts + s.rejected + s.skipped + s.folded
    assert [r.line for r in s.rejects] == [6]
    assert any("6 rows of ticket folded into 3 contacts (2.0 rows per contact on average)" in n for n in s.notes)
    got = {r["contact_id"]: (r["line"], r["started_at"], r["phone"], r["category"]) for r in contact_rows()}
    assert got == {
        # latest in file order: line 5; earliest time of lines 2, 3, 5
        "T1": (5, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), "+14155550103", "network"),
        # latest valid row: line 9 (line 6 is rejected and takes no part)
        "T2": (9, datetime(2026, 3, 3, 9, 0, tzinfo=UTC), "+14155550102", "hardware"),
        None: (7, datetime(2026, 3, 5, 9, 0, tzinfo=UTC), "+14155550104", "email"),
        "T3": (8, datetime(2026, 3, 6, 9, 0, tzinfo=UTC), "+14155550105", "vpn"),
    }


def test_ordering_column_decides_the_latest_row(events_csv, run_import, contact_rows):
    s = run_import(events_csv, events="ticket", events_order=("seq",))
    assert (s.imported, s.rejected, s.folded) == (4, 1, 3)
    got = {r["contact_id"]: (r["line"], r["category"]) for r in contact_rows() if r["contact_id"]}
    # T1: seq 3 on line 5. T2: seq 1 (line 4) beats an empty seq (line 9), which sorts first.
    assert got == {"T1": (5, "network"), "T2": (4, "billing"), "T3": (8, "vpn")}


def test_the_same_log_twice_adds_nothing_and_other_order_replaces(events_csv, run_import, query):
    run_import(events_csv, events="ticket")
    again = run_import(events_csv, events="ticket")
    assert (again.already_imported, again.imported, again.duplicates, again.folded, again.rejected) == (1, 0, 4, 3, 1)
    assert again.read == again.imported + again.duplicates + again.conflicts + again.rejected + again.folded
    other = run_import(events_csv, events="ticket", events_order=("seq",))
    assert (other.replaced, other.imported, other.folded) == (1, 4, 3)
    assert query("SELECT count(*) FROM contacts") == [(4,)]
    assert query("SELECT folded, options->>'$.events.order[0]' FROM imports") == [(3, "seq")]


def test_unknown_events_column_names_the_columns(events_csv, run_import):
    with pytest.raises(InputFileError, match="--events names column 'case', not in the file; columns are: ticket"):
        run_import(events_csv, events="case")
