"""``recontact cases …`` end to end (issue 14 done-when): a case goes new -> closed from the CLI
with its audit trail, and a later episode then opens a new case; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from cases_support import CasesDb
from recontact.cli.main import app
from reference import Contact, write_csv

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run(*args: str, ok: bool = True) -> str:
    result = runner.invoke(app, list(args))
    if ok:
        assert result.exit_code == 0, (result.output, result.stderr, result.exception)
    return result.stdout if ok else result.stderr


def calls(start: datetime, n: int, prefix: str, phone: str = "4155550101", agent: str | None = None) -> list[Contact]:
    return [Contact(f"{prefix}{i}", start + timedelta(days=i), phone=phone) for i in range(n)]


def test_a_case_from_new_to_closed_then_a_new_episode_opens_a_new_case(cases_db: CasesDb, tmp_path: Path) -> None:
    db = str(cases_db.db)
    run("import", str(write_csv(tmp_path / "jan.csv", calls(T0, 5, "a"))), "--db", db, "--source", "csv")
    (case,) = json.loads(run("cases", "list", "--db", db, "-o", "json"))
    assert set(case) >= {"case_id", "customer_key", "identifiers", "rule", "category", "opened_at", "state", "owner",
                         "due_at"}
    assert (case["rule"], case["state"], case["owner"], case["identifiers"]) == (
        "repeat-30d", "new", None, ["phone:+14155550101"])
    assert case["opened_at"] == (T0 + timedelta(days=4)).isoformat()
    cid = str(case["case_id"])
    run("cases", "users", "add", "ann", "--role", "liaison", "--email", "ann@example.com", "--db", db, "--as", "root")
    run("cases", "assign", cid, "ann", "--db", db, "--as", "sup", "--reason", "white glove")
    err = run("cases", "transition", cid, "resolved", "--db", db, "--as", "ann", ok=False)
    assert err.startswith("error:") and "resolution code" in err and "Traceback" not in err
    run("cases", "transition", cid, "contacted", "--db", db, "--as", "ann", "--reason", "rang back")
    run("cases", "outreach", cid, "phone", "reached", "--detail", "modem flaps", "--db", db, "--as", "ann")
    run("cases", "note", cid, "replacing the modem", "--db", db, "--as", "ann")
    run("cases", "escalate", cid, "manager", "--reason", "approve a new modem", "--db", db, "--as", "ann")
    run("cases", "transition", cid, "in_progress", "--db", db, "--as", "ann")
    err = run("cases", "transition", cid, "new", "--db", db, "--as", "ann", ok=False)
    assert "cannot go from in_progress to new" in err
    run("cases", "transition", cid, "resolved", "--code", "equipment_replaced", "--db", db, "--as", "ann")
    closed = json.loads(run("cases", "transition", cid, "closed", "--db", db, "--as", "ann", "-o", "json"))
    assert (closed["state"], closed["resolution_code"], closed["due_at"]) == ("closed", "equipment_replaced", None)

    audit = json.loads(run("cases", "audit", cid, "--db", db, "-o", "json"))
    assert [(a["actor"], a["action"]) for a in audit] == [
        ("system", "opened"), ("sup", "assigned"), ("ann", "transition"), ("ann", "outreach"), ("ann", "note"),
        ("ann", "escalated"), ("ann", "transition"), ("ann", "transition"), ("ann", "transition")]
    assert [a["after"].get("state") for a in audit if a["action"] == "transition"] == [
        "contacted", "in_progress", "resolved", "closed"]
    assert audit[1]["before"] == {"owner": None} and audit[1]["after"] == {"owner": "ann"}

    shown = json.loads(run("cases", "show", cid, "--db", db, "-o", "json"))
    assert len(shown["contacts"]) == 5 and len(shown["customer_flags"]) == 1
    assert [e["kind"] for e in shown["events"]][:2] == ["opened", "assigned"]
    assert [n["text"] for n in shown["notes"]] == ["replacing the modem"]
    assert [(o["channel"], o["outcome"]) for o in shown["outreach"]] == [("phone", "reached")]
    whats = [t["what"] for t in shown["timeline"]]
    assert whats.count("contact") == 5 and "flag" in whats and "note" in whats

    run("import", str(write_csv(tmp_path / "may.csv", calls(T0 + timedelta(days=90), 5, "b"))), "--db", db,
        "--source", "csv")
    cases = json.loads(run("cases", "list", "--db", db, "-o", "json"))
    assert [(c["state"], c["opened_at"]) for c in cases] == [
        ("closed", (T0 + timedelta(days=4)).isoformat()), ("new", (T0 + timedelta(days=94)).isoformat())]
    assert json.loads(run("cases", "list", "--state", "new", "--db", db, "-o", "json"))[0]["case_id"] != case["case_id"]
    assert json.loads(run("cases", "list", "--owner", "ann", "--db", db, "-o", "json"))[0]["state"] == "closed"


def test_overdue_and_reopen(cases_db: CasesDb, tmp_path: Path) -> None:
    from recontact.cases import service
    from recontact.config import Settings

    db = str(cases_db.db)
    run("import", str(write_csv(tmp_path / "a.csv", calls(T0, 5, "a"))), "--db", db, "--source", "csv")
    assert json.loads(run("cases", "list", "--overdue", "--db", db, "-o", "json")) == []  # due in a day
    settings = Settings()
    (case,) = service.list_cases(cases_db.db, settings)
    later = case["due_at"] + timedelta(seconds=1)
    (late,) = service.list_cases(cases_db.db, settings, overdue=True, now=later)
    assert late["overdue"] is True and late["case_id"] == case["case_id"]
    cid = str(late["case_id"])
    run("cases", "transition", cid, "closed", "--code", "customer_unreachable", "--db", db)
    assert service.list_cases(cases_db.db, settings, overdue=True, now=later) == []
    err = run("cases", "transition", cid, "in_progress", "--db", db, ok=False)
    assert "needs a reason" in err
    row = json.loads(run("cases", "transition", cid, "in_progress", "--reason", "called again", "--db", db,
                         "-o", "json"))
    assert (row["state"], row["resolution_code"]) == ("in_progress", None)
    err = run("cases", "show", "999", "--db", db, ok=False)
    assert err.startswith("error: no case 999")


def test_open_top_opens_cases_for_the_weeks_top_callers_without_one(cases_db: CasesDb, tmp_path: Path) -> None:
    db = str(cases_db.db)
    config = tmp_path / "recontact.toml"
    config.write_text('[[rules]]\nname = "r"\nmin_contacts = 4\nwindow = "7d"\n', encoding="utf-8")
    contacts = (calls(T0, 4, "a", phone="4155550101") + calls(T0, 3, "b", phone="4155550102")
                + calls(T0, 2, "c", phone="4155550103") + calls(T0, 1, "d", phone="4155550104"))
    run("import", str(write_csv(tmp_path / "a.csv", contacts)), "--db", db, "--source", "csv", "--config", str(config))
    (flagged,) = json.loads(run("cases", "list", "--db", db, "--config", str(config), "-o", "json"))
    out = json.loads(run("cases", "open-top", "--period", "week", "--n", "3", "--db", db, "--config", str(config),
                         "-o", "json"))
    assert out["period"] == "2026-W10"
    assert [(o["rank"], o["contacts"]) for o in out["opened"]] == [(2, 3), (3, 2)]
    assert [(s["rank"], s["why"], s["case_id"]) for s in out["skipped"]] == [(1, "has an open case",
                                                                                flagged["case_id"])]
    again = json.loads(run("cases", "open-top", "--period", "week", "--n", "3", "--db", db, "--config", str(config),
                           "-o", "json"))
    assert again["opened"] == [] and len(again["skipped"]) == 3
    cases = json.loads(run("cases", "list", "--db", db, "--config", str(config), "-o", "json"))
    top = [c for c in cases if c["source"] == "top"]
    by_key = {c["customer_key"]: c for c in top}
    assert {(c["rule"], c["category"]) for c in top} == {("top-week", "2026-W10")}
    assert set(by_key) == {o["customer_key"] for o in out["opened"]}
    second = out["opened"][0]["customer_key"]  # 3 calls, the latest at T0 + 2 days
    assert by_key[second]["opened_at"] == (T0 + timedelta(days=2)).isoformat()


def test_cases_route_owns_every_open_case_opened_before_any_user(cases_db: CasesDb, tmp_path: Path) -> None:
    """Issue 24 §6: cases opened before any user existed stay unassigned until ``cases route`` (or
    ``cases sync --as``) routes them; a pool of one then owns every open case."""
    db = str(cases_db.db)
    rows = calls(T0, 5, "a") + calls(T0, 5, "b", phone="4155550102") + calls(T0, 5, "c", phone="4155550103")
    run("import", str(write_csv(tmp_path / "jan.csv", rows)), "--db", db, "--source", "csv")
    cases = json.loads(run("cases", "list", "--db", db, "-o", "json"))
    assert len(cases) == 3 and {c["owner"] for c in cases} == {None}
    run("cases", "users", "add", "liz", "--role", "liaison", "--pool", "--db", db, "--as", "root")
    done = json.loads(run("cases", "route", "--db", db, "--as", "root", "-o", "json"))
    assert done == {"routed": 3, "unrouted": 0}
    assert {c["owner"] for c in json.loads(run("cases", "list", "--db", db, "-o", "json"))} == {"liz"}
    audit = json.loads(run("cases", "audit", str(cases[0]["case_id"]), "--db", db, "-o", "json"))
    assert (audit[-1]["actor"], audit[-1]["action"], audit[-1]["after"]) == ("root", "assigned", {"owner": "liz"})
    again = json.loads(run("cases", "sync", "--db", db, "--as", "root", "-o", "json"))
    assert again["routed"] == 0 and again["opened"] == 0
