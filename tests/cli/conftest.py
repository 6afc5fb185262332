"""Fixtures of the CLI tests: one generated desk imported once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recontact import samples
from recontact.cli.main import app


@pytest.fixture(scope="module")
def desk_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding a 3,000-contact generated desk (``recontact import … --output json``)."""
    tmp = tmp_path_factory.mktemp("cli")
    samples.write_csv(tmp / "desk.csv", 3000)
    db = tmp / "desk.duckdb"
    result = CliRunner().invoke(app, ["import", str(tmp / "desk.csv"), "--db", str(db), "--output", "json"])
    assert result.exit_code == 0, result.output
    return db
