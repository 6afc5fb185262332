"""The outbox tests' fixtures and helpers (fixtures exposed to every test by tests/conftest.py).

``opstore``: the operational store migrated to the newest revision, on SQLite and on PostgreSQL
(the cases layer's ``cases_db``), with cases 1..50 in it for notifications to point at;
``webhook`` / ``smtp``: real loopback receivers (tests/receivers.py); ``start_worker``:
``recontact worker`` as its own process on that store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cases_support import CasesDb
from receivers import HttpReceiver, Ledger, SmtpReceiver
from recontact.cases.db import open_engine
from recontact.cases.models import Case
from recontact.config import Settings
from recontact.notify import outbox
from recontact.notify.outbox import CaseFacts, Person
from recontact.notify.settings import SMS_GATEWAY_URL_ENV, SMTP_URL_ENV, WEBHOOK_URL_ENV


@dataclass
class OpStore:
    """One operational store: ``db`` is the DuckDB path the CLI is given, ``env`` the environment a
    subprocess needs to find the same database (and no outbox channel settings of ours)."""

    kind: str
    db: Path
    url: str
    engine: Engine
    env: dict[str, str]


CASES = 50


@pytest.fixture
def opstore(cases_db: CasesDb) -> Iterator[OpStore]:
    engine = open_engine(cases_db.db)
    now = datetime.now(UTC)
    with Session(engine) as session:
        cases = [Case(customer_key=100 + i, rule="repeat-30d", category=None, opened_at=T0, created_at=now,
                      updated_at=now) for i in range(1, CASES + 1)]
        session.add_all(cases)
        session.commit()
        assert [c.id for c in cases] == list(range(1, CASES + 1))  # ids from the sequence, as a case's are
    env = {k: v for k, v in os.environ.items() if k not in (SMTP_URL_ENV, WEBHOOK_URL_ENV, SMS_GATEWAY_URL_ENV)}
    yield OpStore(cases_db.kind, cases_db.db, cases_db.url, engine, env)


@pytest.fixture
def webhook() -> Iterator[HttpReceiver]:
    with HttpReceiver(Ledger()) as receiver:
        yield receiver


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with SmtpReceiver(Ledger()) as receiver:
        yield receiver



WorkerProc = Callable[..., subprocess.Popen[str]]


@pytest.fixture
def start_worker(opstore: OpStore) -> Iterator[WorkerProc]:
    """``start_worker(config, *args, env=…)``: ``recontact worker`` as its own process."""
    procs: list[subprocess.Popen[str]] = []

    def start(config: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        cmd = [sys.executable, "-m", "recontact.cli", "worker", "--db", str(opstore.db), "--config", str(config),
               "--output", "json", *args]
        proc = subprocess.Popen(cmd, env={**opstore.env, **(env or {})}, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        procs.append(proc)
        return proc

    yield start
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.communicate(timeout=30)


def settings_for(**notifications: Any) -> Settings:
    """Settings whose retries are due at once (backoff 0) unless told otherwise."""
    base: dict[str, Any] = {"backoff": "0s", "timeout": "1s", "lease": "3s"}
    return Settings.model_validate({"notifications": {**base, **notifications}})


OWNER = Person(name="Ann Lee", email="ann@desk.example", username="ann")
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def case(case_id: int = 1, rule: str = "repeat-30d", **kw: Any) -> CaseFacts:
    facts: dict[str, Any] = {"customer_key": f"C{100 + case_id}", "identifiers": (
        "phone:+14155550134", f"email:cust{case_id}@example.com"), "rule": rule, "category": None,
        "opened_at": T0, "state": "new", "due_at": datetime(2026, 3, 4, 9, 30, tzinfo=UTC)}
    return CaseFacts(case_id=case_id, **{**facts, **kw})


def queue_cases(engine: Engine, settings: Settings, n: int, owner: Person | None = OWNER) -> list[str]:
    """Open ``n`` cases' notifications in one transaction; their keys."""
    with Session(engine) as session:
        rows = [r for i in range(1, n + 1) for r in outbox.case_opened(session, settings, case(i), owner)]
        session.commit()
        return [r.key for r in rows]


def write_config(path: Path, **notifications: Any) -> Path:
    """A recontact.toml with a [notifications] table."""
    lines = ["[notifications]", *(f"{k} = {json.dumps(v)}" for k, v in notifications.items())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path

