"""Rendering rows as a Rich table, CSV or JSON — the three ``--output`` forms of every command."""

from __future__ import annotations

import csv
import enum
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from rich.console import Console
from rich.table import Table


class Output(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


stdout = Console()
stderr = Console(stderr=True)


def _plain(value: Any) -> Any:
    """JSON-ready: datetimes as ISO 8601 (with offset), dates as ISO, floats kept."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _cell(value: Any, sep: str = " ") -> str:
    """Text of one cell; ``sep`` joins lists (a newline in tables, a space in CSV)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return sep.join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") if sep == "\n" else value.isoformat()
    if isinstance(value, float):
        return f"{value:g}" if value != int(value) else str(int(value))
    return str(value)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(_plain(data), ensure_ascii=False, indent=2) + "\n")


def emit_rows(rows: Sequence[dict[str, Any]], output: Output, *, title: str = "",
              columns: Sequence[str] | None = None, empty: str = "nothing to show") -> None:
    """Print rows in the chosen form; ``columns`` limits and orders the table/CSV columns (JSON
    always carries every key)."""
    if output is Output.json:
        emit_json(list(rows))
        return
    cols = list(columns or (rows[0].keys() if rows else []))
    if output is Output.csv:
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(cols)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in cols])
        return
    if not rows:
        stdout.print(f"[dim]{empty}[/dim]")
        return
    table = Table(title=title or None, title_justify="left", header_style="bold")
    for c in cols:
        table.add_column(c.replace("_", " "), overflow="fold",
                         justify="right" if isinstance(rows[0].get(c), int | float) else "left")
    for r in rows:
        table.add_row(*(_cell(r.get(c), "\n") for c in cols))
    stdout.print(table)
