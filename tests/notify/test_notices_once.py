"""Notices go out once, and one bad notice stops nothing (issue 23, item 4), on SQLite and
PostgreSQL with the real loopback receivers: a notice that cannot be built is dead-lettered with
its reason while the rest are delivered; ``notifications retry`` racing a worker's claim does not
send twice; an attempt is cut off at its deadline (half the lease) even when the receiver keeps
every read alive; channel URLs from the environment are checked with a one-line error; a user's
address is validated when the user is added; ``worker --once`` says what waits for its backoff."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from notify_support import OWNER, OpStore, case, queue_cases, settings_for, write_config
from receivers import HttpReceiver, SmtpReceiver
from recontact.cases import service
from recontact.errors import CaseError
from recontact.notify import outbox, worker
from recontact.notify.models import DEAD, DELIVERED, PENDING, SENDING, Notification
from recontact.notify.outbox import NotificationError, Person
from recontact.notify.settings import SMS_GATEWAY_URL_ENV, SMTP_URL_ENV, WEBHOOK_URL_ENV


def rows(opstore: OpStore) -> list[Notification]:
    with Session(opstore.engine) as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def test_a_notice_that_cannot_be_built_is_dead_lettered_and_the_rest_go_out(
        opstore: OpStore, smtp: SmtpReceiver, webhook: HttpReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    """A user stored with CR/LF in the address (before addresses were validated): that e-mail
    cannot be built (header injection); it is dead-lettered at once with the reason, and the
    notices queued after it are delivered by the same run."""
    monkeypatch.setenv("RECONTACT_SMTP_URL", smtp.url)
    settings = settings_for(webhook_url=webhook.url, max_attempts=5)
    poison = Person(name="Eve", email="eve@desk.example\r\nBcc: everyone@desk.example")
    with Session(opstore.engine) as s:
        first = outbox.case_opened(s, settings, case(1), poison)
        rest = [n for i in range(2, 5) for n in outbox.case_opened(s, settings, case(i), OWNER)]
        s.commit()
        poison_id = first[0].id
    report = worker.run(opstore.engine, settings, once=True, worker="w1")
    assert (report.delivered, report.retried, report.dead) == (1 + len(rest), 0, 1)
    by_id = {r.id: r for r in rows(opstore)}
    dead = by_id.pop(poison_id)
    assert (dead.state, dead.attempts) == (DEAD, 1)
    assert dead.last_error is not None and "cannot build the e-mail" in dead.last_error
    assert all(r.state == DELIVERED for r in by_id.values())
    assert len(smtp.ledger.accepted) == 3 and len(webhook.ledger.accepted) == 4
    assert all("everyone@desk.example" not in m["To"] for m in smtp.messages.values())


def test_retry_racing_a_claim_does_not_send_twice(opstore: OpStore, webhook: HttpReceiver) -> None:
    """An admin's ``retry`` reads the row while it is still pending; a worker claims it before the
    retry writes. The retry's update carries the lease condition: it changes nothing and says why,
    and the notification goes out once."""
    settings = settings_for(webhook_url=webhook.url, lease="60s", timeout="5s")
    (key,) = queue_cases(opstore.engine, settings, 1, owner=None)
    (row,) = rows(opstore)
    with Session(opstore.engine, expire_on_commit=False) as admin:
        seen = admin.get(Notification, row.id)  # the admin's read: pending
        assert seen is not None and seen.state == PENDING
        admin.commit()  # (no transaction held open: the worker is not kept waiting)
        claimed = worker.claim(opstore.engine, settings, "w1", worker.utcnow())  # the worker's claim
        assert claimed is not None and claimed.id == row.id
        with pytest.raises(NotificationError, match="is being sent by w1"):
            outbox.retry(admin, row.id, actor="admin")  # from its stale read, it would have re-queued it
        admin.commit()
    (after,) = rows(opstore)
    assert (after.state, after.attempts, after.lease_token) == (SENDING, 1, claimed.lease_token)
    assert worker.deliver_one(opstore.engine, settings, worker.Deliverer(settings, "w1"), claimed,
                              worker.WorkerReport("w1")) == "delivered"
    report = worker.run(opstore.engine, settings, once=True, worker="w2")
    assert report.delivered == 0 and webhook.ledger.requests_for(key) == 1


@pytest.fixture
def trickler() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP server that answers every connection with a prefix (``prefixes[0]``) and then one
    byte every 0.2 s, forever: each read gets data well within a 1 s timeout, so only a deadline
    on the whole attempt ends it."""
    server = socket.create_server(("127.0.0.1", 0))
    prefixes = [b""]
    stop = threading.Event()

    def feed(conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(prefixes[0])
                while not stop.wait(0.2):
                    conn.sendall(b"a")
            except OSError:
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=feed, args=(conn,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], prefixes
    stop.set()
    server.close()


@pytest.mark.parametrize("channel", ["email", "webhook"])
def test_an_attempt_is_cut_off_at_half_the_lease(opstore: OpStore, trickler: tuple[int, list[bytes]],
                                                 monkeypatch: pytest.MonkeyPatch, channel: str) -> None:
    port, prefixes = trickler
    if channel == "email":
        prefixes[0] = b"220 "  # a greeting line that never ends
        monkeypatch.setenv("RECONTACT_SMTP_URL", f"smtp://127.0.0.1:{port}")
        settings = settings_for(timeout="1s", lease="4s")
    else:
        prefixes[0] = b"HTTP/1.1 200 OK\r\nX-Slow: "  # a header that never ends
        settings = settings_for(webhook_url=f"http://127.0.0.1:{port}/hook", timeout="1s", lease="4s")
    queue_cases(opstore.engine, settings, 1)
    (n,) = [r for r in rows(opstore) if r.channel == channel]
    claimed = worker.claim(opstore.engine, settings, "w1", worker.utcnow())
    assert claimed is not None and claimed.id == n.id
    started = time.monotonic()
    outcome = worker.deliver_one(opstore.engine, settings, worker.Deliverer(settings, "w1"), claimed,
                                 worker.WorkerReport("w1"))
    took = time.monotonic() - started
    assert outcome == "retry"  # its own lease was still held when it recorded the outcome
    assert 1.9 < took < 4.0, took  # the deadline (2 s), well before the lease (4 s) ends
    (after,) = [r for r in rows(opstore) if r.id == n.id]
    assert after.state == PENDING and "deadline of 2 s" in (after.last_error or ""), after.last_error


def run_cli(db: Path, *args: str, env: dict[str, str], base: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    """``recontact ARGS --db DB`` in its own process, with the channel settings of ``env`` only."""
    base = base if base is not None else {k: v for k, v in os.environ.items()
                                          if k not in (SMTP_URL_ENV, WEBHOOK_URL_ENV, SMS_GATEWAY_URL_ENV)}
    return subprocess.run([sys.executable, "-m", "recontact.cli", *args, "--db", str(db)],
                          env={**base, **env}, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("env", "says"), [
    ({"RECONTACT_WEBHOOK_URL": "hooks.slack.com/services/x"}, "$RECONTACT_WEBHOOK_URL: 'hooks.slack.com/services/x' "
                                                              "is not an http:// or https:// URL"),
    ({"RECONTACT_WEBHOOK_URL": "https://[::1/x"}, "$RECONTACT_WEBHOOK_URL: 'https://[::1/x' is not a valid URL"),
    ({"RECONTACT_SMS_GATEWAY_URL": "ftp://gw"}, "$RECONTACT_SMS_GATEWAY_URL: 'ftp://gw' is not an http"),
    ({"RECONTACT_SMTP_URL": "smtp://[::1"}, "$RECONTACT_SMTP_URL: not a valid URL"),
    ({"RECONTACT_SMTP_URL": "smtp://alerts:pw@127.0.0.1:2525"}, "a login without TLS would send the password in "
                                                                 "clear text"),
], ids=["webhook-no-scheme", "webhook-bad-host", "gateway-ftp", "smtp-bad-host", "smtp-plain-login"])
def test_a_bad_channel_url_in_the_environment_is_one_line(tmp_path: Path, env: dict[str, str], says: str) -> None:
    done = run_cli(tmp_path / "desk.duckdb", "worker", "--once", env=env)
    assert done.returncode != 0
    assert done.stderr.startswith("error: ") and says in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_a_plain_smtp_login_is_allowed_only_on_request(tmp_path: Path) -> None:
    env = {"RECONTACT_SMTP_URL": "smtp://alerts:pw@127.0.0.1:2525", "RECONTACT_SMTP_ALLOW_PLAIN": "1"}
    done = run_cli(tmp_path / "desk.duckdb", "worker", "--once", "--output", "json", env=env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["delivered"] == 0


@pytest.mark.parametrize("address", ["ann@desk.example\r\nBcc: all@desk.example", "ann", "ann @desk.example"])
def test_users_are_added_only_with_a_valid_address(opstore: OpStore, address: str) -> None:
    with pytest.raises(CaseError, match="not an e-mail address"):
        service.save_user(opstore.db, "ann", actor="admin", create=True, email=address)
    assert service.list_users(opstore.db) == []
    added = service.save_user(opstore.db, "ann", actor="admin", create=True, email="Ann.Lee@Desk.Example")
    assert added["email"] == "Ann.Lee@desk.example"  # the domain case-folded by email-validator
    with pytest.raises(CaseError, match="not an e-mail address"):
        service.save_user(opstore.db, "ann", actor="admin", create=False, email="ann@desk.example\nx")


def test_worker_once_says_what_waits_for_its_backoff(opstore: OpStore, webhook: HttpReceiver, tmp_path: Path
                                                      ) -> None:
    webhook.ledger.script = ["fail"]
    config = write_config(tmp_path / "recontact.toml", webhook_url=webhook.url, backoff="1h", timeout="2s",
                          lease="10s")
    queue_cases(opstore.engine, settings_for(webhook_url=webhook.url), 2, owner=None)
    first = run_cli(opstore.db, "worker", "--once", "--quiet", "--config", str(config), env={}, base=opstore.env)
    assert first.returncode == 0, first.stderr
    said = " ".join(first.stdout.split())  # as one line, however the terminal wraps it
    assert "0 delivered, 2 to retry" in said and "2 waiting for a later attempt (backoff)" in said
    due = min(r.next_attempt_at for r in rows(opstore))
    assert f"the next due at {due:%Y-%m-%d %H:%M:%S} UTC" in said, said
    again = run_cli(opstore.db, "worker", "--once", "--output", "json", "--config", str(config), env={},
                    base=opstore.env)
    report = json.loads(again.stdout)
    assert (report["delivered"], report["waiting"]) == (0, 2)
    assert report["next_due"].startswith(f"{due:%Y-%m-%dT%H:%M:%S}")
    assert timedelta(minutes=29) < due - worker.utcnow() <= timedelta(hours=1)  # backoff 1h, jittered
