"""Bad option values end in a message and a non-zero exit, never a traceback: named cases with
their exact message, and every option of every command walked by introspection, so a new option is
covered the day it is added."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
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
    ('repeat_window = "99999999999d"\n', "repeat_window: '99999999999d' is longer than the longest duration, 36,500d"),
    ('[[rules]]\nname = "x"\nmin_contacts = 3\nwindow = "999999999d"\n',
     "rules.0.window: '999999999d' is longer than the longest duration"),
])
def test_config_errors_name_the_key_the_file_and_what_is_allowed(tmp_path: Path, toml: str, says: str) -> None:
    (tmp_path / "r.toml").write_text(toml)
    result = runner.invoke(app, ["rules", "--config", str(tmp_path / "r.toml")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {tmp_path / 'r.toml'}: ") and says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Extra inputs" not in result.stderr

CALLS = "started_at,phone,category\n2026-11-02 09:00,+14155550134,billing\n2026-11-03 09:00,+14155550134,billing\n"
BAD = ("ab", "", "-1", "99999999999999999999", "1999-02-30", "/nonexistent/dir/x.svg")
#: options whose every string is a legal value (free text, names): only "no traceback" is asserted
FREE_TEXT = {"--reason", "--detail", "--name", "--as", "--system", "--owner", "--manager", "--user",
             "--supervisor", "--agent-id", "--save-profile", "--chart", "--rejects", "--db", "--map",
             "--email", "--code", "--out", "--case"}
#: required arguments: a plausible value each (the option under test is the bad one)
ARGS = {"files": "calls.csv", "file": "calls.csv", "query": "C1", "import_id": "1", "case_id": "1",
        "state": "open", "user": "x", "to": "x", "text": "x", "channel": "phone", "outcome": "reached",
        "username": "x", "kind": "customers", "notification_id": "1"}


def _commands(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, sub in getattr(command, "commands", {}).items():
        if getattr(sub, "commands", None):
            yield from _commands(sub, (*path, name))
        else:
            yield (*path, name), sub


CASES = [(path, param.opts[0]) for path, command in _commands(typer.main.get_command(app))
         for param in command.params if param.opts and param.opts[0].startswith("--") and not param.is_flag]


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("desk")
    (where / "calls.csv").write_text(CALLS)
    result = runner.invoke(app, ["import", str(where / "calls.csv"), "--db", str(where / "x.duckdb")])
    assert result.exit_code == 0, result.output
    return where


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(path) for path, _ in CASES}
    assert {"import", "top", "flags", "cases list", "cases users add", "notifications list", "worker"} <= names
    assert len(CASES) > 100


@pytest.mark.parametrize(("path", "option"), CASES, ids=[f"{' '.join(p)} {o}" for p, o in CASES])
def test_a_bad_value_is_a_message_not_a_traceback(desk: Path, path: tuple[str, ...], option: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copytree(desk, tmp_path / "desk")  # its own copy: a bad value may write files (--db ab)
    monkeypatch.chdir(tmp_path / "desk")
    command = dict(_commands(typer.main.get_command(app)))[path]
    args = [ARGS[p.name] for p in command.params if not p.opts[0].startswith("-") and p.required]
    extra = ["--once"] if path == ("worker",) else []
    if option != "--db" and any(p.opts[0] == "--db" for p in command.params):
        extra += ["--db", "x.duckdb"]
    refused = 0
    for value in BAD:
        result = runner.invoke(app, [*path, *args, option, value, *extra])
        shown = result.output
        assert "Traceback" not in shown, f"{' '.join(path)} {option} {value!r}:\n{shown[-600:]}"
        assert result.exception is None or isinstance(result.exception, SystemExit), \
            f"{' '.join(path)} {option} {value!r}: {result.exception!r:.200}"
        if result.exit_code != 0:
            refused += 1
            assert shown.strip(), f"{' '.join(path)} {option} {value!r}: exit {result.exit_code} and no message"
    if option not in FREE_TEXT:
        assert refused, f"{' '.join(path)} {option}: no bad value of {BAD} was refused"
