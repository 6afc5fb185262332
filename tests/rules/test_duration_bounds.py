"""Windows are bounded at the config check: an absurd one is a one-line error saying the bound,
not an OverflowError or DuckDB ConversionException traceback in every later command."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from recontact.cli.main import app

runner = CliRunner()


@pytest.mark.parametrize(("key", "value"), [("rules", "99999999999d"), ("rules", "999999999d"),
                                            ("repeat_window", "99999999999d"), ("repeat_window", "36501d")])
def test_an_absurd_window_is_one_line_naming_the_bound(tmp_path: Path, key: str, value: str) -> None:
    config = tmp_path / "r.toml"
    config.write_text(f'[[rules]]\nname = "x"\nmin_contacts = 3\nwindow = "{value}"\n' if key == "rules"
                      else f'repeat_window = "{value}"\n')
    result = runner.invoke(app, ["rules", "--config", str(config)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "36,500d" in lines[0] and "window" in lines[0]


def test_the_bound_itself_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "r.toml"
    config.write_text('[[rules]]\nname = "x"\nmin_contacts = 3\nwindow = "36500d"\n')
    assert runner.invoke(app, ["rules", "--config", str(config)]).exit_code == 0
