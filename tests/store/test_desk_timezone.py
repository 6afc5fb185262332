"""The store remembers the desk's time zone from an import's ``--tz``; reports (period cuts,
printed times) use it unless recontact.toml sets ``timezone``."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from typer.testing import CliRunner

from recontact import desk
from recontact.cli.main import app
from recontact.config import Settings
from recontact.importers.base import ImportOptions

NY = "America/New_York"
# Sunday 2026-01-04 22:00 in New York is Monday 03:00 UTC: ISO week 1 there, week 2 in UTC.
ROWS = "contact_id,started_at,phone\n" + "".join(f"k{i},2026-01-05T03:0{i}:00Z,4155550134\n" for i in range(3))


def write(tmp_path: Path, name: str = "calls.csv", text: str = ROWS) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def import_with_tz(db: Path, path: Path, tz: str | None, settings: Settings | None = None):
    settings = settings or Settings()
    request = desk.ImportRequest(path=path, options=ImportOptions(tz=tz or settings.timezone), desk_timezone=tz)
    return desk.import_contacts(db, request, settings)


def test_reports_use_the_remembered_zone(tmp_path):
    db = tmp_path / "s.duckdb"
    s = import_with_tz(db, write(tmp_path), NY)
    assert any(f"desk time zone {NY}" in n for n in s.notes)
    assert desk.report_timezone(db, Settings()) == NY
    top = desk.top_callers(db, Settings(), "week", 1)
    assert [(r["period"], r["contacts"]) for r in top] == [("2026-W01", 3)]
    timeline = desk.customer_timeline(db, Settings(), "4155550134")
    first = timeline["contacts"][0]["started_at"]
    assert first == datetime(2026, 1, 4, 22, 0, tzinfo=ZoneInfo(NY))
    assert first.utcoffset().total_seconds() == -5 * 3600


def test_config_timezone_wins_over_the_remembered_one(tmp_path):
    db = tmp_path / "s.duckdb"
    import_with_tz(db, write(tmp_path), NY)
    utc = Settings(timezone="UTC")
    assert desk.report_timezone(db, utc) == "UTC"
    assert [r["period"] for r in desk.top_callers(db, utc, "week", 1)] == ["2026-W02"]


def test_without_tz_nothing_is_remembered(tmp_path):
    db = tmp_path / "s.duckdb"
    s = import_with_tz(db, write(tmp_path), None)
    assert not any("desk time zone" in n for n in s.notes)
    assert desk.report_timezone(db, Settings()) == "UTC"
    assert [r["period"] for r in desk.top_callers(db, Settings(), "week", 1)] == ["2026-W02"]


def test_a_later_import_without_tz_reads_naive_times_in_the_remembered_zone(tmp_path, query):
    db = tmp_path / "s.duckdb"
    import_with_tz(db, write(tmp_path), NY)
    naive = write(tmp_path, "naive.csv", "contact_id,started_at,phone\nn1,2026-01-06 09:00:00,4155550134\n")
    s = import_with_tz(db, naive, None)
    assert any(f"read in the desk time zone {NY}" in n for n in s.notes)
    (started,) = query("SELECT started_at FROM contacts WHERE contact_id = 'n1'", db=db)[0]
    assert started == datetime(2026, 1, 6, 14, 0, tzinfo=ZoneInfo("UTC"))


def test_a_new_tz_replaces_the_remembered_one(tmp_path):
    db = tmp_path / "s.duckdb"
    import_with_tz(db, write(tmp_path), NY)
    s = import_with_tz(db, write(tmp_path, "b.csv", ROWS.replace("k", "b")), "Europe/London")
    assert any(f"desk time zone Europe/London (was {NY})" in n for n in s.notes)
    assert desk.report_timezone(db, Settings()) == "Europe/London"


def test_cli_tz_is_remembered_and_config_overrides(tmp_path):
    db = tmp_path / "s.duckdb"
    runner = CliRunner()
    result = runner.invoke(app, ["import", str(write(tmp_path)), "--db", str(db), "--tz", NY, "-o", "json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(app, ["top", "--db", str(db), "-o", "json"])
    assert [r["period"] for r in json.loads(result.stdout)] == ["2026-W01"]
    result = runner.invoke(app, ["top", "--db", str(db)], env={"COLUMNS": "200"})
    assert f"({NY})" in result.stdout
    config = tmp_path / "recontact.toml"
    config.write_text('timezone = "UTC"\n')
    result = runner.invoke(app, ["top", "--db", str(db), "-o", "json", "--config", str(config)])
    assert [r["period"] for r in json.loads(result.stdout)] == ["2026-W02"]
