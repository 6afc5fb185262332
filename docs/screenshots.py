"""Regenerate the terminal screenshots in docs/img/ (SVG, rendered by Rich from real runs).

Usage: python docs/screenshots.py     (writes docs/img/demo.svg and docs/img/top.svg)
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from typer.testing import CliRunner

from recontact.cli import output
from recontact.cli.main import app

IMG = Path(__file__).parent / "img"


def shoot(name: str, args: list[str], title: str) -> None:
    output.stdout.record = True
    output.stdout.width = 110
    output.stdout.export_text(clear=True)  # drop anything recorded before
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    output.stdout.save_svg(str(IMG / f"{name}.svg"), title=title)


def main() -> None:
    IMG.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "demo.duckdb")
        shoot("demo", ["demo", "--db", db], "recontact demo")
        shoot("top", ["top", "--period", "month", "--n", "3", "--db", db], "recontact top --period month --n 3")


if __name__ == "__main__":
    main()
