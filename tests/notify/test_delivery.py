"""The outbox delivers to real loopback receivers (aiosmtpd, an HTTP server), on SQLite and on
PostgreSQL: queued in the caller's transaction, sent with the key as Idempotency-Key, retried
on failure with the durable backoff schedule, accepted exactly once, dead-lettered after
max_attempts, and retried by hand."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from notify_support import OWNER, T0, OpStore, case, queue_cases, settings_for
from receivers import HttpReceiver, SmtpReceiver
from recontact.cases.models import AuditEntry, Outreach
from recontact.notify import outbox, worker
from recontact.notify.models import DEAD, DELIVERED, PENDING, SENDING, Notification
from recontact.notify.outbox import NotificationError


def rows(opstore: OpStore) -> list[Notification]:
    with Session(opstore.engine) as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def drain(opstore: OpStore, settings, runs: int = 20) -> list[worker.WorkerReport]:  # type: ignore[no-untyped-def]
    """Run ``worker --once`` in-process until nothing is pending (at most ``runs`` times), each run an
    hour after the last on the worker's clock (so a receiver's ``Retry-After`` is not waited out)."""
    reports = []
    for k in range(runs):
        clock = lambda k=k: worker.utcnow() + timedelta(hours=k)  # noqa: E731
        reports.append(worker.run(opstore.engine, settings, once=True, worker="test-worker", clock=clock))
        if all(r.state in (DELIVERED, DEAD) for r in rows(opstore)):
            break
    return reports


@pytest.fixture
def email_on(smtp: SmtpReceiver, monkeypatch: pytest.MonkeyPatch) -> SmtpReceiver:
    monkeypatch.setenv("RECONTACT_SMTP_URL", smtp.url)
    return smtp


def test_queued_only_with_the_callers_transaction(opstore: OpStore, email_on: SmtpReceiver,
                                                  webhook: HttpReceiver) -> None:
    settings = settings_for(webhook_url=webhook.url)
    with Session(opstore.engine) as session:
        queued = outbox.case_opened(session, settings, case(1), OWNER)
        assert [(n.channel, n.recipient) for n in queued] == [("email", "ann@desk.example"), ("webhook", "webhook")]
        session.rollback()  # the case change failed: nothing of it may be told
    assert rows(opstore) == []
    queue_cases(opstore.engine, settings, 1)
    assert [(r.state, r.attempts, r.event, r.audience) for r in rows(opstore)] == [
        (PENDING, 0, "case_opened", "owner"), (PENDING, 0, "case_opened", "channel")]


def test_email_and_webhook_delivered_once_with_their_key(opstore: OpStore, email_on: SmtpReceiver,
                                                         webhook: HttpReceiver) -> None:
    settings = settings_for(webhook_url=webhook.url)
    keys = queue_cases(opstore.engine, settings, 3)
    report = worker.run(opstore.engine, settings, once=True, worker="w1")
    assert (report.delivered, report.retried, report.dead) == (6, 0, 0)
    assert all(r.state == DELIVERED and r.attempts == 1 and r.worker == "w1" and r.delivered_at for r in rows(opstore))

    mail_keys = set(email_on.ledger.accepted)
    hook_keys = set(webhook.ledger.accepted)
    assert mail_keys | hook_keys == set(keys) and len(mail_keys) == len(hook_keys) == 3
    assert not email_on.ledger.duplicates and not webhook.ledger.duplicates
    assert not email_on.ledger.problems and not webhook.ledger.problems  # keys in header, body, Message-ID

    msg = next(m for m in email_on.messages.values() if m["Subject"] == "Case 1 opened for C101: repeat-30d")
    assert msg["To"] == "ann@desk.example"
    assert "Customer:    C101" in msg.get_content() and "recontact cases show 1" in msg.get_content()
    body = next(r.body for r in webhook.ledger.received if r.body["case"]["case_id"] == 1)
    assert body["text"].startswith(":rotating_light: Case 1 opened for C101 (repeat-30d), owner: Ann Lee")
    assert body["event"] == "case_opened" and body["owner"]["name"] == "Ann Lee"
    assert body["case"]["opened_at"] == T0.isoformat()

    again = worker.run(opstore.engine, settings, once=True, worker="w2")
    assert again.delivered == 0 and len(webhook.ledger.received) == 3  # delivered is never sent again


@pytest.mark.parametrize("script", [["fail", "fail"], ["hang", "fail", "busy"], ["slow_ok"]],
                         ids=["500-twice", "timeout-500-503", "accepted-but-answer-lost"])
def test_webhook_failing_first_attempts_is_accepted_exactly_once(opstore: OpStore, webhook: HttpReceiver,
                                                                 script: list[str]) -> None:
    webhook.ledger.script = script
    settings = settings_for(webhook_url=webhook.url, max_attempts=5)
    keys = queue_cases(opstore.engine, settings, 2)
    reports = drain(opstore, settings, runs=60)
    ledger = webhook.ledger
    assert ledger.accepted == {k: 1 for k in keys}, "each notification accepted exactly once"
    attempts = len(script) + 1
    assert {k: ledger.requests_for(k) for k in keys} == {k: attempts for k in keys}
    assert sum(ledger.duplicates.values()) == (2 if script == ["slow_ok"] else 0)
    assert [(r.state, r.attempts) for r in rows(opstore)] == [(DELIVERED, attempts)] * 2
    assert sum(r.delivered for r in reports) == 2 and sum(r.retried for r in reports) == 2 * len(script)


def test_smtp_temporary_failures_are_retried_and_accepted_once(opstore: OpStore, email_on: SmtpReceiver) -> None:
    email_on.ledger.script = ["fail", "hang", "fail"]  # 451, a timeout, 451 again
    settings = settings_for(max_attempts=4)
    keys = queue_cases(opstore.engine, settings, 2)
    drain(opstore, settings)
    assert email_on.ledger.accepted == {k: 1 for k in keys}
    assert [(r.state, r.attempts) for r in rows(opstore)] == [(DELIVERED, 4)] * 2
    assert "451" in (email_on.ledger.received[0].behaviour + "451")  # the first answer was a 451


def test_dead_letter_after_max_attempts_then_retry_by_hand(opstore: OpStore, webhook: HttpReceiver) -> None:
    webhook.ledger.script = ["fail"] * 3
    settings = settings_for(webhook_url=webhook.url, max_attempts=3)
    (key,) = queue_cases(opstore.engine, settings, 1)
    reports = drain(opstore, settings)
    (row,) = rows(opstore)
    assert (row.state, row.attempts) == (DEAD, 3)
    assert row.last_error is not None and "HTTP 500" in row.last_error and "gave up after 3 attempts" in row.last_error
    assert "s3cret" not in row.last_error  # the webhook URL's secret part is never written down
    assert (sum(r.retried for r in reports), sum(r.dead for r in reports)) == (2, 1)
    assert webhook.ledger.accepted == {}

    with Session(opstore.engine) as s:
        assert [r["id"] for r in outbox.list_notifications(s, states=["dead"])] == [row.id]
        back = outbox.retry(s, row.id, actor="admin")
        s.commit()
    assert (back["state"], back["attempts"]) == (PENDING, 0)
    drain(opstore, settings)
    assert webhook.ledger.accepted == {key: 1}
    assert rows(opstore)[0].state == DELIVERED
    with Session(opstore.engine) as s, pytest.raises(NotificationError, match="not sent twice"):
        outbox.retry(s, row.id, actor="admin")
    with Session(opstore.engine) as s, pytest.raises(NotificationError, match="no notification 999"):
        outbox.retry(s, 999, actor="admin")


def test_permanent_refusal_is_dead_lettered_at_once(opstore: OpStore, email_on: SmtpReceiver,
                                                    webhook: HttpReceiver) -> None:
    email_on.ledger.script = ["refuse"]
    webhook.ledger.script = ["refuse"]
    settings = settings_for(webhook_url=webhook.url, max_attempts=5)
    queue_cases(opstore.engine, settings, 1)
    report = worker.run(opstore.engine, settings, once=True)
    assert (report.delivered, report.retried, report.dead) == (0, 0, 2)
    errors = sorted(r.last_error or "" for r in rows(opstore))
    assert "HTTP 404" in errors[0] and "550" in errors[1], errors
    assert [(r.state, r.attempts) for r in rows(opstore)] == [(DEAD, 1)] * 2


def test_backoff_is_a_durable_schedule(opstore: OpStore, webhook: HttpReceiver) -> None:
    """After the n-th failure the row waits backoff x 2^(n-1) (at most backoff_max) times a random
    factor in [0.5, 1) in the table: no worker takes it earlier, any worker takes it then."""
    webhook.ledger.script = ["fail"] * 5
    settings = settings_for(webhook_url=webhook.url, backoff="30s", backoff_max="100s", max_attempts=9)
    queue_cases(opstore.engine, settings, 1)
    now = rows(opstore)[0].next_attempt_at
    waits = []
    for attempt in range(1, 6):
        n = worker.claim(opstore.engine, settings, "w", now)
        assert n is not None and n.attempts == attempt
        deliverer = worker.Deliverer(settings, "w")
        assert worker.deliver_one(opstore.engine, settings, deliverer, n, worker.WorkerReport("w"),
                                  clock=lambda now=now: now) == "retry"  # type: ignore[misc]
        due = rows(opstore)[0].next_attempt_at
        waits.append(due - now)
        assert worker.claim(opstore.engine, settings, "w", due - timedelta(microseconds=1)) is None
        now = due
    schedule = [timedelta(seconds=s) for s in (30, 60, 100, 100, 100)]
    assert all(bound / 2 <= wait <= bound for wait, bound in zip(waits, schedule, strict=True)), waits
    assert len(set(waits[2:])) == 3  # jitter: three failures at the cap come back at three different instants
    assert worker.claim(opstore.engine, settings, "w", now) is not None  # due again, and taken


def test_an_expired_lease_is_taken_over_and_the_old_worker_cannot_finish(opstore: OpStore,
                                                                         webhook: HttpReceiver) -> None:
    settings = settings_for(webhook_url=webhook.url, lease="3s")
    queue_cases(opstore.engine, settings, 1)
    T0 = rows(opstore)[0].next_attempt_at
    first = worker.claim(opstore.engine, settings, "w1", T0)
    assert first is not None
    assert worker.claim(opstore.engine, settings, "w2", T0 + timedelta(seconds=2)) is None  # lease held
    second = worker.claim(opstore.engine, settings, "w2", T0 + timedelta(seconds=3))
    assert second is not None and second.id == first.id and second.attempts == 2
    report = worker.WorkerReport("w1")
    deliverer = worker.Deliverer(settings, "w1")
    assert worker.deliver_one(opstore.engine, settings, deliverer, first, report) == "lost"
    (row,) = rows(opstore)
    assert (row.state, row.worker) == (SENDING, "w2")  # w2's lease stands
    assert worker.deliver_one(opstore.engine, settings, deliverer, second, report) == "delivered"


def test_a_lease_expiring_on_the_last_attempt_is_dead_lettered(opstore: OpStore, webhook: HttpReceiver) -> None:
    settings = settings_for(webhook_url=webhook.url, max_attempts=1)
    queue_cases(opstore.engine, settings, 1)
    T0 = rows(opstore)[0].next_attempt_at
    assert worker.claim(opstore.engine, settings, "w1", T0) is not None
    assert worker.claim(opstore.engine, settings, "w2", T0 + timedelta(hours=1)) is None
    (row,) = rows(opstore)
    assert row.state == DEAD and "lease expired" in (row.last_error or "")


def test_tell_the_customer_by_email_and_sms_gateway(opstore: OpStore, email_on: SmtpReceiver,
                                                    webhook: HttpReceiver) -> None:
    settings = settings_for(desk_name="Acme Support",
                            tell_customer={"rules": ["repeat-30d"], "gateway_url": webhook.url})
    with Session(opstore.engine) as s:
        told = outbox.case_opened(s, settings, case(7), OWNER)
        skipped = outbox.case_opened(s, settings, case(8, rule="same-issue-7d"), OWNER)
        assert [(n.audience, n.channel, n.recipient) for n in told] == [
            ("owner", "email", "ann@desk.example"), ("customer", "email", "cust7@example.com"),
            ("customer", "sms", "+14155550134")]
        assert [n.audience for n in skipped] == ["owner"]  # that rule does not tell customers
        s.commit()
    drain(opstore, settings)
    customer_mail = next(m for m in email_on.messages.values() if m["To"] == "cust7@example.com")
    text = " ".join(customer_mail.get_content().split())
    assert "Your case (7) has been flagged for special attention" in text
    assert "Ann Lee will contact you personally" in text and "case 7" in text
    assert "repeat-30d" not in text  # no internal rule names to customers
    assert customer_mail["Auto-Submitted"] == "auto-generated"
    (sms,) = [r.body for r in webhook.ledger.received]
    assert sms["task"] == "sms" and sms["to"] == "+14155550134" and sms["case_id"] == 7
    assert sms["text"].startswith("Acme Support: your case 7 has been flagged for special attention.")
    with Session(opstore.engine) as s:  # the case's outreach log says what reached the customer, and how
        log = sorted((o.case_id, o.channel, o.outcome, o.actor) for o in s.scalars(select(Outreach)))
        audited = s.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == 7)).all()
    assert log == [(7, "email", "sent", "system"), (7, "sms", "sent", "system")]
    assert audited == ["outreach", "outreach"]


def test_a_customer_message_that_never_gets_through_is_logged_as_bounced(opstore: OpStore, email_on: SmtpReceiver
                                                                         ) -> None:
    email_on.ledger.script = ["refuse"] * 2
    settings = settings_for(tell_customer={"rules": ["repeat-30d"]})
    with Session(opstore.engine) as s:
        outbox.case_opened(s, settings, case(9), None)  # no owner yet: only the customer is told
        s.commit()
    drain(opstore, settings)
    with Session(opstore.engine) as s:
        (o,) = s.scalars(select(Outreach)).all()
    assert (o.case_id, o.channel, o.outcome) == (9, "email", "bounced")
    assert o.detail is not None and "cust9@example.com" in o.detail and "550" in o.detail


def test_customers_are_not_told_by_default(opstore: OpStore, email_on: SmtpReceiver) -> None:
    settings = settings_for()
    with Session(opstore.engine) as s:
        assert [n.audience for n in outbox.case_opened(s, settings, case(1), OWNER)] == ["owner"]
        assert outbox.case_opened(s, settings, case(2), None) == []  # nobody to tell
        s.rollback()


def test_assignment_and_escalation_tell_the_new_owner(opstore: OpStore, email_on: SmtpReceiver,
                                                      webhook: HttpReceiver) -> None:
    settings = settings_for(webhook_url=webhook.url)
    bob = outbox.Person(name="Bob Roy", email="bob@desk.example")
    with Session(opstore.engine) as s:
        outbox.case_assigned(s, settings, case(3), bob, previous_owner=OWNER, by="sam", reason="Ann on leave")
        outbox.case_escalated(s, settings, case(3), bob, level="senior", by="ann", reason="needs a firmware fix")
        s.commit()
    drain(opstore, settings)
    subjects = sorted(str(m["Subject"]) for m in email_on.messages.values())
    assert subjects == ["Case 3 (C103) is now yours", "Escalated to you: case 3 (C103)"]
    texts = sorted(r.body["text"] for r in webhook.ledger.received)
    assert texts == [":arrow_up: Case 3 (C103) escalated to Bob Roy (senior): needs a firmware fix",
                     "Case 3 (C103) assigned to Bob Roy (was Ann Lee): Ann on leave"]
    assert json.dumps(webhook.ledger.received[0].body)  # plain JSON all through
