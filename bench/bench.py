"""Benchmark: CSV import and flags + top callers, against plain DuckDB baselines in the same run.

Usage: python bench/bench.py [--sizes 1000000,10000000] [--workdir bench/out]

For each size it generates a synthetic desk (cached), then times
  * import:  ``recontact`` import (validate, type, dedupe, resolve identities, insert)
             vs DuckDB's bare ``CREATE TABLE AS SELECT * FROM read_csv(file)``;
  * reports: ``flags`` (both default rules) + weekly ``top`` through the Ibis definitions
             vs hand-written DuckDB SQL computing the same rows on the same store,
and prints rows/s and the ratios. Targets (issue "Foundation"): import >= 1M rows/s,
flags + top over 10M contacts <= 10 s, ratio to the plain SQL baseline <= 1.5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb

from recontact import desk, samples
from recontact.config import Settings

SETTINGS = Settings(timezone="America/New_York")

BASELINE_SQL = """
WITH c AS (
  SELECT customer_key, started_at, category, coalesce(contact_id, content_hash) AS contact_id,
         coalesce(talk_s, 0) + coalesce(hold_s, 0) + coalesce(wrap_s, 0) AS handle_s
  FROM contacts WHERE direction = 'inbound' AND customer_key IS NOT NULL AND NOT shared
),
r30 AS (
  SELECT 'repeat-30d' AS rule, customer_key, started_at, contact_id, category,
         count(*) OVER (PARTITION BY customer_key ORDER BY started_at
                        RANGE BETWEEN to_microseconds(2591999999999) PRECEDING AND CURRENT ROW) AS n
  FROM c
),
r7 AS (
  SELECT 'same-issue-7d' AS rule, customer_key, started_at, contact_id, category,
         count(*) OVER (PARTITION BY customer_key, category ORDER BY started_at
                        RANGE BETWEEN to_microseconds(604799999999) PRECEDING AND CURRENT ROW) AS n
  FROM c WHERE category IS NOT NULL
)
SELECT rule, customer_key, started_at, n, contact_id, category FROM (
  SELECT * FROM r30 WHERE n >= 5
  QUALIFY row_number() OVER (PARTITION BY customer_key ORDER BY started_at, contact_id) = 1
  UNION ALL
  SELECT * FROM r7 WHERE n >= 3
  QUALIFY row_number() OVER (PARTITION BY customer_key ORDER BY started_at, contact_id) = 1
) ORDER BY started_at, rule, customer_key
"""

BASELINE_TOP_SQL = """
SELECT * FROM (
  SELECT period_start, customer_key, contacts, handle_s,
         row_number() OVER (PARTITION BY period_start ORDER BY contacts DESC, handle_s DESC, customer_key) AS rank
  FROM (
    SELECT date_trunc('week', CAST(started_at AS TIMESTAMP))::DATE AS period_start, customer_key, count(*) AS contacts,
           sum(coalesce(talk_s, 0) + coalesce(hold_s, 0) + coalesce(wrap_s, 0)) AS handle_s
    FROM contacts WHERE direction = 'inbound' AND customer_key IS NOT NULL AND NOT shared
    GROUP BY ALL
  )
) WHERE rank <= 5 ORDER BY period_start, rank
"""


def timed(fn):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def bench_size(n: int, workdir: Path) -> dict[str, float]:
    csv = workdir / f"desk-{n}.csv"
    if not csv.exists():
        print(f"  generating {n:,} contacts -> {csv}", flush=True)
        _, secs = timed(lambda: samples.write_csv(csv, n))
        print(f"  generated in {secs:.1f} s ({n / secs:,.0f} rows/s)", flush=True)
    size_mb = csv.stat().st_size / 1e6

    bare_db = workdir / f"bare-{n}.duckdb"
    bare_db.unlink(missing_ok=True)
    con = duckdb.connect(str(bare_db))
    _, bare = timed(lambda: con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')"))
    con.close()
    bare_db.unlink(missing_ok=True)

    db = workdir / f"store-{n}.duckdb"
    db.unlink(missing_ok=True)
    summary, ours = timed(lambda: desk.import_contacts(db, desk.ImportRequest(path=csv), SETTINGS))
    assert summary.imported > 0.9 * n, summary

    flags, t_flags = timed(lambda: desk.list_flags(db, SETTINGS))
    top, t_top = timed(lambda: desk.top_callers(db, SETTINGS, "week", 5))

    con = duckdb.connect(str(db), read_only=True)
    con.execute(f"SET TimeZone = '{SETTINGS.timezone}'")
    base_flags, tb_flags = timed(lambda: con.execute(BASELINE_SQL).fetchall())
    base_top, tb_top = timed(lambda: con.execute(BASELINE_TOP_SQL).fetchall())
    con.close()
    assert len(base_flags) == len(flags), (len(base_flags), len(flags))
    assert len(base_top) == len(top), (len(base_top), len(top))

    print(f"\n{n:,} contacts ({size_mb:,.0f} MB CSV)")
    print(f"  import      recontact {ours:6.2f} s  {n / ours:>12,.0f} rows/s")
    print(f"              bare read_csv {bare:6.2f} s  {n / bare:>12,.0f} rows/s   ratio {ours / bare:5.2f}")
    print(f"  flags       recontact {t_flags:6.2f} s   SQL baseline {tb_flags:6.2f} s   ratio {t_flags / tb_flags:5.2f}"
          f"   ({len(flags):,} flags)")
    print(f"  top (week)  recontact {t_top:6.2f} s   SQL baseline {tb_top:6.2f} s   ratio {t_top / tb_top:5.2f}")
    both, base_both = t_flags + t_top, tb_flags + tb_top
    print(f"  flags+top   recontact {both:6.2f} s   SQL baseline {base_both:6.2f} s   ratio {both / base_both:5.2f}",
          flush=True)
    db.unlink(missing_ok=True)
    return {"n": n, "import_s": ours, "bare_s": bare, "reports_s": both, "baseline_s": base_both}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--workdir", type=Path, default=Path(__file__).parent / "out")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for n in (int(s) for s in args.sizes.split(",")):
        bench_size(n, args.workdir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
