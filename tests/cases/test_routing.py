"""Routing (issue 14 §4) and the case-notice hook: last agent, supervisor, account manager (no
directory yet: said why), liaison pool round robin within capacity; listeners run inside the
transaction that opens the case. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from cases_support import CasesDb
from recontact import desk
from recontact.cases import hooks, service
from recontact.cases.db import open_engine, session_scope
from recontact.cases.hooks import CaseNotice
from recontact.cases.models import CaseEvent, Note
from recontact.config import Settings

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def write_calls(path: Path, customers: list[tuple[str, str]], n: int = 5) -> Path:
    """``n`` daily inbound calls by each (phone, agent) customer, customers a minute apart."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["contact_id", "started_at", "direction", "channel", "phone", "agent_id"])
        for j, (phone, agent) in enumerate(customers):
            for i in range(n):
                w.writerow([f"{phone}-{i}", (T0 + timedelta(days=i, minutes=j)).isoformat(), "inbound", "phone",
                            phone, agent])
    return path


def settings(**routing: object) -> Settings:
    return Settings.model_validate({"routing": routing, "rules": [{"name": "r", "min_contacts": 5, "window": "30d"}]})


def phones(n: int) -> list[str]:
    return [f"41555501{i:02d}" for i in range(n)]


def test_pool_round_robin_within_capacity(cases_db: CasesDb, tmp_path: Path) -> None:
    s = settings(order=["pool"])
    db = cases_db.db
    service.save_user(db, "p1", actor="admin", create=True, in_pool=True, capacity=1)
    service.save_user(db, "p2", actor="admin", create=True, in_pool=True, capacity=2)
    service.save_user(db, "p3", actor="admin", create=True, in_pool=True, capacity=1)
    service.save_user(db, "off", actor="admin", create=True, in_pool=True, active=False)
    desk.import_contacts(db, desk.ImportRequest(write_calls(tmp_path / "a.csv", [(p, "") for p in phones(5)]),
                                                source="csv"), s)
    owners = [c["owner"] for c in service.list_cases(db, s)]
    assert owners == ["p1", "p2", "p3", "p2", None]  # p1 and p3 full after one, p2 after two; then nobody
    with session_scope(open_engine(db)) as session:
        opened = session.scalars(select(CaseEvent).where(CaseEvent.kind == "opened").order_by(CaseEvent.id)).all()
        assert opened[-1].data["not_routed"] == ["pool: no active pool member under capacity"]
    # closing p1's case frees room: the next case goes round to p1 again (after p2, who got the last one)
    first = service.list_cases(db, s)[0]
    service.transition_case(db, s, first["case_id"], "closed", actor="p1", resolution_code="root_cause_fixed")
    desk.import_contacts(db, desk.ImportRequest(write_calls(tmp_path / "b.csv", [("4155559999", "")]),
                                                source="csv"), s)
    assert max(service.list_cases(db, s), key=lambda c: c["case_id"])["owner"] == "p1"


def test_last_agent_then_supervisor_then_account_manager(cases_db: CasesDb, tmp_path: Path) -> None:
    db = cases_db.db
    service.save_user(db, "boss", actor="admin", create=True, role="supervisor")
    service.save_user(db, "amy", actor="admin", create=True, role="agent", agent_id="A7", supervisor="boss")
    a, b, c = phones(3)
    path = write_calls(tmp_path / "a.csv", [(a, "A7"), (b, "A9"), (c, "")])
    s = settings(order=["last_agent", "account_manager"])
    desk.import_contacts(db, desk.ImportRequest(path, source="csv"), s)
    rows = service.list_cases(db, s)
    assert [r["owner"] for r in rows] == ["amy", None, None]
    shown = service.show_case(db, s, rows[1]["case_id"])
    assert shown["events"][0]["data"]["not_routed"] == [
        "last_agent: agent A9 is not an active user",
        "account_manager: no customer directory in the store (account managers unknown)"]
    cases_db.use_another()
    other = db.with_name("other.duckdb")
    s = settings(order=["supervisor"])
    desk.import_contacts(other, desk.ImportRequest(path, source="csv"), s)
    assert [r["owner"] for r in service.list_cases(other, s)] == [None, None, None]  # a new cases store: no users
    service.save_user(other, "boss", actor="admin", create=True, role="supervisor")
    service.save_user(other, "amy", actor="admin", create=True, role="agent", agent_id="A7", supervisor="boss")
    more = write_calls(tmp_path / "b.csv", [("4155558888", "A7")])
    desk.import_contacts(other, desk.ImportRequest(more, source="csv"), s)
    assert max(service.list_cases(other, s), key=lambda c: c["case_id"])["owner"] == "boss"


