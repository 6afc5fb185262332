"""Cost to serve on real data: the Technion "Anonymous Bank" month (February 1999), checked against
a hand computation straight from the raw file with the default rates (labour 36/h, 0.02 per billed
minute and 0.50 per phone contact): per call ser_time / 3600 * 36 + 0.02 * ceil(ser_time / 60) + 0.50.

Read twice: through the shipped ``anonymous-bank`` profile, and converted here to a canonical CSV the
way that profile reads it (date + vru_entry in Israel time, customer_id 0 and server NO_SERVER
identify no one, PHANTOM calls ignored)."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from pathlib import Path

import pytest

from recontact import desk, economics
from recontact.config import Settings

BANK = Path("anonymous-bank-callcenter") / "data_anonymous_bank_february.txt"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["outcome"] != "PHANTOM"]


def _canonical(rows: list[dict[str, str]], out: Path) -> Path:
    with out.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["contact_id", "started_at", "account_id", "category", "agent_id", "wait_s", "talk_s", "channel",
                    "direction"])
        for r in rows:
            d, (h, rest) = r["date"], r["vru_entry"].split(":", 1)
            w.writerow([f"{d}|{r['vru+line']}|{r['call_id']}", f"19{d[:2]}-{d[2:4]}-{d[4:]} {int(h):02d}:{rest}",
                        "" if r["customer_id"] == "0" else r["customer_id"], r["type"],
                        "" if r["server"] == "NO_SERVER" else r["server"], r["q_time"], r["ser_time"], "phone",
                        "inbound"])
    return out


@pytest.mark.real_data
def test_bank_month_cost_equals_the_hand_computation(shared_data: Path, tmp_path: Path) -> None:
    rows = _rows(shared_data / BANK)
    db = tmp_path / "bank.duckdb"
    summary = desk.import_contacts(db, desk.ImportRequest(_canonical(rows, tmp_path / "bank.csv"), source="csv",
                                                          desk_timezone="Asia/Jerusalem"), Settings())
    assert (summary.read, summary.imported) == (33066, 33066)
    hand: dict[str, float] = defaultdict(float)
    for r in rows:
        s = int(r["ser_time"])
        hand[r["customer_id"]] += s / 3600 * 36.0 + 0.02 * math.ceil(s / 60) + 0.50
    nobody = hand.pop("0")  # customer_id 0: the caller was not identified
    rates, got = economics.cost_to_serve(db, Settings(), "month")
    assert rates["labour_per_hour"] == 36.0 and rates["per_minute"] == {"phone": 0.02}
    assert {r["period"] for r in got} == {"1999-02"}
    assert {r["identifiers"][0]: r["cost"] for r in got} == {f"account:{k}": pytest.approx(v) for k, v in hand.items()}
    # The most expensive customers of the month, as the closing note quotes them.
    assert [(r["identifiers"], r["contacts"], round(r["cost"], 2)) for r in got[:3]] == [
        (["account:7191646"], 170, 801.61), (["account:69687275"], 126, 414.65), (["account:56051360"], 115, 378.43)]
    assert all(r["margin"] == -r["cost"] for r in got)  # no customer directory: revenue 0
    rest = economics.unattributed_cost(db, Settings())
    assert (rest["contacts"], rest["cost"]) == (19502, pytest.approx(nobody))


@pytest.mark.real_data
def test_bank_month_cost_through_the_profile(shared_data: Path, tmp_path: Path) -> None:
    from recontact.importers import profiles
    from recontact.importers.base import ImportOptions

    rows = _rows(shared_data / BANK)
    hand: dict[str, float] = defaultdict(float)
    for r in rows:
        if r["customer_id"] != "0":
            s = int(r["ser_time"])
            hand[r["customer_id"]] += s / 3600 * 36.0 + 0.02 * math.ceil(s / 60) + 0.50
    options, source, system, desk_tz = profiles.with_profile("anonymous-bank", ImportOptions(), frozenset(), None, None)
    db = tmp_path / "bank.duckdb"
    desk.import_contacts(db, desk.ImportRequest(path=shared_data / BANK, source=source, options=options, system=system,
                                                desk_timezone=desk_tz), Settings())
    _, got = economics.cost_to_serve(db, Settings(), "month")
    assert {r["identifiers"][0]: r["cost"] for r in got} == {f"account:{k}": pytest.approx(v) for k, v in hand.items()}
