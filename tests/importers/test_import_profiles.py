"""Mapping profiles (``--profile``): the shipped profiles on small hand-written files in each
layout (tests/data/profiles/, written from the documented layouts), validation errors naming the
file and key, and ``--save-profile`` round trips.

bank_calls.tsv (tab separated, CRLF), by hand: 9 calls. Line 2 customer 0 (unidentified), AGENT,
ANNA; line 3 customer 12345678 HANG, NO_SERVER; line 4 call_id 100 again on line AA0102 (another
contact); line 5 call_id 100 again on 990302; line 6 PHANTOM (skipped); line 7 vru_entry 25:61:00
(rejected); line 8 q_time -5 (rejected); line 9 customer 34567890; line 10 lacks a field (rejected).
"""

from __future__ import annotations

import json
import tomllib
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from recontact import desk
from recontact.cli.main import app
from recontact.config import Settings
from recontact.errors import InputFileError
from recontact.importers import profiles
from recontact.importers.base import ImportOptions
from recontact.store.load import ImportSummary

runner = CliRunner()


@pytest.fixture
def profile_import(store_path):
    """``profile_import(path, name)``: import through ``--profile name`` as the CLI applies it."""

    def run(path: Path, name: str, **given: object) -> ImportSummary:
        options, source, system, desk_tz = profiles.with_profile(
            name, ImportOptions(**given), frozenset(given), None, None)  # type: ignore[arg-type]
        request = desk.ImportRequest(path=path, source=source, options=options, system=system,
                                     desk_timezone=desk_tz)
        return desk.import_contacts(store_path, request, Settings())

    return run


def test_anonymous_bank_profile(samples, profile_import, contact_rows):
    s = profile_import(samples / "profiles" / "bank_calls.tsv", "anonymous-bank")
    assert (s.source, s.system) == ("csv", "anonymous-bank")
    assert (s.read, s.imported, s.duplicates, s.conflicts, s.rejected, s.skipped, s.folded) == (9, 5, 0, 0, 3, 1, 0)
    assert s.read == s.imported + s.duplicates + s.conflicts + s.rejected + s.skipped + s.folded
    assert [(r.line, r.reason[:28]) for r in s.rejects] == [
        (7, 'started_at "990302 25:61:00"'), (8, 'wait_s "-5" is not a non-neg'), (10, "missing columns: Expected Nu")]
    assert "mapping profile anonymous-bank" in s.notes
    assert s.unidentified == 1
    israel = ZoneInfo("Asia/Jerusalem")
    rows = {r["contact_id"]: r for r in contact_rows()}
    assert {k: (r["line"], r["started_at"], r["account_id"], r["answered"], r["abandoned"], r["agent_id"],
                r["wait_s"], r["talk_s"], r["category"], r["channel"]) for k, r in rows.items()} == {
        "990301 AA0101 100": (2, datetime(1999, 3, 1, 7, 0, 5, tzinfo=israel), None, True, False, "ANNA",
                              0.0, 120.0, "PS", "phone"),
        "990301 AA0101 101": (3, datetime(1999, 3, 1, 8, 15, tzinfo=israel), "12345678", False, True, None,
                              30.0, 0.0, "PS", "phone"),
        "990301 AA0102 100": (4, datetime(1999, 3, 1, 9, 0, tzinfo=israel), "12345678", True, False, "BEN",
                              12.0, 300.0, "IN", "phone"),
        "990302 AA0101 100": (5, datetime(1999, 3, 2, 7, 30, tzinfo=israel), "23456789", True, False, "ANNA",
                              0.0, 60.0, "PS", "phone"),
        "990303 AA0104 105": (9, datetime(1999, 3, 3, 12, 0, tzinfo=israel), "34567890", True, False, "CARMEL",
                              0.0, 45.0, "TT", "phone"),
    }
    # unmapped columns are kept, the outcome code among them
    assert json.loads(rows["990301 AA0101 101"]["extra"])["outcome"] == "HANG"


def test_bank_profile_twice_adds_nothing(samples, profile_import):
    profile_import(samples / "profiles" / "bank_calls.tsv", "anonymous-bank")
    again = profile_import(samples / "profiles" / "bank_calls.tsv", "anonymous-bank")
    assert (again.imported, again.duplicates, again.skipped, again.rejected) == (0, 5, 1, 3)


def test_italian_helpdesk_profile(samples, profile_import, contact_rows):
    s = profile_import(samples / "profiles" / "helpdesk_log.csv", "italian-helpdesk")
    # Case 7: lines 2, 3, 5 (line 8 lacks a field); Case 8: lines 4, 9 (line 6: not a time); Case 9: line 7.
    assert (s.read, s.imported, s.rejected, s.skipped, s.folded) == (8, 3, 2, 0, 3)
    assert [r.line for r in s.rejects] == [6, 8]
    rome = ZoneInfo("Europe/Rome")
    got = {r["contact_id"]: (r["line"], r["started_at"], r["account_id"], r["category"], r["agent_id"], r["team"],
                             r["ticket_id"]) for r in contact_rows()}
    assert got == {
        # first activity's time; customer, product, agent of the latest activity (line 5)
        "Case 7": (5, datetime(2013, 5, 2, 9, 0, tzinfo=rome), "Value 12", "Value 3", "Value 4", "Value 1", "Case 7"),
        "Case 8": (9, datetime(2013, 5, 3, 10, 0, tzinfo=rome), "Value 11", "Value 6", "Value 4", "Value 3", "Case 8"),
        "Case 9": (7, datetime(2013, 5, 7, 8, 0, tzinfo=rome), "Value 10", "Value 2", "Value 3", "Value 1", "Case 9"),
    }


