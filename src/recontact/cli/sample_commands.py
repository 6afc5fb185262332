"""``recontact generate`` and ``recontact demo``: a synthetic desk to try everything on."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from recontact.cli.main import ConfigOpt, OutputOpt, _settings, app
from recontact.cli.output import Output, emit_json, emit_rows, stderr, stdout


def _generate(out: Path, contacts: int, seed: int) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from recontact import samples

    with Progress(TextColumn("[bold]generating[/bold]"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=stderr, transient=True,
                  disable=not stderr.is_terminal) as bar:
        task = bar.add_task("rows", total=contacts)
        out.parent.mkdir(parents=True, exist_ok=True)
        return samples.write_csv(out, contacts, seed=seed, progress=lambda k: bar.advance(task, k))


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="CSV file to write.")],
    contacts: Annotated[int, typer.Option("--contacts", min=1, help="How many contacts.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Same seed, same desk.")] = 7,
    output: OutputOpt = Output.table,
) -> None:
    """Write a synthetic help desk as CSV: heavy-tailed callers, messy identifiers, withheld ids."""
    started = time.perf_counter()
    rows = _generate(out, contacts, seed)
    if output is Output.table:
        stdout.print(f"wrote {rows:,} contacts to {out} in {time.perf_counter() - started:.1f} s; "
                     f"next: recontact import {out}", highlight=False)
    else:
        emit_rows([{"file": str(out), "contacts": rows}], output)


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="Demo store (rebuilt each time).")] = Path("recontact-demo.duckdb"),
    contacts: Annotated[int, typer.Option("--contacts", min=100, help="Size of the demo desk.")] = 20_000,
    output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Build a demo store from a synthetic desk, then show this week's top callers and the chronic list."""
    from recontact import desk
    from recontact.config import Settings

    base = _settings(config)
    settings = Settings.model_validate({**base.model_dump(), "timezone": "America/New_York"}) \
        if config is None else base
    csv_path = db.with_suffix(".csv")
    from recontact.cases.db import sqlite_path

    for stale in (db, Path(f"{db}.wal"), sqlite_path(db)):
        stale.unlink(missing_ok=True)
    _generate(csv_path, contacts, seed=7)
    summary = desk.import_contacts(db, desk.ImportRequest(path=csv_path), settings)
    top = desk.top_callers(db, settings, "week", 5)
    flags = desk.list_flags(db, settings)
    if output is Output.json:
        emit_json({"import": {"read": summary.read, "imported": summary.imported,
                              "unidentified": summary.unidentified}, "top": top, "flags": flags})
        return
    latest = [r for r in top if r["period"] == top[-1]["period"]] if top else []
    stdout.print(f"Demo desk: {summary.imported:,} contacts from {csv_path} "
                 f"({summary.unidentified:,} with no identifier, e.g. withheld caller ids).", highlight=False)
    emit_rows(latest, output, title=f"Top 5 callers, week {latest[0]['period'] if latest else ''}",
              columns=["rank", "customer_key", "contacts", "handle_s", "identifiers"])
    shown = sorted(flags, key=lambda f: f["crossed_at"], reverse=True)[:15]
    emit_rows(shown, output, title=f"Chronic callers: {len(flags):,} flags, latest {len(shown)}",
              columns=["crossed_at", "rule", "count", "customer_key", "identifiers"])
    if output is Output.table:
        who = shown[0]["customer_key"] if shown else "C1"
        stdout.print("\nNext:", *(f"  recontact {cmd}" for cmd in (
            f"flags --db {db}", f"top --period month --db {db}", f"customer {who} --db {db}",
            "import YOUR_EXPORT.csv     (see docs/importing.md)")), sep="\n", highlight=False)
        if shutil.which("recontact") is None:
            stdout.print(f"(recontact is {sys.argv[0]}; `. .venv/bin/activate` puts it on your PATH)",
                         highlight=False)
