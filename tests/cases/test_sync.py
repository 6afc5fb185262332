"""Cases from flag episodes (issue 14 §2): a generated year imported in monthly files opens exactly
the cases the flag episodes predict, and the same cases as importing it at once; ``cases sync``
does the same for a store filled before cases existed; merges keep one open case per customer."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cases_support import CasesDb
from recontact import desk, samples
from recontact.cases import service
from recontact.config import Settings
from reference import Contact, write_csv

NO_AUTO = Settings.model_validate({"cases": {"open_on_import": False}})
#: Every episode of the generated year is recent enough to become a case.
WIDE = Settings.model_validate({"cases": {"open_within": "3650d"}})


@pytest.fixture(scope="module")
def year_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    """A generated year (30,000 contacts over 364 days) as one file and as twelve-odd monthly files."""
    folder = tmp_path_factory.mktemp("year")
    whole = folder / "year.csv"
    samples.write_csv(whole, 30_000, seed=11, days=364)
    with whole.open(encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    at = header.index("started_at")
    months: dict[str, list[list[str]]] = defaultdict(list)
    for r in body:
        months[r[at][:7]].append(r)
    files = []
    for month, part in sorted(months.items()):
        path = folder / f"{month}.csv"
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            w.writerows(part)
        files.append(path)
    return whole, files


def _import(db: Path, path: Path, settings: Settings | None = None) -> Any:
    return desk.import_contacts(db, desk.ImportRequest(path, source="csv"), settings or Settings())


def _by_identity(db: Path, settings: Settings) -> set[tuple[Any, ...]]:
    """Every case, keyed by who the customer is (their identifiers: keys differ between stores)."""
    out = set()
    for c in service.list_cases(db, settings):
        out.add((tuple(c["identifiers"]), c["rule"], c["category"], c["opened_at"], c["state"], c["flags"]))
    return out


def _latest_contact(db: Path) -> datetime:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        latest = con.execute("SELECT max(started_at) FROM contacts").fetchall()[0][0]
    finally:
        con.close()
    assert isinstance(latest, datetime)
    return latest


def _predicted(db: Path, settings: Settings) -> set[tuple[Any, ...]]:
    """What the flag episodes predict when nobody closes a case: one case per customer, rule and
    category holding every episode still open at the latest contact L or crossed after
    L - open_within, opened at the first of them."""
    after = _latest_contact(db) - settings.cases.open_within
    groups: dict[tuple[str, str, str | None], list[datetime]] = defaultdict(list)
    for f in desk.iter_flags(db, settings):
        if f["closed_at"] is None or f["crossed_at"] > after:
            groups[(f["customer_key"], f["rule"], f["category"])].append(f["crossed_at"])
    return {(k, r, c, min(times), len(times)) for (k, r, c), times in groups.items()}


def _actual(db: Path, settings: Settings) -> set[tuple[Any, ...]]:
    return {(c["customer_key"], c["rule"], c["category"], c["opened_at"], c["flags"])
            for c in service.list_cases(db, settings) if c["resolution_code"] != "duplicate"}


def test_year_in_monthly_files_opens_the_cases_the_flags_predict(cases_db: CasesDb,
                                                                  year_files: tuple[Path, list[Path]]) -> None:
    """With an ``open_within`` covering the whole year, every episode becomes work: monthly files
    and the year at once open the same cases."""
    whole, months = year_files
    settings = WIDE
    monthly = cases_db.db
    for path in months:
        _import(monthly, path, settings)
    predicted = _predicted(monthly, settings)
    assert len(predicted) > 100  # the year has chronic callers under both rules
    assert _actual(monthly, settings) == predicted
    assert {c["state"] for c in service.list_cases(monthly, settings)} <= {"new", "closed"}
    by_monthly = {c for c in _by_identity(monthly, settings) if c[4] != "closed"}  # closed: duplicates after merges

    cases_db.use_another()  # the store imported at once gets a cases store of its own
    at_once = monthly.with_name("at-once.duckdb")
    _import(at_once, whole, settings)
    assert _actual(at_once, settings) == _predicted(at_once, settings)
    assert _by_identity(at_once, settings) == by_monthly
    print(f"{cases_db.kind}: {len(by_monthly)} cases monthly and at once "
          f"({len(_by_identity(at_once, settings))} at once)")


def test_a_year_at_once_opens_cases_only_for_open_and_recent_episodes(cases_db: CasesDb,
                                                                      year_files: tuple[Path, list[Path]]) -> None:
    """No flood on backfill (issue 23 §3): of a year imported at once, only the episodes still open
    at the latest contact or crossed in the 30 days before it become cases (counted by brute force
    from the flags); every one of them does; the older ones stay flags."""
    whole, _ = year_files
    settings = Settings()
    db = cases_db.db
    done = _import(db, whole, settings)
    predicted = _predicted(db, settings)
    every = _predicted(db, WIDE)
    assert 10 < len(predicted) < len(every) / 4  # the year's flags are mostly history
    assert _actual(db, settings) == predicted
    assert any("kept as history" in n for n in done.notes), done.notes
    assert len(list(desk.iter_flags(db, settings))) == sum(n for *_, n in every)  # flags keep every episode


def test_sync_since_opens_older_episodes_with_their_notices_held(cases_db: CasesDb,
                                                                 year_files: tuple[Path, list[Path]]) -> None:
    """``cases sync --since DAY`` opens the older episodes on purpose; their notices are held
    unless ``--notify`` (no outbox row for them); running it again opens nothing more."""
    from sqlalchemy import func, select

    from recontact.cases.db import open_engine, session_scope
    from recontact.notify.models import Notification

    whole, _ = year_files
    settings = Settings.model_validate({"notifications": {"webhook_url": "https://chat.example.com/hook"}})
    db = cases_db.db
    _import(db, whole, settings)
    recent = len(service.list_cases(db, settings))

    def queued() -> int:
        with session_scope(open_engine(db)) as session:
            return int(session.scalar(select(func.count()).select_from(Notification)) or 0)

    before = queued()
    assert before > 0  # recent cases are announced
    done = service.sync_cases(db, settings, since=datetime(2000, 1, 1).date())
    assert done["opened"] > 0 and done["held"] == done["opened"]
    assert len(service.list_cases(db, settings)) == recent + done["opened"]
    assert queued() == before  # held: nothing queued for them
    assert service.sync_cases(db, settings, since=datetime(2000, 1, 1).date())["opened"] == 0


def test_sync_opens_the_cases_for_a_store_filled_before_cases(cases_db: CasesDb,
                                                              year_files: tuple[Path, list[Path]]) -> None:
    _, months = year_files
    for path in months[:4]:
        _import(cases_db.db, path, NO_AUTO)
    assert service.list_cases(cases_db.db, Settings()) == []
    first = service.sync_cases(cases_db.db, Settings())
    assert first["opened"] > 0 and first["opened"] == len(service.list_cases(cases_db.db, Settings()))
    again = service.sync_cases(cases_db.db, Settings())
    assert (again["opened"], again["attached"], again["merged"]) == (0, 0, 0)  # idempotent
    assert _actual(cases_db.db, Settings()) == _predicted(cases_db.db, Settings())


T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _calls(start: datetime, n: int, *, phone: str | None = None, email: str | None = None, prefix: str,
           step: timedelta = timedelta(days=1)) -> list[Contact]:
    return [Contact(f"{prefix}{i}", start + i * step, phone=phone, email=email, category=f"cat{i}")
            for i in range(n)]


def test_closing_a_case_then_a_later_episode_opens_a_new_case(cases_db: CasesDb, tmp_path: Path) -> None:
    db, settings = cases_db.db, Settings()
    _import(db, write_csv(tmp_path / "a.csv", _calls(T0, 5, phone="4155550101", prefix="a")))
    (case,) = service.list_cases(db, settings)
    assert (case["rule"], case["state"], case["opened_at"]) == ("repeat-30d", "new", T0 + timedelta(days=4))
    # a second episode while the case is open attaches to it
    _import(db, write_csv(tmp_path / "b.csv", _calls(T0 + timedelta(days=60), 5, phone="4155550101", prefix="b")))
    (case,) = service.list_cases(db, settings)
    assert case["flags"] == 2
    service.transition_case(db, settings, case["case_id"], "closed", actor="ann", resolution_code="root_cause_fixed")
    _import(db, write_csv(tmp_path / "c.csv", _calls(T0 + timedelta(days=120), 5, phone="4155550101", prefix="c")))
    old, new = service.list_cases(db, settings)
    assert (old["state"], old["flags"]) == ("closed", 2)
    assert (new["state"], new["flags"], new["opened_at"]) == ("new", 1, T0 + timedelta(days=124))


def test_merged_customers_keep_one_open_case(cases_db: CasesDb, tmp_path: Path) -> None:
    """Two customers, each with a case, are found to be one: one open case, the other closed into it,
    every episode on the survivor, which opens at the merged customer's first crossing."""
    db, settings = cases_db.db, Settings()
    ann = _calls(T0, 5, phone="4155550101", prefix="p") + _calls(T0 + timedelta(hours=1), 5,
                                                                 email="ann@example.com", prefix="e")
    _import(db, write_csv(tmp_path / "a.csv", ann))
    assert len(service.list_cases(db, settings)) == 2
    link = [Contact("link", T0 + timedelta(days=10), phone="4155550101", email="ann@example.com")]
    _import(db, write_csv(tmp_path / "b.csv", link))
    cases = service.list_cases(db, settings)
    live = [c for c in cases if c["state"] != "closed"]
    assert len(live) == 1 and len(cases) == 2
    merged = next(c for c in cases if c["state"] == "closed")
    assert merged["resolution_code"] == "duplicate"
    assert _actual(db, settings) == _predicted(db, settings)
    open_ones = {c for c in _by_identity(db, settings) if c[4] != "closed"}
    # the same contacts at once give the same open case
    cases_db.use_another()
    once = db.with_name("once.duckdb")
    _import(once, write_csv(tmp_path / "all.csv", ann + link))
    assert _by_identity(once, settings) == open_ones