def test_bpi2016_profile(samples, profile_import, contact_rows):
    s = profile_import(samples / "profiles" / "complaints.csv", "bpi2016")
    assert (s.read, s.imported, s.rejected) == (5, 4, 1)
    assert s.rejects[0].line == 5 and s.rejects[0].reason.startswith('started_at "2015-13-01"')
    rows = {r["contact_id"]: r for r in contact_rows()}
    amsterdam = ZoneInfo("Europe/Amsterdam")
    assert {k: (r["account_id"], r["started_at"], r["category"]) for k, r in rows.items()} == {
        "21": ("5001", datetime(2015, 11, 2, tzinfo=amsterdam), "services"),
        "22": ("5002", datetime(2015, 11, 3, tzinfo=amsterdam), "duration of treatment"),
        "23": ("5001", datetime(2015, 11, 20, tzinfo=amsterdam), "treatment (attitude/behavior)"),
        "25": ("5001", datetime(2016, 1, 5, tzinfo=amsterdam), "services"),
    }
    assert json.loads(rows["23"]["extra"])["ComplaintTopic"] == "gesprek beëindigd"  # Latin-1 ë


def test_explicit_options_win_over_the_profile(samples, profile_import, contact_rows):
    s = profile_import(samples / "profiles" / "bank_calls.tsv", "anonymous-bank", tz="UTC")
    assert s.imported == 5
    first = min(contact_rows(), key=lambda r: r["line"])
    assert first["started_at"] == datetime(1999, 3, 1, 7, 0, 5, tzinfo=ZoneInfo("UTC"))


@pytest.mark.parametrize(("name", "says"), [
    ("bad_field.toml", "columns: 'telephone' is no canonical field"),
    ("bad_values.toml", "time_zone: unknown time zone 'Mars/Olympus'"),
    ("bad_values.toml", "delimiter: ';;' is not one character"),
    ("bad_values.toml", "outcome: codes both answered and abandoned: OK"),
    ("bad_values.toml", "unknown_key: Extra inputs are not permitted"),
    ("not_toml.toml", "not valid TOML"),
])
def test_profile_errors_name_the_file_and_key(samples, name, says):
    path = samples / "profiles" / name
    with pytest.raises(InputFileError) as e:
        profiles.load(str(path))
    assert str(e.value).startswith(f"{path}: ")
    assert says in str(e.value)


def test_unknown_profile_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_DIR_ENV, str(tmp_path))
    with pytest.raises(InputFileError, match="no such profile; shipped: anonymous-bank, bpi2016, italian-helpdesk"):
        profiles.load("nosuch")


def test_every_shipped_profile_is_valid_and_documented():
    text = (Path(__file__).parents[2] / "docs" / "importing.md").read_text()
    assert profiles.shipped() == ["anonymous-bank", "bpi2016", "italian-helpdesk"]
    for name in profiles.shipped():
        _, profile = profiles.load(name)
        assert profile.description and profile.source_url and profile.licence, name
        assert f"`{name}`" in text and profile.source_url in text, f"docs/importing.md does not document {name}"


def test_save_profile_round_trip(samples, tmp_path, monkeypatch):
    monkeypatch.setenv(profiles.PROFILE_DIR_ENV, str(tmp_path / "saved"))
    db = tmp_path / "x.duckdb"
    tsv = samples / "profiles" / "bank_calls.tsv"
    result = runner.invoke(app, ["import", str(tsv), "--profile", "anonymous-bank", "--tz", "Asia/Tel_Aviv",
                                 "--save-profile", "my-bank", "--db", str(db), "-o", "json"])
    assert result.exit_code == 0, result.output
    first = json.loads(result.stdout)
    assert "profile my-bank saved" in result.stderr
    saved = tmp_path / "saved" / "my-bank.toml"
    data = tomllib.loads(saved.read_text())
    assert (data["time_zone"], data["delimiter"], data["source"], data["system"]) == (
        "Asia/Tel_Aviv", "\t", "csv", "anonymous-bank")
    assert data["combine"]["contact_id"] == ["date", "vru+line", "call_id"]
    assert data["skip"] == {"outcome": ["PHANTOM"]}
    # the saved profile reads the file exactly as before: the same import
    result = runner.invoke(app, ["import", str(tsv), "--profile", "my-bank", "--db", str(db), "-o", "json"])
    again = json.loads(result.stdout)
    assert (again["already_imported"], again["skipped"], again["rejected"]) == (first["import_id"], 1, 3)
    bad = runner.invoke(app, ["import", str(tsv), "--profile", "anonymous-bank", "--save-profile", "../x",
                              "--db", str(db)])
    assert bad.exit_code == 1 and "give a plain name" in bad.stderr
