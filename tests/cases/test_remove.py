"""``imports remove`` and cases (issue 23 §4): the cases of customers the removal leaves with no
contact are closed (``customer_gone``, the reason in the audit), the rest follow their keys;
importing the same file again reopens those cases rather than opening new ones for the same people.
On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from cases_support import CasesDb
from recontact import desk, samples
from recontact.cases import service
from recontact.config import Settings


def _cases(db: Path) -> list[dict[str, Any]]:
    return service.list_cases(db, Settings())


def _who(cases: list[dict[str, Any]]) -> Counter[tuple[Any, ...]]:
    """Cases by who the customer is (identifiers), rule, category, opening and episodes."""
    return Counter((tuple(c["identifiers"]), c["rule"], c["category"], c["opened_at"], c["flags"]) for c in cases)


def test_removing_an_import_closes_its_customers_cases_and_importing_it_again_reopens_them(
        cases_db: CasesDb, tmp_path: Path) -> None:
    db, settings = cases_db.db, Settings()
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    samples.write_csv(a, 3_000, seed=1)
    samples.write_csv(b, 3_000, seed=2)
    b.write_text(b.read_text().replace("\nC0", "\nB0"))  # contact ids of its own
    for path in (a, b):
        desk.import_contacts(db, desk.ImportRequest(path, source="csv"), settings)
    before = _cases(db)
    assert before and all(c["state"] == "new" for c in before)

    desk.remove_import(db, settings, 1)
    after = _cases(db)
    gone = [c for c in after if c["resolution_code"] == "customer_gone"]
    assert gone and all(c["state"] == "closed" for c in gone)
    assert len(after) == len(before)
    left = {c["customer_key"] for c in after if c["state"] != "closed"}
    assert left and not left & {c["customer_key"] for c in gone}
    for c in after:  # every case names a customer the store still knows, or is closed as gone
        if c["state"] != "closed":
            assert c["identifiers"], c
    audit = service.audit_trail(db, settings, gone[0]["case_id"])
    assert audit[-1]["after"]["state"] == "closed" and audit[-1]["after"]["resolution_code"] == "customer_gone"
    shown = service.show_case(db, settings, gone[0]["case_id"])
    assert any(e["reason"] and "import 1 was removed" in e["reason"] for e in shown["events"])

    again = desk.import_contacts(db, desk.ImportRequest(a, source="csv"), settings)
    assert any(f"{len(gone)} cases of customers whose contacts came back reopened" in n for n in again.notes), \
        again.notes
    final = _cases(db)
    assert len(final) == len(before)  # no new case for the same people
    assert _who(final) == _who(before)
    assert all(c["state"] == "new" for c in final)
