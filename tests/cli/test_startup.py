"""Start-up stays cheap: ``--help`` and ``--version`` load no engine, no dataframe library and no
validation library. Checked on the modules a fresh interpreter has loaded, never on a clock."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from recontact import importers
from recontact.cli.main import SOURCE_NAMES, _command_name, only_command

#: Heavy libraries a command loads only when it does real work. (Typer itself loads pydantic to
#: coerce some option types once a command's parameters are built, so only the root help and the
#: version are held to pydantic too.)
HEAVY = ("duckdb", "ibis", "scipy", "pyarrow", "numpy", "phonenumbers", "sqlglot")

_RUN_AND_LIST_MODULES = """
import json, sys
from recontact.cli.main import app
try:
    app(sys.argv[1:], prog_name="recontact")
except SystemExit:
    pass
heavy = json.loads({heavy!r})
print(json.dumps(sorted({{m.partition(".")[0] for m in sys.modules}} & set(heavy))), file=sys.stderr)
"""


def _heavy_modules_loaded(*args: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``heavy`` a fresh interpreter has loaded after running ``recontact *args``."""
    script = _RUN_AND_LIST_MODULES.format(heavy=json.dumps(heavy))
    proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
    assert proc.stderr.strip(), proc.stdout
    loaded: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return loaded


@pytest.mark.parametrize("args", [("--help",), ("--version",)])
def test_help_and_version_load_no_heavy_library(args: tuple[str, ...]) -> None:
    loaded = _heavy_modules_loaded(*args, heavy=(*HEAVY, "pydantic"))
    assert loaded == [], f"`recontact {' '.join(args)}` imports heavy libraries eagerly"


@pytest.mark.parametrize("command", ["import", "flags", "top", "customer", "imports", "rules", "formats", "generate",
                                     "demo", "directory", "orders", "cost", "value", "managers",
                                     "cases", "cases list", "cases users add", "worker",
                                     "notifications", "notifications list"])
def test_command_help_loads_no_engine(command: str) -> None:
    loaded = _heavy_modules_loaded(*command.split(), "--help", heavy=(*HEAVY, "sqlalchemy", "alembic"))
    assert loaded == [], f"`recontact {command} --help` imports heavy libraries eagerly"


def test_heavy_libraries_are_seen_when_loaded() -> None:
    """The check above can fail: a command that does real work does load DuckDB."""
    assert "duckdb" in _heavy_modules_loaded("flags", "--db", "/nonexistent/none.duckdb")


def test_read_command_loads_no_importer(tmp_path: Path) -> None:
    """``customer`` and ``flags`` reach the store with no format module and no phone library loaded
    (the importers package is imported for ``ImportOptions``; its formats load on first use)."""
    db = tmp_path / "s.duckdb"
    csv = tmp_path / "c.csv"
    csv.write_text("contact_id,started_at,phone\nA1,2026-01-05T09:00:00Z,415-555-0134\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "recontact.cli", "import", str(csv), "--db", str(db)], check=True,
                   capture_output=True, timeout=120)
    heavy = ("phonenumbers", "recontact.importers.generic_csv")
    for args in (("customer", "C1", "--db", str(db), "-o", "json"), ("flags", "--db", str(db), "-o", "json")):
        script = _RUN_AND_LIST_MODULES.format(heavy=json.dumps(heavy)).replace(
            'm.partition(".")[0] for m in sys.modules', "m for m in sys.modules")
        proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=60)
        assert proc.stdout.lstrip().startswith(("{", "[")), proc.stderr
        assert json.loads(proc.stderr.strip().splitlines()[-1]) == [], f"recontact {args[0]} loads importers"


def test_source_names_in_help_are_the_registered_formats() -> None:
    assert tuple(importers.FORMATS) == SOURCE_NAMES


def _toy_app() -> typer.Typer:
    toy, group = typer.Typer(), typer.Typer()

    @toy.command()
    def repeat_drivers() -> None:
        """Ranked."""

    @toy.command("import")
    def import_cmd() -> None:
        """Import."""

    @group.command()
    def show() -> None:
        """Show."""

    toy.add_typer(group, name="cases")
    return toy


@pytest.mark.parametrize(("argv1", "kept"), [
    ("repeat-drivers", ["repeat-drivers"]), ("import", ["import"]), ("cases", ["cases"]),
    ("--help", ["repeat-drivers", "import", "cases"]), ("nosuch", ["repeat-drivers", "import", "cases"]),
    (None, ["repeat-drivers", "import", "cases"]),
])
def test_only_the_invoked_command_is_built(argv1: str | None, kept: list[str]) -> None:
    """The entry point keeps only the command it runs (Typer builds every kept one first); help,
    no command and an unknown name keep them all, so listings and "no such command" stay whole."""
    toy = _toy_app()
    only_command(toy, argv1)
    assert [_command_name(i) for i in [*toy.registered_commands, *toy.registered_groups]] == kept


def test_entry_point_runs_a_subcommand_and_rejects_an_unknown_one() -> None:
    exe = Path(sys.executable).parent / "recontact"
    ran = subprocess.run([str(exe), "cases", "--help"], capture_output=True, text=True, timeout=60)
    assert ran.returncode == 0 and "Commands:" in ran.stdout and "list" in ran.stdout
    unknown = subprocess.run([str(exe), "nosuch"], capture_output=True, text=True, timeout=60)
    assert unknown.returncode == 2 and "No such command 'nosuch'" in unknown.stderr


def test_an_import_loads_alembic_only_when_the_cases_store_needs_creating(tmp_path: Path) -> None:
    """The cases store is created (Alembic) by a store's first import; a later import finds it at
    the newest revision with one query (``cases.db.HEAD_REVISION``) and opens cases without Alembic."""
    from recontact.samples import write_csv

    first, second, db = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "s.duckdb"
    write_csv(first, 300)
    write_csv(second, 300, seed=8)
    assert _heavy_modules_loaded("import", str(first), "--db", str(db), heavy=("alembic", "sqlalchemy")) == [
        "alembic", "sqlalchemy"]
    assert (tmp_path / "s.cases.sqlite").exists()
    assert _heavy_modules_loaded("import", str(second), "--db", str(db), heavy=("alembic", "sqlalchemy")) == [
        "sqlalchemy"]
