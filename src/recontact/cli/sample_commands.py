"""``recontact generate`` (a synthetic desk as CSV) and ``recontact demo`` (a store to try everything on)."""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from recontact.cli.main import ConfigOpt, OutputOpt, _a_file, _settings, app
from recontact.cli.output import Output, emit_json, emit_rows, stderr, stdout
from recontact.wording import plural


def _generate(out: Path, contacts: int, seed: int, **layout: Any) -> int:
    """``samples.write_csv`` with a progress bar; ``layout`` is its ``start``, ``days`` and ``tz``."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from recontact import samples

    with Progress(TextColumn("[bold]generating[/bold]"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=stderr.console, transient=True,
                  disable=not stderr.is_terminal) as bar:
        task = bar.add_task("rows", total=contacts)
        out.parent.mkdir(parents=True, exist_ok=True)
        return samples.write_csv(out, contacts, seed=seed, progress=lambda k: bar.advance(task, k), **layout)


def _out_file(value: Path) -> Path:
    return _a_file(value, "--out") or value


def _demo_db(value: Path) -> Path:
    return _a_file(value, "--db") or value


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", callback=_out_file, help="CSV file to write.")],
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
    db: Annotated[Path, typer.Option("--db", callback=_demo_db, help="Demo store (rebuilt each time).")] = Path(
        "recontact-demo.duckdb"),
    contacts: Annotated[int | None, typer.Option("--contacts", min=100, help="Size of the synthetic desk, used "
                                                                             "when the real sample data is "
                                                                             "absent (default 20,000).")] = None,
    output: OutputOpt = Output.table, config: ConfigOpt = None,
) -> None:
    """Build a demo store from real sample data (the Anonymous Bank call centre, February 1999; a
    synthetic desk when it is absent), then show the chronic callers and the month's top callers."""
    from recontact import demo as demo_desk

    def write_synthetic(path: Path, n: int) -> int:
        return _generate(path, n, seed=demo_desk.SYNTHETIC_SEED, start=demo_desk.SYNTHETIC_START,
                         tz=demo_desk.SYNTHETIC_TZ)

    built = demo_desk.build(db, _settings(config), contacts or demo_desk.SYNTHETIC_CONTACTS, write_synthetic)
    s = built.summary
    if output is Output.json:
        emit_json({"data": {"source": built.data, "file": str(built.file), "fallback": built.fallback},
                   "import": {"read": s.read, "imported": s.imported, "skipped": s.skipped,
                              "unidentified": s.unidentified},
                   "top": built.top, "flags": built.flags})
        return
    if built.fallback:
        stdout.print(f"{built.fallback}: a synthetic desk of {s.imported:,} contacts instead "
                     f"({s.unidentified:,} identify no one, e.g. withheld caller ids).", highlight=False,
                     soft_wrap=True)
    else:
        stdout.print(f"Real sample data: the Anonymous Bank call centre, February 1999 (Technion SEE Center), "
                     f"from {built.file}", highlight=False)
        stdout.print(f"{s.imported:,} calls imported ({s.skipped:,} PHANTOM rows skipped); {s.unidentified:,} "
                     "from callers the bank did not identify (counted, never a customer)."
                     + (" --contacts applies to the synthetic desk only." if contacts else ""), highlight=False)
    open_flags = sum(1 for f in built.flags if f["closed_at"] is None)
    customers = len({f["customer_key"] for f in built.flags})
    newest = sorted(built.flags, key=lambda f: f["crossed_at"], reverse=True)[:10]
    emit_rows(newest, output, title=f"Chronic callers: {plural(len(built.flags), 'flag')} on "
                                    f"{plural(customers, 'customer')}, "
                                    f"{open_flags:,} still open — the {len(newest)} newest",
              columns=["crossed_at", "rule", "count", "customer_key", "identifiers", "category"])
    month = built.top[-1]["period"] if built.top else ""
    top = [r for r in built.top if r["period"] == month]
    emit_rows(top, output, title=f"Top {demo_desk.TOP_N} callers, month {month}",
              columns=["rank", "customer_key", "contacts", "handle_s", "identifiers"])
    if output is Output.table:
        _print_next(db, top[0]["customer_key"] if top else "C1")


def _print_next(db: Path, who: str) -> None:
    """What to run next on the demo store: what it answers, then the command."""
    steps = (
        ("chronic now", f"flags --open --db {db}"),
        ("top caller", f"customer {who} --db {db}"),
        ("FCR", f"fcr --by week --db {db}"),
        ("desk KPIs", f"kpis --by week --db {db}"),
        ("cost to serve", f"cost --period month --db {db}"),
        ("case worklist", f"cases list --state open --db {db}"),
        ("your own data", "import YOUR_EXPORT.csv   (see docs/importing.md)"),
    )
    width = max(len(what) for what, _ in steps)
    stdout.print("\nNext:", *(f"  [dim]{what:<{width}}[/dim]  recontact {cmd}" for what, cmd in steps),
                 sep="\n", highlight=False)
    if shutil.which("recontact") is None:
        stdout.print(f"(recontact is {sys.argv[0]}; `. .venv/bin/activate` puts it on your PATH)", highlight=False)
