"""Exactly one case per episode group under concurrency (issue 23 §2, §4): two ``cases sync`` at
once, two ``cases open-top`` at once, and two first commands on a fresh database, as real
processes, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select

from cases_support import CasesDb
from recontact import samples
from recontact.cases import db as cases_db_module
from recontact.cases.db import open_engine, session_scope
from recontact.cases.models import Case, CaseFlag
from recontact.notify.models import Notification

CONFIG = """
[cases]
open_on_import = false

[notifications]
webhook_url = "https://chat.example.com/hook"
"""


def cli(*args: str, config: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "recontact.cli", *args, "--db", str(db), "--config", str(config)]


def at_once(*commands: list[str]) -> list[subprocess.CompletedProcess[str]]:
    """Start every command, then wait for each: they run side by side."""
    procs = [subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
             for c in commands]
    done = []
    for c, p in zip(commands, procs, strict=True):
        out, err = p.communicate(timeout=600)
        done.append(subprocess.CompletedProcess(c, p.returncode, out, err))
    return done


def _store(tmp_path: Path, db: Path) -> Path:
    """A store of a generated quarter imported without opening cases; the config file."""
    config = tmp_path / "recontact.toml"
    config.write_text(CONFIG)
    desk = tmp_path / "desk.csv"
    samples.write_csv(desk, 8_000, seed=5, days=90)
    done = subprocess.run(cli("import", str(desk), "--source", "csv", config=config, db=db), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return config


def _counts(db: Path) -> tuple[int, Counter[tuple[int, str, str | None]], Counter[int | None]]:
    """(cases, open cases per customer/rule/category, notifications per case)."""
    cases_db_module.forget_engines()
    with session_scope(open_engine(db)) as session:
        cases = int(session.scalar(select(func.count()).select_from(Case)) or 0)
        groups = Counter(session.execute(select(Case.customer_key, Case.rule, Case.category)
                                         .where(Case.state != "closed")).all())
        per_case = Counter(session.scalars(select(Notification.case_id)))
        live = Counter(session.execute(select(CaseFlag.customer_key, CaseFlag.rule, CaseFlag.category,
                                              CaseFlag.crossed_at).where(CaseFlag.live)).all())
    assert not [k for k, n in live.items() if n > 1], "an episode is on two cases"
    return cases, groups, per_case


def test_two_syncs_at_once_open_each_case_once(cases_db: CasesDb, tmp_path: Path) -> None:
    config = _store(tmp_path, cases_db.db)
    first, second = at_once(cli("cases", "sync", "-o", "json", config=config, db=cases_db.db),
                            cli("cases", "sync", "-o", "json", config=config, db=cases_db.db))
    assert (first.returncode, second.returncode) == (0, 0), (first.stderr, second.stderr)
    cases, groups, per_case = _counts(cases_db.db)
    assert cases > 20
    assert max(groups.values()) == 1  # one open case per customer, rule and category
    assert set(per_case.values()) == {1} and len(per_case) == cases  # each case announced once

    cases_db.use_another()  # one sync alone, in a cases store of its own: the same number of cases
    alone = subprocess.run(cli("cases", "sync", "-o", "json", config=config, db=cases_db.db), capture_output=True,
                           text=True, timeout=600)
    assert alone.returncode == 0, alone.stderr
    assert _counts(cases_db.db)[0] == cases


def test_two_open_top_at_once_open_each_case_once(cases_db: CasesDb, tmp_path: Path) -> None:
    config = _store(tmp_path, cases_db.db)
    runs = at_once(*[cli("cases", "open-top", "--n", "10", "--period", "month", "-o", "json", config=config,
                         db=cases_db.db) for _ in range(2)])
    assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
    cases, groups, per_case = _counts(cases_db.db)
    assert cases == 10 and max(groups.values()) == 1
    assert set(per_case.values()) == {1}


def test_two_first_commands_on_a_fresh_database_both_work(cases_db: CasesDb, tmp_path: Path) -> None:
    """Both migrate (one waits for the other's migration lock), neither dies with UniqueViolation."""
    config = tmp_path / "recontact.toml"
    config.write_text("")
    for attempt in range(3):
        if attempt:
            cases_db.use_another()  # another fresh, empty database
        runs = at_once(*[cli("cases", "list", "-o", "json", config=config, db=cases_db.db)
                         for _ in range(2)])
        assert [r.returncode for r in runs] == [0, 0], [r.stderr for r in runs]
        assert all(r.stdout.strip() == "[]" for r in runs)
