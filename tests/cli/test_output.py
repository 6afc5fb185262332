"""The three output forms of long lists: a table stops at --limit (newest first, then "… N more");
CSV and JSON carry every row, JSON as one valid list."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recontact import samples
from recontact.cli.main import app
from recontact.cli.output import Output, emit_rows

runner = CliRunner()
START = datetime(2026, 1, 1, tzinfo=UTC)


def _rows(n: int) -> list[dict[str, Any]]:
    """``n`` rows, oldest first, as the desk functions return them."""
    return [{"at": START + timedelta(hours=i), "who": f"C{i}", "tags": ["a", "b"], "n": i} for i in range(n)]


def _emit(capsys: pytest.CaptureFixture[str], rows: Any, output: Output, **kw: Any) -> str:
    emit_rows(rows, output, **kw)
    return capsys.readouterr().out


@pytest.mark.parametrize("n", [0, 1, 7, 2500])
def test_json_is_one_valid_list_of_every_row_from_a_stream(capsys: pytest.CaptureFixture[str], n: int) -> None:
    rows = _rows(n)
    out = _emit(capsys, iter(rows), Output.json, limit=3)
    assert json.loads(out) == [{**r, "at": r["at"].isoformat()} for r in rows]


@pytest.mark.parametrize("n", [0, 1, 2500])
def test_csv_carries_every_row_from_a_stream(capsys: pytest.CaptureFixture[str], n: int) -> None:
    rows = _rows(n)
    out = _emit(capsys, iter(rows), Output.csv, columns=["at", "who", "tags"], limit=3)
    read = list(csv.reader(io.StringIO(out)))
    assert read[0] == ["at", "who", "tags"]
    assert read[1:] == [[r["at"].isoformat(), r["who"], "a b"] for r in rows]


def test_table_shows_the_newest_rows_first_and_says_how_many_more(capsys: pytest.CaptureFixture[str]) -> None:
    out = _emit(capsys, iter(_rows(120)), Output.table, title=lambda n: f"{n} rows", columns=["at", "who"],
                limit=5, newest_first="at")
    shown = [w for w in out.split() if w.startswith("C") and w[1:].isdigit()]
    assert shown == ["C119", "C118", "C117", "C116", "C115"]
    assert "120 rows" in out
    assert "… 115 more (use --limit or --output csv/json for all)" in out


def test_table_keeps_times_whole_on_a_narrow_terminal(capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """An 80-column terminal: other columns fold, a time never breaks across lines."""
    from recontact.cli.output import stdout

    monkeypatch.setenv("COLUMNS", "80")
    stdout.reset()
    rows = [{"started_at": START + timedelta(days=i), "channel": "phone", "direction": "inbound",
             "category": "billing", "agent_id": "A0365", "resolved": True, "contact_id": f"C{i:08d}",
             "team": "team-13", "queue": "tech"} for i in range(3)]
    out = _emit(capsys, iter(rows), Output.table)
    assert max(len(line) for line in out.splitlines()) <= 80
    for r in rows:
        assert r["started_at"].strftime("%Y-%m-%d %H:%M") in out


def test_table_leaves_out_columns_that_do_not_fit_and_names_them(capsys: pytest.CaptureFixture[str],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Columns are never squeezed below a readable width: the trailing ones that do not fit are
    named under the table; CSV still carries them all."""
    from recontact.cli.output import stdout

    monkeypatch.setenv("COLUMNS", "64")
    stdout.reset()
    rows = [{"opened_at": START, "state": "contacted", "due_at": START + timedelta(days=2), "owner": "liaison-7",
             "rule": "repeat-30d", "identifiers": ["phone:+14155550134"]}]
    out = _emit(capsys, iter(rows), Output.table)
    assert max(len(line) for line in out.splitlines()) <= 64
    assert "contacted" in out and "liaison-7" in out and "repeat-30d" not in out
    assert "not shown at this width: rule, identifiers" in " ".join(out.split())
    assert "repeat-30d" in _emit(capsys, iter(rows), Output.csv)


def test_table_limit_zero_shows_everything(capsys: pytest.CaptureFixture[str]) -> None:
    out = _emit(capsys, iter(_rows(60)), Output.table, columns=["who"], limit=0, newest_first="at")
    assert sum(1 for w in out.split() if w.startswith("C") and w[1:].isdigit()) == 60
    assert "more" not in out


@pytest.fixture(scope="module")
def desk_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("output")
    samples.write_csv(tmp / "desk.csv", 3000)
    db = tmp / "desk.duckdb"
    assert runner.invoke(app, ["import", str(tmp / "desk.csv"), "--db", str(db)]).exit_code == 0
    return db


def test_flags_table_stops_at_limit_newest_first(desk_db: Path) -> None:
    every = json.loads(runner.invoke(app, ["flags", "--db", str(desk_db), "-o", "json"]).stdout)
    assert len(every) > 3
    result = runner.invoke(app, ["flags", "--db", str(desk_db), "--limit", "3"], env={"COLUMNS": "250"})
    assert result.exit_code == 0
    newest = sorted(every, key=lambda f: f["crossed_at"], reverse=True)[:3]
    assert all(f["contact_id"] in result.stdout for f in newest)
    assert f"… {len(every) - 3:,} more" in result.stdout
    csv_rows = list(csv.DictReader(io.StringIO(
        runner.invoke(app, ["flags", "--db", str(desk_db), "--limit", "3", "-o", "csv"]).stdout)))
    assert len(csv_rows) == len(every)