def test_removing_an_import_leaves_its_episodes_on_the_case_not_live(cases_db: CasesDb, tmp_path: Path) -> None:
    db, settings = cases_db.db, Settings()
    _import(db, write_csv(tmp_path / "a.csv", _calls(T0, 5, phone="4155550101", prefix="a")))
    second = _import(db, write_csv(tmp_path / "b.csv", _calls(T0 + timedelta(days=60), 5, phone="4155550101",
                                                              prefix="b")))
    (case,) = service.list_cases(db, settings)
    assert case["flags"] == 2
    desk.remove_import(db, settings, second.import_id)
    (case,) = service.list_cases(db, settings)
    assert case["flags"] == 1
    shown = service.show_case(db, settings, case["case_id"])
    assert [f["live"] for f in shown["case_flags"]] == [True, False]


def test_a_new_store_puts_an_old_cases_file_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recontact.cases.db import DATABASE_URL_ENV, forget_engines, sqlite_path
    from recontact.store.contacts import remove_store

    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)
    db = tmp_path / "s.duckdb"
    try:
        service.save_user(db, "liz", actor="admin", create=True)  # users before the first import stay
        _import(db, write_csv(tmp_path / "a.csv", _calls(T0, 5, phone="4155550101", prefix="a")))
        assert [u["username"] for u in service.list_users(db)] == ["liz"]
        assert len(service.list_cases(db, Settings())) == 1
        remove_store(db)  # the user deletes the store and starts again with other data
        summary = _import(db, write_csv(tmp_path / "b.csv", _calls(T0, 2, phone="4155550199", prefix="b")))
        assert any("kept as" in n for n in summary.notes), summary.notes
        assert service.list_cases(db, Settings()) == []
        assert sqlite_path(db).exists() and len(list(tmp_path.glob("s.cases.sqlite.old-*"))) == 1
    finally:
        forget_engines()
