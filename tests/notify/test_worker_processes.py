"""``recontact worker`` as real processes on SQLite and PostgreSQL: one killed with SIGKILL in the
middle of a delivery, and two running at once on one queue. The receivers are real loopback
servers; they de-duplicate by Idempotency-Key, and the tests assert every notification was
received-and-accepted exactly once."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from notify_support import OpStore, WorkerProc, queue_cases, settings_for, write_config
from receivers import HttpReceiver, SmtpReceiver
from recontact.notify.models import DELIVERED, SENDING, Notification

DEADLINE = 90.0  # seconds: a bound on waiting for processes, never a measured duration


def states(opstore: OpStore) -> list[tuple[str, int, str | None]]:
    with Session(opstore.engine) as s:
        return [(n.state, n.attempts, n.worker) for n in s.scalars(select(Notification).order_by(Notification.id))]


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def test_worker_killed_mid_delivery_loses_nothing_and_doubles_nothing(
        opstore: OpStore, webhook: HttpReceiver, smtp: SmtpReceiver, start_worker: WorkerProc, tmp_path: Path) -> None:
    """The receiver accepts the first notification, then holds its answer; the worker is killed
    with SIGKILL while it waits. Its row stays leased; after the lease (3 s) another worker sends
    it again with the same key, and the receiver's de-duplication keeps one copy."""
    env = {"RECONTACT_SMTP_URL": smtp.url}
    config = write_config(tmp_path / "recontact.toml", webhook_url=webhook.url, backoff="0s", timeout="1s",
                          lease="3s", max_attempts=5)
    webhook.ledger.block_first = True
    smtp.ledger.script = ["fail"]  # and every e-mail is refused once (451) on top
    with pytest.MonkeyPatch.context() as mp:  # queue e-mails too (the worker has the URL from its env)
        mp.setenv("RECONTACT_SMTP_URL", smtp.url)
        keys = queue_cases(opstore.engine, settings_for(webhook_url=webhook.url), 4)
    assert len(keys) == 8  # 4 e-mails to the owner, 4 chat messages

    victim = start_worker(config, env=env)
    wait_for(lambda: webhook.ledger.blocked.is_set() or victim.poll() is not None, "the worker to reach the receiver")
    assert victim.poll() is None, victim.communicate()
    victim.send_signal(signal.SIGKILL)
    assert victim.wait(DEADLINE) == -signal.SIGKILL  # it died by the signal, mid-delivery
    victim.communicate()
    held = [s for s in states(opstore) if s[0] == SENDING]
    assert len(held) == 1 and held[0][1] == 1  # the row it was sending stays leased, one attempt spent
    webhook.ledger.release.set()  # the receiver has accepted it; its answer goes nowhere

    reports = []

    def drained() -> bool:
        proc = start_worker(config, "--once", env=env)
        out, err = proc.communicate(timeout=DEADLINE)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
        return all(s[0] == DELIVERED for s in states(opstore))

    wait_for(drained, "every notification delivered after the lease expired")

    every = {**webhook.ledger.accepted, **smtp.ledger.accepted}
    assert every == {k: 1 for k in keys}, "each notification received-and-accepted exactly once"
    assert sum(webhook.ledger.duplicates.values()) == 1  # the killed delivery, sent again and dropped
    assert not smtp.ledger.duplicates and not webhook.ledger.problems and not smtp.ledger.problems
    attempts = sorted(s[1] for s in states(opstore))
    assert attempts == [1, 1, 1, 2, 2, 2, 2, 2]  # 3 webhooks at once; the killed one and 4 e-mails twice
    # Sent: 4 webhooks + the killed one again; 4 e-mails refused once (451) + 4 accepted.
    assert (len(webhook.ledger.received), len(smtp.ledger.received)) == (5, 8)
    # The workers after the kill delivered all 8 and dead-lettered none (the killed worker's
    # report died with it: it may have had one 451 before it blocked).
    assert (sum(r["delivered"] for r in reports), sum(r["dead"] for r in reports)) == (8, 0)
    print(f"kill test ({opstore.kind}): {len(reports)} worker runs after the kill; delivered 8, "
          f"retried {sum(r['retried'] for r in reports)} by them, dead 0; webhook requests 5 (1 duplicate "
          f"dropped), SMTP transactions 8 (4 refused once)")


def test_two_workers_at_once_never_send_one_notification_twice(
        opstore: OpStore, webhook: HttpReceiver, start_worker: WorkerProc, tmp_path: Path) -> None:
    """Two worker processes drain one queue of 40 webhooks. The receiver holds every request until
    it has seen both workers, so they really overlap; then each key must arrive exactly once."""
    config = write_config(tmp_path / "recontact.toml", webhook_url=webhook.url, timeout="10s", lease="60s")
    webhook.ledger.wait_for_workers = 2
    keys = queue_cases(opstore.engine, settings_for(webhook_url=webhook.url), 40)
    procs = [start_worker(config, "--once", "--quiet") for _ in range(2)]
    reports = []
    for p in procs:
        out, err = p.communicate(timeout=DEADLINE)
        assert p.returncode == 0, err
        reports.append(json.loads(out))

    assert not webhook.ledger.problems, webhook.ledger.problems
    assert {k: webhook.ledger.requests_for(k) for k in keys} == {k: 1 for k in keys}, "a key was sent twice"
    assert webhook.ledger.accepted == {k: 1 for k in keys}
    assert len(webhook.ledger.workers_seen) == 2
    assert sorted(r["delivered"] > 0 for r in reports) == [True, True]
    assert sum(r["delivered"] for r in reports) == 40
    rows = states(opstore)
    assert all(s == DELIVERED and a == 1 for s, a, _ in rows)
    assert {w for _, _, w in rows} == {r["worker"] for r in reports}


def test_a_running_worker_delivers_new_work_and_stops_cleanly_on_sigterm(
        opstore: OpStore, webhook: HttpReceiver, start_worker: WorkerProc, tmp_path: Path) -> None:
    config = write_config(tmp_path / "recontact.toml", webhook_url=webhook.url)
    proc = start_worker(config, "--poll", "0.1")
    keys = queue_cases(opstore.engine, settings_for(webhook_url=webhook.url), 3)  # queued while it runs
    wait_for(lambda: len(webhook.ledger.accepted) == 3 or proc.poll() is not None, "the running worker to deliver")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=DEADLINE)
    assert proc.returncode == 0, err
    assert json.loads(out)["delivered"] == 3 and webhook.ledger.accepted == {k: 1 for k in keys}
    assert err.count("delivered: notification") == 3  # one line per attempt on standard error
