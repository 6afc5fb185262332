"""``recontact import`` on the command line: options reach the importer, the JSON summary, exit
codes, and error messages that name the file.

Successful runs go through ``typer.testing.CliRunner``; failures run the installed
``recontact`` script in a subprocess, because the message and exit code of a domain error are
made by the application object's ``__call__``, which CliRunner bypasses.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recontact.cli.main import app

RECONTACT = Path(sys.executable).with_name("recontact")
SUMMARY_KEYS = {"read", "imported", "duplicates", "rejected", "unidentified", "rejects_file"}


def cli(*args: str | Path) -> tuple[int, dict | list]:
    result = CliRunner().invoke(app, ["import", *map(str, args), "--output", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, json.loads(result.stdout)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    assert RECONTACT.exists(), f"{RECONTACT}: the package's console script is not installed"
    env = {**os.environ, "COLUMNS": "1000"}  # no wrapping of long paths in messages
    return subprocess.run([str(RECONTACT), "import", *map(str, args), "--output", "json"],
                          capture_output=True, text=True, timeout=60, check=False, env=env)


def test_json_summary(samples, store_path):
    path = samples / "csv" / "malformed.csv"
    code, out = cli(path, "--db", store_path)
    assert code == 0  # rejected rows are no reason to fail: something valid was read
    assert isinstance(out, dict) and set(out) >= SUMMARY_KEYS
    assert {k: out[k] for k in SUMMARY_KEYS} == {
        "read": 14, "imported": 4, "duplicates": 0, "rejected": 10, "unidentified": 0,
        "rejects_file": str(store_path.parent / "malformed.csv.rejects.csv"),
    }
    assert (out["file"], out["source"]) == (str(path), "csv")
    assert Path(out["rejects_file"]).read_text(encoding="utf-8").count("\n") == 11  # header + 10


def test_second_run_reports_duplicates(samples, store_path):
    path = samples / "csv" / "duplicates.csv"
    cli(path, "--db", store_path)
    code, out = cli(path, "--db", store_path)
    assert code == 0
    # u1's third row (other content) is a conflict, the rest duplicates; the file is not read again.
    assert (out["imported"], out["duplicates"], out["conflicts"], out["rejects_file"]) == (0, 6, 1, None)
    assert (out["import_id"], out["already_imported"], out["replaced"]) == (None, 1, None)


def test_map_option(samples, store_path, query):
    code, out = cli(samples / "csv" / "mapped.csv", "--db", store_path,
                    "--map", "Caller ID=phone", "--map", "When=started_at")
    assert (code, out["imported"]) == (0, 2)
    assert query("SELECT DISTINCT phone FROM contacts") == [("+14155550134",)]


def test_tz_time_format_delimiter_encoding_and_source_options(samples, store_path, query):
    code, out = cli(samples / "csv" / "time_format.csv", "--db", store_path, "--tz", "America/New_York",
                    "--time-format", "%d/%m/%Y %H:%M", "--delimiter", ",", "--encoding", "utf-8",
                    "--source", "csv")
    assert (code, out["imported"], out["rejected"]) == (0, 2, 2)
    assert not any(n.startswith("read as ") for n in out["notes"])
    (ts,) = query("SELECT strftime(started_at AT TIME ZONE 'UTC', '%Y-%m-%d %H:%M') FROM contacts "
                  "WHERE contact_id = 'f1'")[0]
    assert ts == "2026-01-05 18:45"


def test_rejects_option(samples, store_path, tmp_path):
    target = tmp_path / "mine.csv"
    code, out = cli(samples / "csv" / "crlf.csv", "--db", store_path, "--rejects", target)
    assert (code, out["rejects_file"]) == (0, str(target))
    assert target.read_text(encoding="utf-8").splitlines()[1].startswith(f"{samples / 'csv' / 'crlf.csv'},4,")


def test_several_files_give_a_list(samples, store_path):
    code, out = cli(samples / "csv" / "phones.csv", samples / "jsonl" / "contacts.jsonl", "--db", store_path)
    assert code == 0
    assert isinstance(out, list)
    assert [(o["source"], o["imported"]) for o in out] == [("csv", 5), ("jsonl", 4)]


def test_config_deny_list_reaches_the_import(samples, store_path, tmp_path):
    config = tmp_path / "recontact.toml"
    config.write_text('deny_list = ["(415) 555-0100"]\n')
    code, out = cli(samples / "csv" / "deny.csv", "--db", store_path, "--config", config)
    assert (code, out["shared"], out["unidentified"]) == (0, 3, 2)


@pytest.mark.parametrize(("name", "message"), [
    ("missing.csv", "no such file"),
    ("header_only.csv", "no valid contact in 0 rows (the file has no rows after its header)"),
    ("bad_rows_only.csv", "no valid contact in 2 rows; first: line 2:"),
])
def test_nothing_valid_exits_non_zero_naming_the_file(samples, store_path, name, message):
    path = samples / "csv" / name
    done = run(path, "--db", store_path)
    assert done.returncode == 1
    assert done.stdout == ""
    err = " ".join(done.stderr.split())  # the console may wrap long messages
    assert f"error: {path}: {message}" in err


def test_a_directory_exits_non_zero(samples, store_path):
    done = run(samples / "csv", "--db", store_path)
    assert done.returncode == 1
    assert f"{samples / 'csv'}: is a directory, not a file" in " ".join(done.stderr.split())


@pytest.mark.parametrize(("args", "message"), [
    (["--map", "Caller ID"], "--map 'Caller ID': write it as \"SOURCE COLUMN=field\""),
    (["--source", "nosuch"], "unknown --source 'nosuch'"),
    (["--tz", "Mars/Olympus"], "unknown time zone 'Mars/Olympus'"),
])
def test_bad_options_exit_non_zero_with_a_message(samples, store_path, args, message):
    done = run(samples / "csv" / "crlf.csv", "--db", store_path, *args)
    assert done.returncode != 0
    assert message in " ".join(done.stderr.split())


def test_subprocess_success_prints_the_json_summary(samples, store_path):
    done = run(samples / "asterisk" / "cdr_csv.csv", "--db", store_path, "--tz", "America/Los_Angeles")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert {k: out[k] for k in SUMMARY_KEYS - {"rejects_file"}} == {
        "read": 6, "imported": 4, "duplicates": 1, "rejected": 1, "unidentified": 1,
    }
