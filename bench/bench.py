"""Benchmark: recontact as a user runs it (fresh processes) against plain DuckDB doing the same work.

Usage: python bench/bench.py [--sizes 1M,year,10M] [--shapes desk,phones] [--workdir bench/out] [--repeat 3]

Sizes are contact counts (``1000000``, ``1M``, ``10M``) or ``year`` (2.2M contacts over 364 days).
Shapes: ``desk`` (``recontact generate``: 24 columns, the bench's own desk) and ``phones``
(``bench/phones_desk.py``: 200,000 customers, each phone in up to six spellings, mixed-case
e-mails, 13 columns). For each shape and size it generates the desk (cached under the workdir),
then times, each command in a fresh process, wall clock and peak RSS (``os.wait4``: the child's
own maximum resident set):

* import:   ``recontact import FILE`` vs DuckDB's bare ``CREATE TABLE AS SELECT * FROM read_csv``
            of the same file (target ratio <= 2); as a user runs it (the cases of new flag episodes
            opened, default ``[cases] open_within``), and again with ``[cases] open_on_import =
            false`` (the contacts alone); rows per second beside each (a ratio to the bare load
            flatters a wide file); the cases step on its own (import with cases less the contacts
            alone, each round against its own bare load: target <= 0.25 at the year);
* flags:    ``recontact flags --output json`` vs a hand-written DuckDB episode query for both default
            rules writing the same JSON (target <= 1.5); the two outputs must be equal;
* --help:   ``recontact --help`` vs ``python -c "import typer"`` (target <= 3);
* customer: ``recontact customer X --output json`` (X: the customer with the most flags) vs a
            fresh process opening the store read-only and running the point queries by hand
            (target <= 2); both must report the same flags;
* peak RSS of import and flags (target <= 2.5 GiB each at 10M contacts);
* the import's CPU time (user + system, all threads) beside the bare load's: on a shared machine
  the wall-clock ratio mostly measures the other processes.

Timings are the best of ``--repeat`` runs (the imports and the bare load interleaved; each
round's import is also divided by that round's bare load, and the median of those ratios printed;
peak RSS: the largest of the runs); the compiled-SQL cache of recontact lives in the workdir and is warmed
by one untimed run (for the import: of the file's first 2,000 rows). The machine's load average
is printed with each size: the figures are only comparable on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
RECONTACT = str(BIN / "recontact")
TIMEZONE = "America/New_York"  # the synthetic desk's zone; set in the bench config
YEAR = 2_200_000

#: The default rules (recontact.rules.spec.DEFAULT_RULES), written out by hand.
RULES = (("repeat-30d", 5, 30 * 86400 * 10**6, False), ("same-issue-7d", 3, 7 * 86400 * 10**6, True))


def episode_sql(name: str, n: int, w_us: int, same_category: bool, where: str = "") -> str:
    """Hand-written DuckDB SQL for one rule's flag episodes over the CTE ``c`` (docs/metrics.md):
    opens where the count in (t - W, t] reaches n and the count in [t - W, t) is below n; closes at
    the first t_j + W whose count in (t_j, t_j + W] is below n (and in [t_j, t_j + W) is not)."""
    part = "customer_key, category" if same_category else "customer_key"
    cat = "category" if same_category else "NULL::VARCHAR"
    keep = " AND ".join(x for x in ("category IS NOT NULL" if same_category else "", where) if x)
    return f"""
    SELECT '{name}' AS rule, customer_key, {cat} AS category, started_at AS crossed_at, n_now AS count,
           cid AS contact_id, CASE WHEN close_at <= (SELECT t FROM latest) THEN close_at END AS closed_at
    FROM (
      SELECT *, min(CASE WHEN closes THEN started_at END) OVER (
                  PARTITION BY {part} ORDER BY started_at
                  RANGE BETWEEN to_microseconds({w_us - 1}) PRECEDING AND UNBOUNDED FOLLOWING)
                + to_microseconds({w_us}) AS close_at
      FROM (
        SELECT *, n_now >= {n} AND n_back - peers < {n} AS opens,
                  n_fwd - peers < {n} AND n_until >= {n} AS closes
        FROM (
          SELECT customer_key, category, started_at, cid,
            count(*) OVER (w RANGE BETWEEN to_microseconds({w_us - 1}) PRECEDING AND CURRENT ROW) AS n_now,
            count(*) OVER (w RANGE BETWEEN to_microseconds({w_us}) PRECEDING AND CURRENT ROW) AS n_back,
            count(*) OVER (w RANGE BETWEEN CURRENT ROW AND to_microseconds({w_us}) FOLLOWING) AS n_fwd,
            count(*) OVER (w RANGE BETWEEN CURRENT ROW AND to_microseconds({w_us - 1}) FOLLOWING) AS n_until,
            count(*) OVER (w RANGE BETWEEN CURRENT ROW AND CURRENT ROW) AS peers
          FROM c {"WHERE " + keep if keep else ""}
          WINDOW w AS (PARTITION BY {part} ORDER BY started_at)
        )
      ) WHERE opens OR closes
    ) WHERE opens
    QUALIFY row_number() OVER (PARTITION BY {part}, started_at ORDER BY cid) = 1"""


def flags_sql(where: str = "") -> str:
    """Both default rules' episodes with each customer's identifiers, in recontact's order."""
    episodes = " UNION ALL ".join(episode_sql(*rule, where=where) for rule in RULES)
    return f"""
    WITH c AS (
      SELECT customer_key, category, started_at, coalesce(contact_id, content_hash) AS cid
      -- a contact on a shared line (deny-listed or a hub) counts for the other identifier on it:
      -- its customer_key is that identifier's (docs/metrics.md, "Which contacts count")
      FROM contacts WHERE direction = 'inbound' AND customer_key IS NOT NULL
    ),
    latest AS (SELECT max(started_at) AS t FROM contacts),
    f AS ({episodes}),
    ids AS (
      SELECT customer_key, list(ident ORDER BY CASE split_part(ident, ':', 1) WHEN 'phone' THEN 0
             WHEN 'extension' THEN 1 WHEN 'email' THEN 2 WHEN 'account' THEN 3 WHEN 'employee' THEN 4
             ELSE 5 END, ident) AS identifiers
      FROM identifiers WHERE customer_key IN (SELECT customer_key FROM f) GROUP BY customer_key
    )
    SELECT 'C' || f.customer_key AS customer_key, coalesce(ids.identifiers, []) AS identifiers, rule,
           crossed_at, count, contact_id, category, closed_at
    FROM f LEFT JOIN ids USING (customer_key)
    ORDER BY crossed_at, rule, f.customer_key, category"""


