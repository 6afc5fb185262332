"""The import summary's identity counts read right: a withheld caller id is not the same as a
contact that identifies no one (the call may carry an account or an e-mail)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from recontact.cli.main import app

runner = CliRunner()


def import_table(path: Path, db: Path) -> str:
    result = runner.invoke(app, ["import", str(path), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return " ".join(result.stdout.split())  # the table wraps at the terminal width


def test_withheld_caller_ids_still_identified_by_another_id_are_told_apart(samples: Path, tmp_path: Path,
                                                                           query) -> None:
    # i01 anonymous + e-mail, i02 Restricted + account, i04 an empty caller id + account: withheld,
    # identified. i03 PRIVATE and i06 all zeros: withheld, no one. i07 an e-mail contact without
    # any id: no one, not withheld. i05 a valid number.
    path, db = samples / "csv" / "withheld_identified.csv", tmp_path / "s.duckdb"
    out = import_table(path, db)
    assert ("3 contacts identify no one (counted, never a customer): 1 of them carries no identifier at all"
            in " ".join(out.split()))
    assert "5 withheld caller ids (3 of them still identified by another id)" in out
    assert query("SELECT contact_id, customer_key IS NOT NULL FROM contacts WHERE withheld ORDER BY line",
                 db=db) == [("i01", True), ("i02", True), ("i03", False), ("i04", True), ("i06", False)]
    again = runner.invoke(app, ["import", str(path), "--db", str(tmp_path / "j.duckdb"), "-o", "json"])
    data = json.loads(again.stdout)
    assert (data["unidentified"], data["withheld"], data["withheld_identified"], data["no_identifier"]) == (3, 5, 3, 1)


def test_withheld_caller_ids_with_nothing_else_say_none(samples: Path, tmp_path: Path) -> None:
    out = import_table(samples / "csv" / "withheld.csv", tmp_path / "s.duckdb")
    assert "8 contacts identify no one" in out
    assert "7 withheld caller ids (none still identified by another id), 0 invalid phone numbers" in out


def test_import_json_keeps_every_key_and_adds_withheld_identified(samples: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(samples / "csv" / "deny.csv"), "--db", str(tmp_path / "s.duckdb"),
                                 "-o", "json"])
    data = json.loads(result.stdout)
    assert list(data) == ["file", "source", "read", "imported", "duplicates", "rejected", "unidentified",
                          "withheld", "shared", "rejects_file", "notes", "import_id", "system", "conflicts",
                          "skipped", "folded", "replaced", "already_imported", "sha256", "invalid_phones",
                          "placeholders", "withheld_identified", "no_identifier"]
    assert data["withheld_identified"] == 0
