"""Regenerate the terminal screenshots in docs/img/ (SVG, rendered by Rich from real runs).

Usage: python docs/screenshots.py     (writes docs/img/demo.svg and docs/img/top.svg)

Both come from ``recontact demo``'s store: the real Anonymous Bank month when ../shared/data (or
$RECONTACT_SAMPLE_DATA) holds it, else the synthetic desk.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rich.console import Console
from typer.testing import CliRunner

from recontact.cli import output
from recontact.cli.main import app

IMG = Path(__file__).resolve().parent / "img"


def shoot(name: str, args: list[str], title: str) -> None:
    # cli.output.stdout makes its Console on first use: give it a recording one, 110 columns wide.
    console = Console(record=True, width=110)
    output.stdout._console = console
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    console.save_svg(str(IMG / f"{name}.svg"), title=title)


def main() -> None:
    IMG.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the pictures show the default store, recontact-demo.duckdb, as `make demo` does
        shoot("demo", ["demo"], "recontact demo")
        shoot("top", ["top", "--period", "month", "--n", "3", "--db", "recontact-demo.duckdb"],
              "recontact top --period month --n 3")


if __name__ == "__main__":
    main()