#: A fresh process writing the hand-written query's flags as JSON (argv: store, output file).
BASELINE_FLAGS = f"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET TimeZone = '{TIMEZONE}'")
cur = con.execute({flags_sql()!r})
names = [d[0] for d in cur.description]
iso = lambda v: v.isoformat() if v is not None else None
with open(sys.argv[2], "w") as out:
    out.write("[")
    sep = "\\n"
    while rows := cur.fetchmany(10000):
        for r in rows:
            d = dict(zip(names, r))
            d["crossed_at"], d["closed_at"] = iso(d["crossed_at"]), iso(d["closed_at"])
            out.write(sep + json.dumps(d, ensure_ascii=False, indent=2))
            sep = ",\\n"
    out.write("\\n]\\n")
"""

#: A fresh process answering "customer X" by hand: point queries on the store (argv: store, key).
BASELINE_CUSTOMER = f"""
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("SET TimeZone = '{TIMEZONE}'")
key = int(sys.argv[2][1:])
assert con.execute("SELECT 1 FROM identifiers WHERE customer_key = ? LIMIT 1", [key]).fetchall()
idents = [r[0] for r in con.execute("SELECT ident FROM identifiers WHERE customer_key = ? ORDER BY ident",
                                    [key]).fetchall()]
cur = con.execute("SELECT started_at, channel, direction, category, agent_id, contact_id, talk_s, hold_s, "
                  "wrap_s, resolved, source, line FROM contacts WHERE customer_key = ? "
                  "ORDER BY started_at, contact_id, content_hash", [key])
names = [d[0] for d in cur.description]
contacts = [dict(zip(names, r)) for r in cur.fetchall()]
cur = con.execute({flags_sql(where="customer_key = $key")!r}, {{"key": key}})
names = [d[0] for d in cur.description]
flags = [dict(zip(names, r)) for r in cur.fetchall()]
print(json.dumps({{"customer_key": sys.argv[2], "identifiers": idents, "contacts": contacts, "flags": flags}},
                 default=lambda v: v.isoformat(), indent=2))
