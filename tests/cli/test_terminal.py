"""On a terminal, where progress bars draw, the commands that show one run to the end. Checked in a
pseudo-terminal: the tests' own output is not a terminal, so nothing else draws the bars."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path


def _on_a_terminal(*args: str, cwd: Path) -> tuple[int, str]:
    """Run ``recontact *args`` with stdin, stdout and stderr on a pseudo-terminal: exit code, output."""
    main, child = pty.openpty()
    env = {**os.environ, "COLUMNS": "100", "TERM": "xterm-256color"}
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen([sys.executable, "-m", "recontact.cli", *args], stdin=child, stdout=child,
                            stderr=child, cwd=cwd, env=env)
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    return proc.wait(timeout=120), out.decode("utf-8", errors="replace")


def test_generate_and_import_draw_their_progress_bars_and_finish(tmp_path: Path) -> None:
    code, out = _on_a_terminal("generate", "--out", "desk.csv", "--contacts", "3000", cwd=tmp_path)
    assert code == 0 and "Traceback" not in out, out
    assert "generating" in out  # the bar was drawn (a transient bar's text still went to the terminal)
    code, out = _on_a_terminal("import", "desk.csv", "--db", "s.duckdb", cwd=tmp_path)
    assert code == 0 and "Traceback" not in out, out
    # the bar, its cases step, then the summary table
    assert "importing" in out and "opening cases" in out and "3,000" in out, out
