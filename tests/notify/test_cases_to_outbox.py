"""From flag to told, through the real cases layer: an import opens cases (routed to a pool
liaison), the outbox listener queues the owner's e-mail, the chat message and — the rule says so —
the customer's e-mail and SMS task in the import's own transaction; the worker delivers them to
loopback receivers, and the customer's messages land in the case's outreach log. Reassignment and
escalation tell the new owner. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from notify_support import OpStore
from receivers import HttpReceiver, SmtpReceiver
from recontact import desk
from recontact.cases import hooks, service
from recontact.cases import sync as sync_module
from recontact.cases.hooks import CaseNotice
from recontact.config import Settings
from recontact.notify import worker
from recontact.notify.models import DELIVERED, Notification

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def write_calls(path: Path, customers: list[tuple[str, str]], n: int = 5) -> Path:
    """``n`` daily inbound calls by each (phone, e-mail) customer."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["contact_id", "started_at", "direction", "channel", "phone", "email"])
        for j, (phone, email) in enumerate(customers):
            for i in range(n):
                w.writerow([f"{phone}-{i}", (T0 + timedelta(days=i, minutes=j)).isoformat(), "inbound", "phone",
                            phone, email])
    return path


def create_store(db: Path, settings: Settings, tmp_path: Path) -> None:
    """The DuckDB store, made by an import that opens no case (a new store sets aside an older
    SQLite cases file, users included)."""
    desk.import_contacts(db, desk.ImportRequest(write_calls(tmp_path / "first.csv", [("4155550199", "")], n=1),
                                                source="csv"), settings)


def desk_settings(webhook: HttpReceiver) -> Settings:
    return Settings.model_validate({
        "routing": {"order": ["pool"]},
        "rules": [{"name": "r", "min_contacts": 5, "window": "30d"}],
        "notifications": {"webhook_url": webhook.url, "backoff": "0s", "timeout": "2s", "lease": "10s",
                          "desk_name": "Acme Support",
                          "tell_customer": {"rules": ["r"], "gateway_url": webhook.url}},
    })


def notifications(opstore: OpStore) -> list[tuple[int | None, str, str, str, str]]:
    with Session(opstore.engine) as s:
        return [(n.case_id, n.event, n.audience, n.channel, n.recipient)
                for n in s.scalars(select(Notification).order_by(Notification.id))]


