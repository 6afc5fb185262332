"""Property: however the contacts arrive — in one import or in several, in any order — the open
cases are exactly what the flag episodes of the brute-force reference predict when nobody closes a
case: one per customer, rule and category, opened at its first crossing (DESIGN.md, "Case": a case
spans every flag of its customer and rule while it is open). Customers merge along the way when a
later record links a phone and an e-mail seen apart before."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import reference
from recontact import desk
from recontact.cases import db as cases_db
from recontact.cases import service
from recontact.cases import sync as cases_sync
from recontact.config import Settings
from recontact.rules.spec import DEFAULT_RULES
from reference import Contact


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(contacts=st.one_of(reference.contact_sets(max_size=24), reference.burst_sets(max_bursts=4)),
       batches=st.integers(1, 3), data=st.data())
def test_cases_in_batches_match_the_reference(contacts: list[Contact], batches: int, data: st.DataObject,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(cases_db.DATABASE_URL_ENV, raising=False)
    # The episodes of the customers an import touched: joined to their keys, or (many customers)
    # everyone's filtered afterwards.
    monkeypatch.setattr(cases_sync, "_WHOLESALE", data.draw(st.sampled_from([0, 10_000])))
    monkeypatch.setattr(cases_sync, "_OPEN_SLICE", data.draw(st.sampled_from([1, 2, 10_000])))  # cases opened per slice
    # Every episode is current enough to become work (an open_within wider than the generated
    # span): which episodes are current depends on when each batch was imported.
    config = Settings(rules=DEFAULT_RULES, cases={"open_within": "36500d"})
    which = [data.draw(st.integers(0, batches - 1)) for _ in contacts]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "s.duckdb"
        try:
            for b in range(batches):
                part = [c for c, w in zip(contacts, which, strict=True) if w == b]
                if part:
                    path = reference.write_csv(Path(tmp) / f"{b}.csv", part)
                    desk.import_contacts(db, desk.ImportRequest(path, source="csv"), config)
            expected: dict[tuple[frozenset[str], str, str | None], object] = {}
            for f in reference.flags(contacts, DEFAULT_RULES):
                key = (f.customer, f.rule, f.category)
                expected[key] = min(expected.get(key, f.crossed_at), f.crossed_at)  # type: ignore[call-overload]
            got = {(frozenset(c["identifiers"]), c["rule"], c["category"]): c["opened_at"]
                   for c in service.list_cases(db, config) if c["state"] != "closed"} if db.exists() else {}
            assert got == expected
            event(f"open cases: {min(len(got), 3)}{'+' if len(got) > 3 else ''}")
            if db.exists():
                assert all(c["resolution_code"] == "duplicate" for c in service.list_cases(db, config)
                           if c["state"] == "closed")
        finally:
            cases_db.forget_engines()
