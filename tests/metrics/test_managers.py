"""Manager report (docs/metrics.md, "Manager report") against the brute-force reference: each
manager's direct reports' inbound contacts, handle time and resolution, the robust (MAD) score
among peers and the outlier mark; aggregates only unless the config allows individual rows."""

from __future__ import annotations

import csv
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference
from hypothesis_profiles import examples
from recontact import directory, managers
from recontact.config import ManagerSettings, PrivacySettings, Settings
from reference import Contact
from store_helpers import import_store


def _employees_csv(path: Path, staff: list[tuple[str, str | None]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["employee_id", "name", "email", "manager"])
        for emp, boss in staff:
            w.writerow([emp, emp.title(), f"{emp.lower()}@corp.example.com", boss or ""])
    return path


@st.composite
def desks(draw: st.DrawFn) -> tuple[list[tuple[str, str | None]], list[Contact]]:
    n = draw(st.integers(2, 9))
    staff = [("M1", None), ("M2", "M1")]
    staff += [(f"E{i}", draw(st.sampled_from(("M1", "M2")))) for i in range(n)]
    base = datetime(2026, 3, 2, 8, tzinfo=UTC)
    contacts = []
    for emp, _ in staff:
        for k in range(draw(st.sampled_from((0, 1, 2, 2, 3, 3, 3, 12, 40)))):
            contacts.append(Contact(
                f"{emp}-{k}", base + timedelta(hours=len(contacts)), email=f"{emp.lower()}@corp.example.com",
                direction=draw(st.sampled_from(("inbound", "inbound", "outbound"))),
                category=draw(st.sampled_from(("vpn", "printer", None))),
                resolved=draw(st.sampled_from((True, False, None))), talk_s=draw(st.sampled_from((None, 60.0, 300.0)))))
    return staff, contacts


@settings(max_examples=examples(20), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(desk=desks(), threshold=st.sampled_from((1.0, 3.5)))
def test_manager_report_matches_reference(desk: Any, threshold: float) -> None:
    staff, contacts = desk
    config = Settings(privacy=PrivacySettings(individual_employee_rows=True),
                      managers=ManagerSettings(outlier_score=threshold))
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts or [Contact("x", datetime(2026, 3, 1, tzinfo=UTC), phone="4155550101")],
                          config)
        directory.import_directory(db, "employees", _employees_csv(Path(tmp) / "e.csv", staff), config)
        got = managers.manager_report(db, config)
        private = managers.manager_report(db, Settings(managers=ManagerSettings(outlier_score=threshold)))
    inbound = [c for c in contacts if c.direction == "inbound"]
    count = {e: sum(1 for c in inbound if c.contact_id.startswith(f"{e}-")) for e, _ in staff}
    bosses = list(dict.fromkeys(b for _, b in staff if b))
    assert [r["manager"] for r in got] == bosses
    for r in got:
        team = [e for e, b in staff if b == r["manager"]]
        scores = dict(zip(team, reference.robust_scores([float(count[e]) for e in team]), strict=True))
        mine = [c for c in inbound if c.contact_id.split("-")[0] in team]
        assert (r["reports"], r["contacts"]) == (len(team), len(mine))
        assert r["handle_s"] == sum(c.handle_s for c in mine)
        assert (r["resolved"], r["unresolved"], r["resolution_unknown"]) == (
            sum(c.resolved is True for c in mine), sum(c.resolved is False for c in mine),
            sum(c.resolved is None for c in mine))
        assert {(x["category"], x["contacts"]) for x in r["categories"]} == {
            (cat, sum(c.category == cat for c in mine)) for cat in {c.category for c in mine}}
        assert [e["employee_id"] for e in r["employees"]] == team
        for e in r["employees"]:
            assert e["contacts"] == count[e["employee_id"]]
            assert e["score"] == pytest.approx(scores[e["employee_id"]], abs=1e-9)
            assert e["outlier"] == (scores[e["employee_id"]] > threshold)
        assert r["outliers"] == sum(s > threshold for s in scores.values())
        assert r["outlier_score"] == threshold and "MAD" in r["method"]
    assert all("employees" not in r for r in private)
    assert [{k: v for k, v in r.items() if k != "employees"} for r in got] == private


def test_tree_and_one_manager(tmp_path: Path) -> None:
    staff = [("M1", None), ("M2", "M1"), ("E1", "M2"), ("E2", "M2"), ("E3", "M1")]
    contacts = [Contact(f"{e}-{k}", datetime(2026, 3, 2, 8 + k, tzinfo=UTC), email=f"{e.lower()}@corp.example.com")
                for e, n in (("E1", 2), ("E2", 1), ("E3", 4), ("M2", 1)) for k in range(n)]
    db = import_store(tmp_path, contacts, Settings())
    directory.import_directory(db, "employees", _employees_csv(tmp_path / "e.csv", staff), Settings())
    tree = managers.manager_report(db, Settings(), tree=True)
    assert [(r["manager"], r["depth"], r["reports"], r["contacts"]) for r in tree] == [
        ("M1", 0, 4, 8), ("M2", 1, 2, 3)]
    one = managers.manager_report(db, Settings(), manager="M2")
    assert [(r["manager"], r["reports"], r["contacts"]) for r in one] == [("M2", 2, 3)]
    with pytest.raises(managers.UnknownManagerError, match="no employee has manager 'E9'"):
        managers.manager_report(db, Settings(), manager="E9")