def test_an_import_that_opens_a_case_tells_owner_chat_and_customer(
        opstore: OpStore, smtp: SmtpReceiver, webhook: HttpReceiver, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONTACT_SMTP_URL", smtp.url)
    s = desk_settings(webhook)
    db = opstore.db
    create_store(db, s, tmp_path)
    for user, email in (("liz", "liz@desk.example"), ("bob", "bob@desk.example"), ("mo", "mo@desk.example")):
        service.save_user(db, user, actor="admin", create=True, name=user.title() + " Doe", email=email,
                          in_pool=user == "liz", capacity=5)
    desk.import_contacts(db, desk.ImportRequest(write_calls(tmp_path / "a.csv", [("4155550100", "Ann@Example.com")]),
                                                source="csv"), s)
    (case,) = [c for c in service.list_cases(db, s) if "phone:+14155550100" in c["identifiers"]]
    cid = case["case_id"]
    assert case["owner"] == "liz"
    assert notifications(opstore)[-4:] == [
        (cid, "case_opened", "owner", "email", "liz@desk.example"),
        (cid, "case_opened", "channel", "webhook", "webhook"),
        (cid, "customer_told", "customer", "email", "ann@example.com"),
        (cid, "customer_told", "customer", "sms", "+14155550100"),
    ]  # routing's own "assigned" notice is announced by the opening: no second message

    report = worker.run(opstore.engine, s, once=True)
    assert (report.delivered, report.retried, report.dead) == (4, 0, 0)
    mails = {str(m["To"]): m for m in smtp.messages.values()}
    assert str(mails["liz@desk.example"]["Subject"]) == f"Case {cid} opened for {case['customer_key']}: r"
    assert "phone:+14155550100" in mails["liz@desk.example"].get_content()
    customer = " ".join(mails["ann@example.com"].get_content().split())
    assert f"Your case ({cid}) has been flagged for special attention" in customer
    assert "Liz Doe will contact you personally" in customer and "Acme Support" in customer
    hooks_seen = sorted((r.body.get("task") or r.body["event"]) for r in webhook.ledger.received)
    assert hooks_seen == ["case_opened", "sms"]

    shown = service.show_case(db, s, cid)
    assert sorted((o["channel"], o["outcome"], o["actor"]) for o in shown["outreach"]) == [
        ("email", "sent", "system"), ("sms", "sent", "system")]

    service.assign_case(db, s, cid, "bob", actor="liz", reason="Bob knows this model")
    service.escalate_case(db, s, cid, "manager", actor="bob", user="mo", reason="replace the router")
    service.transition_case(db, s, cid, "contacted", actor="bob")  # a transition tells nobody
    assert notifications(opstore)[-4:] == [
        (cid, "case_assigned", "owner", "email", "bob@desk.example"),
        (cid, "case_assigned", "channel", "webhook", "webhook"),
        (cid, "case_escalated", "owner", "email", "mo@desk.example"),
        (cid, "case_escalated", "channel", "webhook", "webhook"),
    ]
    worker.run(opstore.engine, s, once=True)
    subjects = sorted(str(m["Subject"]) for m in smtp.messages.values() if str(m["To"]) != "ann@example.com")
    assert f"Case {cid} ({case['customer_key']}) is now yours" in subjects
    assert f"Escalated to you: case {cid} ({case['customer_key']})" in subjects
    chat = [r.body["text"] for r in webhook.ledger.received if "event" in r.body and r.body["event"] != "case_opened"]
    assert chat == [f"Case {cid} ({case['customer_key']}) assigned to Bob Doe (was Liz Doe): Bob knows this model",
                    f":arrow_up: Case {cid} ({case['customer_key']}) escalated to Mo Doe (manager): replace the router"]
    with Session(opstore.engine) as session:
        assert session.scalar(select(func.count()).select_from(Notification)
                              .where(Notification.state != DELIVERED)) == 0
    every = {**smtp.ledger.accepted, **webhook.ledger.accepted}
    assert len(every) == 8 and set(every.values()) == {1}


def test_a_case_change_rolled_back_tells_nobody(opstore: OpStore, smtp: SmtpReceiver, webhook: HttpReceiver,
                                               tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A listener after the outbox's fails: the case, and the notifications queued with it, are
    rolled back together (the import itself keeps its contacts and says the cases were not opened)."""
    monkeypatch.setenv("RECONTACT_SMTP_URL", smtp.url)
    s = desk_settings(webhook)
    create_store(opstore.db, s, tmp_path)
    service.save_user(opstore.db, "liz", actor="admin", create=True, email="liz@desk.example", in_pool=True)
    before = notifications(opstore)

    def broken(session: Session, notices: Sequence[CaseNotice], settings: Settings,
               identifiers: Callable[[], Mapping[int, Sequence[str]]]) -> None:
        raise RuntimeError("listener failed")

    hooks.register(broken)
    try:
        summary = desk.import_contacts(opstore.db, desk.ImportRequest(
            write_calls(tmp_path / "a.csv", [("4155550100", "ann@example.com")]), source="csv"), s)
    finally:
        hooks.unregister(broken)
    assert any("cases NOT opened" in n and "listener failed" in n for n in summary.notes), summary.notes
    assert notifications(opstore) == before  # the outbox's rows went with the case
    assert not [c for c in service.list_cases(opstore.db, s) if "phone:+14155550100" in c["identifiers"]]


def test_with_no_channel_configured_cases_open_and_nothing_is_queued_or_looked_up(
        opstore: OpStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No e-mail, webhook or gateway: an import opening many cases queues no notification and never
    reads the customers' identifiers for messages (the outbox listener has nothing to say)."""
    for name in ("RECONTACT_SMTP_URL", "RECONTACT_WEBHOOK_URL", "RECONTACT_SMS_GATEWAY_URL"):
        monkeypatch.delenv(name, raising=False)
    s = Settings.model_validate({"rules": [{"name": "r", "min_contacts": 5, "window": "30d"}]})
    create_store(opstore.db, s, tmp_path)
    looked_up: list[Sequence[int]] = []
    real = sync_module.store_identifiers
    monkeypatch.setattr(sync_module, "store_identifiers",
                        lambda store, keys: looked_up.append(keys) or real(store, keys))
    phones = [(f"41555501{i:02d}", "") for i in range(30)]
    desk.import_contacts(opstore.db, desk.ImportRequest(write_calls(tmp_path / "a.csv", phones), source="csv"), s)
    assert looked_up == []
    before = notifications(opstore)  # on PostgreSQL, the server's database is shared with earlier tests
    mine = [c for c in service.list_cases(opstore.db, s) if c["rule"] == "r"]
    assert len(mine) == 30
    assert not [n for n in before if n[0] in {c["case_id"] for c in mine}]
