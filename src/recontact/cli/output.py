"""Rendering rows as a Rich table, CSV or JSON — the three ``--output`` forms of every command."""

from __future__ import annotations

import csv
import enum
import json
import sys
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime
from itertools import chain
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    from rich.console import Console


class Output(enum.StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


class _LazyConsole:
    """A Rich console made on first use: importing Rich costs about 50 ms, which JSON and CSV
    output (and ``recontact customer``'s point lookups) do without."""

    def __init__(self, *, stderr: bool = False) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def console(self) -> Console:
        """The Rich console itself: what a Rich object that enters it as a context manager (a
        progress bar) must be given, since special methods are not looked up through ``__getattr__``."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr)
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console, name)

    def reset(self) -> None:
        """Forget the console: the next use makes one for the environment as it is then (its width
        comes from ``COLUMNS`` or the terminal when it is made)."""
        self._console = None


stdout: Any = _LazyConsole()
stderr: Any = _LazyConsole(stderr=True)


def _json_value(value: Any) -> Any:
    """What ``json`` cannot write by itself: datetimes as ISO 8601 (with offset), dates as ISO."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def _json(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent, default=_json_value)


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
    """One JSON value (an object, or a short list), indented."""
    sys.stdout.write(_json(data, indent=2) + "\n")


def emit_json_list(rows: Iterable[dict[str, Any]]) -> None:
    """One valid JSON list written as it is read: one row per line, never the whole list in memory."""
    out = sys.stdout
    sep = "[\n"
    for row in rows:
        out.write(sep + _json(row))
        sep = ",\n"
    out.write("[]\n" if sep == "[\n" else "\n]\n")


Title = str | Callable[[int], str]


def emit_rows(rows: Iterable[dict[str, Any]], output: Output, *, title: Title = "",
              columns: Sequence[str] | None = None, empty: str = "nothing to show",
              limit: int | None = None, newest_first: str | None = None) -> None:
    """Print rows in the chosen form. CSV and JSON stream every row (JSON carries every key);
    ``columns`` limits and orders the table/CSV columns.

    The table shows at most ``limit`` rows (None or 0: all). Rows are expected oldest first: the
    table keeps the last ``limit``, shows them sorted by ``newest_first`` descending (the order
    among equals kept), then says how many more there are. ``title`` may be a function of the
    number of rows."""
    if output is Output.json:
        emit_json_list(rows)
        return
    if output is Output.csv:
        _emit_csv(rows, columns)
        return
    kept: deque[dict[str, Any]] = deque(maxlen=limit or None)
    total = 0
    for row in rows:
        kept.append(row)
        total += 1
    shown = list(kept)
    if newest_first:
        shown.sort(key=lambda r: r[newest_first], reverse=True)
    _emit_table(shown, title(total) if callable(title) else title, columns, empty)
    if total > len(shown):
        stdout.print(f"[dim]… {total - len(shown):,} more (use --limit or --output csv/json for all)[/dim]",
                     highlight=False)


def _emit_csv(rows: Iterable[dict[str, Any]], columns: Sequence[str] | None) -> None:
    it = iter(rows)
    first = next(it, None)
    cols = list(columns or (first.keys() if first else []))
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(cols)
    if first is not None:
        w.writerows([_cell(r.get(c)) for c in cols] for r in chain([first], it))


#: Narrowest a table column is squeezed to (a time keeps its 16 characters); the columns that do not
#: fit the terminal at these widths are left out of the table, and named below it.
_READABLE = 10
_TIME_WIDTH = 16


def _fitting(rows: Sequence[dict[str, Any]], cols: list[str], timed: set[str], width: int) -> dict[str, int]:
    """The leading columns of ``cols`` that fit ``width`` terminal columns, each with the width it
    needs at least: its widest cell (first line) or header word up to ``_READABLE``, a time (a
    column of ``timed``) whole."""
    kept: dict[str, int] = {}
    used = 1  # the table's left border
    for c in cols:
        if c in timed:
            need = _TIME_WIDTH
        else:
            widest = max(len(_cell(r.get(c), "\n").split("\n")[0]) for r in rows)
            need = max(1, min(max(widest, *(len(w) for w in c.split("_"))), _READABLE))
        if kept and used + need + 3 > width:
            break
        kept[c] = need
        used += need + 3  # padding on both sides and a border
    return kept


def _emit_table(rows: Sequence[dict[str, Any]], title: str, columns: Sequence[str] | None, empty: str) -> None:
    if not rows:
        stdout.print(f"[dim]{empty}[/dim]")
        return
    from rich.table import Table

    wanted = list(columns or rows[0].keys())
    timed = {c for c in wanted if any(isinstance(r.get(c), datetime) for r in rows)}
    widths = _fitting(rows, wanted, timed, stdout.width)
    cols = list(widths)
    table = Table(title=title or None, title_justify="left", header_style="bold")
    for c in cols:
        # A time is read whole ("2026-03-02 09:00"); other columns fold down to their readable width.
        table.add_column(c.replace("_", " "), overflow="fold", no_wrap=c in timed,
                         min_width=widths[c], justify="right" if isinstance(rows[0].get(c), int | float) else "left")
    for r in rows:
        table.add_row(*(_cell(r.get(c), "\n") for c in cols))
    stdout.print(table)
    if len(cols) < len(wanted):
        left_out = ", ".join(c.replace("_", " ") for c in wanted[len(cols):])
        stdout.print(f"[dim]not shown at this width: {left_out} (a wider terminal, or --output csv/json)[/dim]",
                     highlight=False)


def save_chart(spec: Any, path: Path) -> None:
    """Write a report's chart (``charts.save``) and say where on standard error (and that its
    folder was created, when it was), so that standard output stays the report."""
    from recontact import charts

    missing = [p for p in reversed(path.absolute().parents) if not p.exists()]
    written = charts.save(spec, path)
    created = f" (created the folder {missing[0]})" if missing else ""
    stderr.print(f"chart written: {written}{created}", highlight=False, soft_wrap=True)