"""

BARE_IMPORT = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?)", [sys.argv[2]])
"""


@dataclass
class Run:
    seconds: float
    peak_rss: int  # bytes
    stdout: str
    cpu: float = 0.0  # the child's user + system seconds (all threads): less sensitive to a busy machine


def run(cmd: Sequence[str], env: dict[str, str] | None = None, stdout_file: Path | None = None) -> Run:
    """Run ``cmd`` in a fresh process: wall time, the child's peak RSS and its standard output."""
    out = stdout_file.open("w") if stdout_file else subprocess.PIPE
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env, text=True)
    text = proc.stdout.read() if proc.stdout else ""
    err = proc.stderr.read() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if stdout_file:
        out.close()  # type: ignore[union-attr]
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{err[-3000:]}")
    return Run(seconds, usage.ru_maxrss * 1024, text, usage.ru_utime + usage.ru_stime)


def best(cmd: Sequence[str], repeat: int, env: dict[str, str], stdout_file: Path | None = None) -> Run:
    runs = [run(cmd, env, stdout_file) for _ in range(repeat)]
    return min(runs, key=lambda r: r.seconds)


def instants(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Flags with their times as (instant, UTC offset): equal JSON means the same instant written
    in the same zone, whatever the spelling (``.000000`` or not)."""
    def norm(v: Any) -> Any:
        if v is None:
            return None
        t = datetime.fromisoformat(v)
        return (t.timestamp(), t.utcoffset())
    return [{**r, "crossed_at": norm(r["crossed_at"]), "closed_at": norm(r["closed_at"])} for r in rows]


def parse_size(text: str) -> int:
    text = text.strip().lower()
    if text == "year":
        return YEAR
    scale = {"k": 10**3, "m": 10**6}.get(text[-1:], 1)
    return int(float(text[:-1] if scale > 1 else text) * scale)


def gib(n: int) -> str:
    return f"{n / 2**30:.2f} GiB"


def desk_csv(shape: str, n: int, workdir: Path) -> Path:
    """The generated desk of ``shape`` and ``n`` contacts (cached in the workdir)."""
    from recontact import samples

    csv = workdir / (f"desk-{n}.csv" if shape == "desk" else f"{shape}-{n}.csv")
    if not csv.exists():
        print(f"  generating {n:,} contacts ({shape}) -> {csv}", flush=True)
        started = time.perf_counter()
        if shape == "desk":
            samples.write_csv(csv, n)
        else:
            sys.path.insert(0, str(Path(__file__).parent))
            import phones_desk

            phones_desk.write_csv(csv, n)
        print(f"  generated in {time.perf_counter() - started:.1f} s", flush=True)
    return csv


def bench_size(n: int, workdir: Path, repeat: int, shape: str = "desk") -> dict[str, Any]:
    csv = desk_csv(shape, n, workdir)
    config = workdir / "bench.toml"
    config.write_text(f'timezone = "{TIMEZONE}"\n')
    env = {**os.environ, "RECONTACT_CONFIG": str(config), "RECONTACT_CACHE_DIR": str(workdir / "cache")}
    load = os.getloadavg()[0]
    out: dict[str, Any] = {"n": n, "load": load, "shape": shape}

    bare_db = workdir / f"bare-{n}.duckdb"
    db = workdir / f"store-{n}.duckdb"
    # The same import without opening cases ([cases] open_on_import = false): the contacts alone.
    plain_config = workdir / "bench-no-cases.toml"
    plain_config.write_text(f'timezone = "{TIMEZONE}"\n[cases]\nopen_on_import = false\n')
    plain_db = workdir / f"store-{n}-no-cases.duckdb"
    _warm_import(csv, workdir, env)
    bares, imports, onlys = [], [], []
    for _ in range(repeat):  # interleaved, so that a busy spell of the machine slows all three alike
        bare_db.unlink(missing_ok=True)
        bares.append(run([sys.executable, "-c", BARE_IMPORT, str(bare_db), str(csv)], env))
        bare_db.unlink(missing_ok=True)
        _remove_store(db)
        imports.append(run([RECONTACT, "import", str(csv), "--db", str(db), "--output", "json"], env))
        _remove_store(plain_db)
        onlys.append(run([RECONTACT, "import", str(csv), "--db", str(plain_db), "--output", "json"],
                         {**env, "RECONTACT_CONFIG": str(plain_config)}))
        _remove_store(plain_db)
    bare, imp, only = (min(runs, key=lambda r: r.seconds) for runs in (bares, imports, onlys))
    summary = json.loads(imp.stdout)
    assert summary["imported"] > 0.9 * n, summary
    out.update(import_s=imp.seconds, import_rss=max(r.peak_rss for r in imports), bare_s=bare.seconds,
               bare_rss=bare.peak_rss, import_cpu=imp.cpu, bare_cpu=bare.cpu, cases=_cases_opened(summary),
               contacts_s=only.seconds, contacts_cpu=only.cpu, contacts_rss=max(r.peak_rss for r in onlys),
               import_rounds=[i.seconds / b.seconds for i, b in zip(imports, bares, strict=True)],
               contacts_rounds=[o.seconds / b.seconds for o, b in zip(onlys, bares, strict=True)],
               cases_rounds=[(i.seconds - o.seconds) / b.seconds
                             for i, o, b in zip(imports, onlys, bares, strict=True)],
               cases_cpu_rounds=[(i.cpu - o.cpu) / b.cpu for i, o, b in zip(imports, onlys, bares, strict=True)],
               import_cpu_rounds=[i.cpu / b.cpu for i, b in zip(imports, bares, strict=True)],
               contacts_cpu_rounds=[o.cpu / b.cpu for o, b in zip(onlys, bares, strict=True)])

    ours_json, base_json = workdir / f"flags-{n}.json", workdir / f"flags-baseline-{n}.json"
    run([RECONTACT, "flags", "--db", str(db), "--output", "json"], env, ours_json)  # warms the SQL cache
    flags = best([RECONTACT, "flags", "--db", str(db), "--output", "json"], repeat, env, ours_json)
    base = best([sys.executable, "-c", BASELINE_FLAGS, str(db), str(base_json)], repeat, env)
    ours_rows, base_rows = json.loads(ours_json.read_text()), json.loads(base_json.read_text())
    if instants(ours_rows) != instants(base_rows):
        diff = next(i for i, (a, b) in enumerate(zip(ours_rows, base_rows, strict=False)) if a != b)
        raise SystemExit(f"flags differ from the hand-written query ({len(ours_rows)} vs {len(base_rows)} rows; "
                         f"first at {diff}: {ours_rows[diff]} vs {base_rows[diff]})")
    out.update(flags_s=flags.seconds, flags_rss=flags.peak_rss, flags_base_s=base.seconds, flags=len(ours_rows),
               open=sum(r["closed_at"] is None for r in ours_rows))

    counts: dict[str, int] = {}
    for r in ours_rows:
        counts[r["customer_key"]] = counts.get(r["customer_key"], 0) + 1
    who = max(counts, key=lambda k: (counts[k], k))
    run([RECONTACT, "customer", who, "--db", str(db), "--output", "json"], env)  # warms the SQL cache
    cust = best([RECONTACT, "customer", who, "--db", str(db), "--output", "json"], repeat, env)
    cust_base = best([sys.executable, "-c", BASELINE_CUSTOMER, str(db), who], repeat, env)
    mine, theirs = json.loads(cust.stdout), json.loads(cust_base.stdout)
    assert instants(mine["flags"]) == instants(theirs["flags"]) == instants(
        [r for r in ours_rows if r["customer_key"] == who]), "customer flags differ"
    assert len(mine["contacts"]) == len(theirs["contacts"])
    out.update(customer_s=cust.seconds, customer_base_s=cust_base.seconds, customer=who,
               customer_contacts=len(mine["contacts"]))
    _remove_store(db)
    return out


def _warm_import(csv: Path, workdir: Path, env: dict[str, str]) -> None:
    """Import the file's first 2,000 rows into a throwaway store, untimed: this fills the
    compiled-SQL cache with the episode query the import's cases step runs, as every import after
    a user's first finds it (the first import of a new recontact version compiles it with Ibis:
    about a second more, once)."""
    head = workdir / "warm.csv"
    with csv.open(encoding="utf-8") as src:
        head.write_text("".join(line for _, line in zip(range(2001), src, strict=False)), encoding="utf-8")
    db = workdir / "warm.duckdb"
    _remove_store(db)
    run([RECONTACT, "import", str(head), "--db", str(db), "--output", "json"], env)
    _remove_store(db)
    head.unlink()


def _cases_opened(summary: dict[str, Any]) -> str:
    """The import's note on the cases it opened (or "no cases note")."""
    return next((n for n in summary.get("notes", []) if n.startswith("cases")), "no cases note")


