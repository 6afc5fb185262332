"""Ctrl-C: one line saying what was kept, exit code 130, never a traceback. The signal arrives
either as Python's KeyboardInterrupt or, while DuckDB runs a statement, as its "Query interrupted"
error; both are raised here where the import would meet them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recontact import samples
from recontact.cli.main import app

runner = CliRunner()
STOPS = [KeyboardInterrupt(), RuntimeError("Query interrupted")]


def _stop(error: BaseException) -> Callable[..., None]:
    def raise_it(*args: object, **kwargs: object) -> None:
        raise error

    return raise_it


def _store_with_one_import(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A store holding the import of one file, and a second file not yet imported."""
    first, second, db = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "s.duckdb"
    samples.write_csv(first, 300)
    samples.write_csv(second, 300, seed=8)
    assert runner.invoke(app, ["import", str(first), "--db", str(db), "-o", "json"]).exit_code == 0
    return first, second, db


@pytest.mark.parametrize("error", STOPS, ids=["python", "duckdb"])
def test_an_interrupted_import_is_rolled_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                              error: BaseException) -> None:
    first, second, db = _store_with_one_import(tmp_path)
    monkeypatch.setattr("recontact.store.load.resolve", _stop(error))
    result = runner.invoke(app, ["import", str(second), "--db", str(db), "-o", "json"])
    assert result.exit_code == 130, result.output
    assert "interrupted:" in result.stderr and "nothing of it was imported" in result.stderr
    assert "Traceback" not in result.output
    monkeypatch.undo()
    ledger = json.loads(runner.invoke(app, ["imports", "--db", str(db), "-o", "json"]).stdout)
    assert [r["file"] for r in ledger] == [str(first)]  # the second left nothing behind


@pytest.mark.parametrize("error", STOPS, ids=["python", "duckdb"])
def test_an_interrupted_first_import_leaves_no_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     error: BaseException) -> None:
    samples.write_csv(tmp_path / "a.csv", 300)
    monkeypatch.setattr("recontact.store.load.record_identifiers", _stop(error))
    result = runner.invoke(app, ["import", str(tmp_path / "a.csv"), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 130 and "nothing of it was imported" in result.stderr
    assert not (tmp_path / "s.duckdb").exists()


@pytest.mark.parametrize("error", STOPS, ids=["python", "duckdb"])
def test_an_import_interrupted_while_opening_cases_says_its_contacts_landed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException) -> None:
    first, second, db = _store_with_one_import(tmp_path)
    monkeypatch.setattr("recontact.cases.service.ImportHook.after", _stop(error))
    result = runner.invoke(app, ["import", str(second), "--db", str(db), "-o", "json"])
    assert result.exit_code == 130, result.output
    assert "its contacts were imported (import 2)" in result.stderr and "cases sync" in result.stderr
    monkeypatch.undo()
    ledger = json.loads(runner.invoke(app, ["imports", "--db", str(db), "-o", "json"]).stdout)
    assert [r["file"] for r in ledger] == [str(first), str(second)]


def test_a_read_command_interrupted_says_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples.write_csv(tmp_path / "a.csv", 300)
    assert runner.invoke(app, ["import", str(tmp_path / "a.csv"), "--db", str(tmp_path / "s.duckdb")]).exit_code == 0
    monkeypatch.setattr("recontact.desk.iter_flags", _stop(RuntimeError("Query interrupted")))
    result = runner.invoke(app, ["flags", "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 130 and "interrupted" in result.stderr and "Traceback" not in result.output


def test_other_runtime_errors_are_not_taken_for_an_interrupt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    samples.write_csv(tmp_path / "a.csv", 300)
    monkeypatch.setattr("recontact.store.load.resolve", _stop(RuntimeError("something else")))
    result = runner.invoke(app, ["import", str(tmp_path / "a.csv"), "--db", str(tmp_path / "s.duckdb")])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)
