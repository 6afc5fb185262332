"""Bad option values: a one-line error and a non-zero exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recontact.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(("option", "value", "says"), [
    ("--delimiter", "ab", "is not one character"),
    ("--encoding", "klingon", "unsupported encoding"),
    ("--tz", "Mars/Olympus", "unknown time zone"),
])
def test_import_option_with_a_bad_value_is_one_line(tmp_path: Path, option: str, value: str, says: str) -> None:
    f = tmp_path / "a.csv"
    f.write_text("started_at,phone\n2026-01-05T09:00:00Z,4155550134\n")
    result = runner.invoke(app, ["import", str(f), "--db", str(tmp_path / "x.duckdb"), option, value])
    assert result.exit_code != 0
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and says in result.output
    assert not (tmp_path / "x.duckdb").exists()


def test_tab_is_a_delimiter(tmp_path: Path) -> None:
    f = tmp_path / "a.tsv"
    f.write_text("started_at\tphone\n2026-01-05T09:00:00Z\t4155550134\n")
    result = runner.invoke(app, ["import", str(f), "--db", str(tmp_path / "x.duckdb"), "--delimiter", "\\t"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("command", [["flags", "--since"], ["fcr", "--from"], ["cost", "--to"]])
def test_an_impossible_date_is_named_as_such(tmp_path: Path, command: list[str]) -> None:
    result = runner.invoke(app, [*command, "1999-02-30", "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert "'1999-02-30' is not a date: day is out of range for month" in result.output


@pytest.mark.parametrize(("toml", "says"), [
    ('timezon = "UTC"\n', "timezon: unknown key (allowed in the top level: asterisk,"),
    ('[costs]\nlabor_per_hour = 3\n', "costs.labor_per_hour: unknown key (allowed in [costs]: labour_per_hour,"),
    ('repeat_window = "99999999999d"\n', "repeat_window: '99999999999d' is too long: durations run up to 36500d"),
    ('[[rules]]\nname = "x"\nmin_contacts = 3\nwindow = "999999999d"\n',
     "rules.0.window: '999999999d' is too long"),
])
def test_config_errors_name_the_key_the_file_and_what_is_allowed(tmp_path: Path, toml: str, says: str) -> None:
    (tmp_path / "r.toml").write_text(toml)
    result = runner.invoke(app, ["rules", "--config", str(tmp_path / "r.toml")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'r.toml'}: ") and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Extra inputs" not in result.stderr
