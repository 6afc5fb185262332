"""Feedback (DESIGN.md, "Concepts": Contact — CSAT score, feedback tags thank-you, feature
request, complaint) from the store, checked against ``tests/reference.py``."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_kpis import approx_rows

import reference
from hypothesis_profiles import examples
from recontact import scorecard
from recontact.config import Settings
from reference import Contact
from store_helpers import import_store, store_keys

T0 = datetime.fromisoformat("2026-03-02T09:00:00+00:00")


@settings(max_examples=examples(40), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(contacts=reference.desk_sets(),
       by=st.sampled_from(((), ("customer",), ("agent",), ("week",), ("customer", "month"), ("agent", "day"))))
def test_feedback_matches_reference(contacts: list[Contact], by: tuple[str, ...]) -> None:
    """CSAT average and distribution and tag counts per customer, agent and period; tags in any
    case, with spaces or underscores, separated by | , or ; ('complaints' is not 'complaint')."""
    config = Settings(timezone="Europe/London")
    with tempfile.TemporaryDirectory() as tmp:
        db = import_store(Path(tmp), contacts, config)
        keys = store_keys(db, contacts)
        got = scorecard.feedback(db, config, by=list(by))
    assert got == approx_rows(reference.feedback_rows(contacts, by, config.timezone, keys))


def test_hand_checked_feedback(tmp_path: Path) -> None:
    contacts = [Contact("a", T0, phone="4155550101", csat=5, tags="Thank You|feature_request"),
                Contact("b", T0, phone="4155550101", csat=4, tags="complaint; other"),
                Contact("c", T0, phone="anonymous", csat=5),
                Contact("d", T0, phone="2125550102", tags="complaints")]
    db = import_store(tmp_path, contacts, Settings())
    (row,) = scorecard.feedback(db, Settings())
    assert row == {"contacts": 4, "rated": 3, "csat_avg": 14 / 3, "csat_distribution": {"4": 1, "5": 2},
                   "tagged": 2, "thank_you": 1, "feature_request": 1, "complaint": 1}
    rows = scorecard.feedback(db, Settings(), by="customer")
    assert [(r["customer_key"], r["contacts"], r["tagged"]) for r in rows] == [("C1", 2, 2), ("C2", 1, 0),
                                                                                 (None, 1, 0)]