def _remove_store(db: Path) -> None:
    """The store and the cases file beside it (with any earlier one a new store put aside)."""
    for path in (db, *db.parent.glob(f"{db.stem}.cases.sqlite*")):
        path.unlink(missing_ok=True)


def bench_help(repeat: int) -> dict[str, float]:
    ours = best([RECONTACT, "--help"], repeat, dict(os.environ))
    typer = best([sys.executable, "-c", "import typer"], repeat, dict(os.environ))
    return {"help_s": ours.seconds, "typer_s": typer.seconds}


def rounds(ratios: list[float]) -> str:
    """Ratios of the interleaved rounds, and their median (less moved by one busy spell than the
    ratio of two bests, which may come from different rounds)."""
    return f"{' '.join(f'{x:.2f}' for x in ratios)} (median {statistics.median(ratios):.2f})"


def report(r: dict[str, Any]) -> None:
    n = r["n"]
    print(f"\n{n:,} contacts, {r['shape']} (load average {r['load']:.1f} at start)")
    print(f"  import    recontact {r['import_s']:7.2f} s ({n / r['import_s']:>9,.0f} rows/s)   bare read_csv "
          f"{r['bare_s']:6.2f} s ({n / r['bare_s']:>9,.0f} rows/s)   ratio {r['import_s'] / r['bare_s']:4.2f} (<= 2)   "
          f"peak RSS {gib(r['import_rss'])} (bare {gib(r['bare_rss'])})")
    print(f"            CPU time  {r['import_cpu']:7.2f} s   bare read_csv {r['bare_cpu']:6.2f} s   ratio "
          f"{r['import_cpu'] / r['bare_cpu']:4.2f}   ({r['cases']})")
    print(f"  import without opening cases {r['contacts_s']:7.2f} s ({n / r['contacts_s']:>9,.0f} rows/s)   ratio "
          f"{r['contacts_s'] / r['bare_s']:4.2f}   CPU {r['contacts_cpu']:6.2f} s   ratio "
          f"{r['contacts_cpu'] / r['bare_cpu']:4.2f}   peak RSS {gib(r['contacts_rss'])}")
    print(f"            each round against its own bare load, wall: import {rounds(r['import_rounds'])}; contacts "
          f"only {rounds(r['contacts_rounds'])}")
    print(f"            CPU: import {rounds(r['import_cpu_rounds'])}; contacts only {rounds(r['contacts_cpu_rounds'])}")
    print(f"  cases step on its own (import less contacts only) / bare load: wall {rounds(r['cases_rounds'])} "
          f"(<= 0.25 at the year); CPU {rounds(r['cases_cpu_rounds'])}")
    print(f"  flags     recontact {r['flags_s']:7.2f} s   hand-written SQL {r['flags_base_s']:6.2f} s   ratio "
          f"{r['flags_s'] / r['flags_base_s']:4.2f} (<= 1.5)   peak RSS {gib(r['flags_rss'])}   "
          f"{r['flags']:,} flags, {r['open']:,} open, equal")
    print(f"  customer  recontact {r['customer_s']:7.2f} s   point queries    {r['customer_base_s']:6.2f} s   ratio "
          f"{r['customer_s'] / r['customer_base_s']:4.2f} (<= 2)   {r['customer']}: {r['customer_contacts']} "
          f"contacts", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1M,10M", help="comma-separated: 1000000, 1M, year (2.2M), 10M")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--shapes", default="desk,phones", help="comma-separated: desk (recontact generate), "
                                                               "phones (bench/phones_desk.py)")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    h = bench_help(max(args.repeat, 5))
    print(f"--help      recontact {h['help_s']:.3f} s   python -c 'import typer' {h['typer_s']:.3f} s   "
          f"ratio {h['help_s'] / h['typer_s']:4.2f} (<= 3)", flush=True)
    for shape in args.shapes.split(","):
        if shape not in ("desk", "phones"):
            parser.error(f"unknown shape {shape!r}: desk or phones")
        for size in args.sizes.split(","):
            report(bench_size(parse_size(size), args.workdir, args.repeat, shape))
    return 0


if __name__ == "__main__":
    sys.exit(main())