def test_priority_orders_by_contacts_and_recency(cases_db: CasesDb, tmp_path: Path) -> None:
    s = settings()
    desk.import_contacts(cases_db.db, desk.ImportRequest(write_calls(tmp_path / "a.csv", [(phones(1)[0], "")]),
                                                         source="csv"), s)
    (case,) = service.list_cases(cases_db.db, s)
    assert case["priority"] == pytest.approx(1.0 + 1.0)  # 5 contacts / threshold 5, latest contact is the store's


@pytest.fixture
def listened() -> Iterator[list[CaseNotice]]:
    heard: list[CaseNotice] = []

    def listener(session: Session, notices: Sequence[CaseNotice], settings: Settings,
                 identifiers: Callable[[], Mapping[int, Sequence[str]]]) -> None:
        assert settings.routing.order == ("pool",)
        for notice in notices:
            assert tuple(identifiers()[notice.customer_key]) == ("phone:+14155550100",)
            heard.append(notice)
            session.add(Note(case_id=notice.case_id, at=notice.at, author="outbox", text=f"told {notice.owner}"))

    hooks.register(listener)
    yield heard
    hooks.unregister(listener)


def test_listeners_write_in_the_same_transaction(cases_db: CasesDb, tmp_path: Path,
                                                 listened: list[CaseNotice]) -> None:
    s = settings(order=["pool"])
    service.save_user(cases_db.db, "liz", actor="admin", create=True, in_pool=True)
    desk.import_contacts(cases_db.db, desk.ImportRequest(write_calls(tmp_path / "a.csv", [(phones(1)[0], "")]),
                                                         source="csv"), s)
    assert [(n.kind, n.owner) for n in listened] == [("opened", "liz"), ("assigned", "liz")]
    (case,) = service.list_cases(cases_db.db, s)
    assert [n["text"] for n in service.show_case(cases_db.db, s, case["case_id"])["notes"]] == ["told liz"] * 2
    service.assign_case(cases_db.db, s, case["case_id"], None, actor="sup")
    assert (listened[-1].kind, listened[-1].previous_owner, listened[-1].owner) == ("assigned", "liz", None)


def test_a_failing_listener_rolls_the_cases_back(cases_db: CasesDb, tmp_path: Path) -> None:
    def broken(session: Session, notices: Sequence[CaseNotice], settings: Settings,
               identifiers: Callable[[], Mapping[int, Sequence[str]]]) -> None:
        raise RuntimeError("outbox down")

    hooks.register(broken)
    try:
        s = settings()
        summary = desk.import_contacts(cases_db.db, desk.ImportRequest(
            write_calls(tmp_path / "a.csv", [(phones(1)[0], "")]), source="csv"), s)
        assert summary.imported == 5
        assert any(n.startswith("cases NOT opened (outbox down)") for n in summary.notes), summary.notes
    finally:
        hooks.unregister(broken)
    assert service.list_cases(cases_db.db, s) == []
    assert service.sync_cases(cases_db.db, s)["opened"] == 1  # the import is in; sync catches up


def test_directories_name_the_supervisor_the_account_manager_and_the_value(cases_db: CasesDb, tmp_path: Path) -> None:
    """With the store's agent and customer directories (recontact directory import): the agent's
    supervisor and the customer's account manager are users found by name, agent id or e-mail; the
    monthly revenue adds to the priority."""
    from recontact.directory import import_directory

    db = cases_db.db
    a, b = phones(2)
    path = write_calls(tmp_path / "a.csv", [(a, "A9"), (b, "A8")])
    s = settings(order=["supervisor", "account_manager"])
    seed = write_calls(tmp_path / "seed.csv", [("4155557777", "")], n=1)  # a store to hold the directories
    desk.import_contacts(db, desk.ImportRequest(seed, source="csv"), s)
    (tmp_path / "agents.csv").write_text("agent_id,name,supervisor\nA9,Nine,Boss@Example.com\n", encoding="utf-8")
    (tmp_path / "customers.csv").write_text(f"phone,name,account_manager,monthly_revenue\n{b},Bee,kim,250\n",
                                            encoding="utf-8")
    import_directory(db, "agents", tmp_path / "agents.csv", s)
    import_directory(db, "customers", tmp_path / "customers.csv", s)
    service.save_user(db, "boss", actor="admin", create=True, role="supervisor", email="boss@example.com")
    service.save_user(db, "kim", actor="admin", create=True, role="manager")
    desk.import_contacts(db, desk.ImportRequest(path, source="csv"), s)
    by_owner = {c["owner"]: c for c in service.list_cases(db, s)}
    assert set(by_owner) == {"boss", "kim"}
    assert by_owner["kim"]["priority"] == pytest.approx(1.0 + 2.5 + 1.0)  # contacts + 250/100 + recency
    assert by_owner["boss"]["priority"] == pytest.approx(2.0)
