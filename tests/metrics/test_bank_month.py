"""FCR, repeat drivers and KPIs on the "Anonymous Bank" call centre, February 1999 (Technion):
33,000 calls with waits, talk times, outcomes and agents; 59 % from unidentified callers.

The raw file keeps the date and the time apart; this test writes it as canonical CSV the way the
file's documentation reads it (started_at = date + vru_entry in Asia/Jerusalem, customer_id 0 =
not identified, type = category, q_time = wait, ser_time = talk, outcome AGENT = answered, HANG =
abandoned, PHANTOM = not a call, server NO_SERVER = no agent). The expected figures are computed
here from the raw rows with plain Python, one pass per definition, independent of recontact."""

from __future__ import annotations

import csv
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from statistics import fmean
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from recontact import desk, scorecard
from recontact.config import Settings
from recontact.importers import profiles
from recontact.importers.base import ImportOptions

pytestmark = pytest.mark.real_data
TZ = "Asia/Jerusalem"
W = timedelta(days=7)


def bank_rows(shared_data: Path) -> list[dict[str, Any]]:
    path = shared_data / "anonymous-bank-callcenter" / "data_anonymous_bank_february.txt"
    out = []
    with path.open(encoding="ascii", newline="") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            if r["outcome"].strip() == "PHANTOM":
                continue
            day = datetime.strptime(r["date"].strip(), "%y%m%d")
            h, m, s = (int(x) for x in r["vru_entry"].strip().split(":"))
            out.append({
                "contact_id": f"{r['date'].strip()} {r['vru+line'].strip()} {r['call_id'].strip()}",
                "started_at": day.replace(hour=h, minute=m, second=s, tzinfo=ZoneInfo(TZ)),
                "account_id": None if r["customer_id"].strip() == "0" else r["customer_id"].strip(),
                "category": r["type"].strip(),
                "agent_id": None if r["server"].strip() == "NO_SERVER" else r["server"].strip(),
                "wait_s": float(r["q_time"]), "talk_s": float(r["ser_time"]),
                "answered": r["outcome"].strip() == "AGENT", "abandoned": r["outcome"].strip() == "HANG",
            })
    return out


@pytest.fixture(scope="module")
def bank(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    rows = bank_rows(shared_data)
    tmp = tmp_path_factory.mktemp("bank")
    canonical = tmp / "bank.csv"
    with canonical.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["contact_id", "started_at", "channel", "direction", "account_id", "category", "agent_id",
                    "wait_s", "talk_s", "answered", "abandoned"])
        for r in rows:
            w.writerow([r["contact_id"], r["started_at"].isoformat(), "phone", "inbound", r["account_id"] or "",
                        r["category"], r["agent_id"] or "", r["wait_s"], r["talk_s"], r["answered"],
                        r["abandoned"]])
    db = tmp / "bank.duckdb"
    summary = desk.import_contacts(db, desk.ImportRequest(canonical, source="csv", options=ImportOptions(tz=TZ)),
                                   Settings(timezone=TZ))
    assert (summary.imported, summary.rejected, summary.conflicts) == (len(rows), 0, 0)
    return db, rows


def expected_fcr(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """FCR from the definition, per (customer, category) in time-then-id order, W = 7 days."""
    latest = max(r["started_at"] for r in rows)
    groups: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["account_id"]:
            groups[(r["account_id"], r["category"])].append(r)
    issues = resolved = pending = repeats = 0
    drivers: dict[str, int] = defaultdict(int)
    for (_, category), mine in groups.items():
        mine.sort(key=lambda r: (r["started_at"], r["contact_id"]))
        kinds = ["repeat" if i and r["started_at"] - mine[i - 1]["started_at"] < W else "issue"
                 for i, r in enumerate(mine)]
        for i, r in enumerate(mine):
            if kinds[i] == "repeat":
                repeats += 1
                drivers[category] += 1
                continue
            if r["started_at"] + W > latest:
                pending += 1
                continue
            issues += 1
            followed = i + 1 < len(mine) and kinds[i + 1] == "repeat"
            resolved += not followed
    return {"issues": issues, "resolved_first": resolved, "fcr": resolved / issues, "pending": pending,
            "repeats": repeats, "transfers": 0, "tickets": 0, "tickets_resolved": 0, "tickets_resolved_first": 0,
            "ticket_fcr": None, "fcr_gap": None, "drivers": dict(drivers)}


def test_bank_fcr_and_repeat_drivers(bank: tuple[Path, list[dict[str, Any]]]) -> None:
    db, rows = bank
    config = Settings(timezone=TZ)
    expected = expected_fcr(rows)
    drivers = expected.pop("drivers")
    (got,) = scorecard.fcr(db, config)
    assert got == pytest.approx(expected)
    ranked = scorecard.repeat_drivers(db, config)
    assert {r["category"]: r["repeats"] for r in ranked if r["repeats"]} == drivers
    assert [r["repeats"] for r in ranked] == sorted((r["repeats"] for r in ranked), reverse=True)


def test_bank_kpis(bank: tuple[Path, list[dict[str, Any]]]) -> None:
    db, rows = bank
    (got,) = scorecard.kpis(db, Settings(timezone=TZ))
    answered = [r for r in rows if r["answered"]]
    handled = answered  # every call's answered is known
    assert got == pytest.approx({
        "contacts": len(rows), "inbound": len(rows), "outbound": 0, "offered": len(rows),
        "answered": len(answered), "abandoned": sum(r["abandoned"] for r in rows),
        "abandonment": sum(r["abandoned"] for r in rows) / len(rows),
        "service_level": sum(r["wait_s"] <= 20 for r in answered) / len(rows), "service_level_s": 20.0,
        "asa_s": fmean(r["wait_s"] for r in answered), "handled": len(handled),
        "aht_s": fmean(r["talk_s"] for r in handled), "acw_s": None,
        "escalation_rate": None, "truck_roll_rate": None, "tickets_opened": 0, "tickets_resolved": 0,
        "resolution_median_s": None, "resolution_p90_s": None, "backlog": 0,
    })
    weeks = scorecard.kpis(db, Settings(timezone=TZ), by="week")
    assert sum(w["offered"] for w in weeks) == len(rows)


def test_bank_through_its_mapping_profile_gives_the_same_figures(shared_data: Path, tmp_path: Path,
                                                               bank: tuple[Path, list[dict[str, Any]]]) -> None:
    """``recontact import … --profile anonymous-bank`` reads the file as this test does: the
    reports on both stores are equal."""
    path = shared_data / "anonymous-bank-callcenter" / "data_anonymous_bank_february.txt"
    options, source, system, desk_tz = profiles.with_profile("anonymous-bank", ImportOptions(), frozenset(),
                                                             None, None)
    db = tmp_path / "profile.duckdb"
    desk.import_contacts(db, desk.ImportRequest(path, source=source, options=options, system=system,
                                                desk_timezone=desk_tz), Settings())
    config = Settings(timezone=TZ)
    for report in (scorecard.fcr, scorecard.repeat_drivers, scorecard.kpis):
        assert report(db, config) == report(bank[0], config)
    assert scorecard.fcr(db, config, by="week") == scorecard.fcr(bank[0], config, by="week")
