"""Tests for the synthetic help-desk generator (recontact.samples)."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from recontact import samples
from recontact.samples import CSV_COLUMNS, WITHHELD_IDS, generate_contacts, write_csv

N = 20_000
TRUE = {"true", "yes", "Y", "1"}
FALSE = {"false", "no", "N", "0"}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    return list(generate_contacts(N))


def _withheld(r: dict[str, str]) -> bool:
    return r["channel"] == "phone" and r["direction"] == "inbound" and r["phone"] in WITHHELD_IDS


def _person(r: dict[str, str]) -> str | None:
    """A crude identity key: the 10-digit phone, else the account, else the cleaned e-mail."""
    digits = re.sub(r"\D", "", r["phone"])[-10:]
    if len(digits) == 10 and digits.strip("0"):
        return "p" + digits
    if r["account_id"]:
        return "a" + r["account_id"]
    return "e" + r["email"].strip().lower() if r["email"] else None


def test_columns() -> None:
    assert CSV_COLUMNS == (
        "contact_id", "started_at", "channel", "direction", "phone", "email", "account_id",
        "customer_name", "agent_id", "team", "queue", "category", "ticket_id", "wait_s", "talk_s",
        "hold_s", "wrap_s", "answered", "abandoned", "resolved", "escalated", "truck_roll", "csat", "tags",
    )


def test_write_csv_format_and_roundtrip(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    assert write_csv(path, 3000, seed=3) == 3000
    data = path.read_bytes()
    assert b"\r" not in data and b'"' not in data and data.endswith(b"\n")
    lines = data.decode("utf-8").split("\n")[:-1]
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert len(lines) == 3001
    assert all(line.count(",") == len(CSV_COLUMNS) - 1 for line in lines)
    with path.open(encoding="utf-8", newline="") as f:
        parsed = list(csv.DictReader(f))
    assert parsed == list(generate_contacts(3000, seed=3))


def test_write_csv_empty(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    assert write_csv(path, 0) == 0
    assert path.read_text(encoding="utf-8") == ",".join(CSV_COLUMNS) + "\n"


def test_progress_counts_add_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(samples, "_BATCH", 500)
    calls: list[int] = []
    assert write_csv(tmp_path / "p.csv", 4321, progress=calls.append) == 4321
    assert len(calls) >= 5 and sum(calls) == 4321 and all(c > 0 for c in calls)


def test_deterministic_per_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    write_csv(a, 2000, seed=11)
    write_csv(b, 2000, seed=11)
    write_csv(c, 2000, seed=12)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_values_need_no_quoting(rows: list[dict[str, str]]) -> None:
    assert len(rows) == N
    for r in rows:
        assert list(r) == list(CSV_COLUMNS)
        for v in r.values():
            assert "," not in v and '"' not in v and "\n" not in v and "\r" not in v


def test_contact_ids_unique(rows: list[dict[str, str]]) -> None:
    ids = [r["contact_id"] for r in rows]
    assert len(set(ids)) == N and all(re.fullmatch(r"C\d{8}", i) for i in ids)


def test_started_at_business_hours_and_ordered(rows: list[dict[str, str]]) -> None:
    times = [datetime.fromisoformat(r["started_at"]) for r in rows]
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(hours=-5) for t in times)
    assert all(7 <= t.hour < 21 for t in times)
    assert all(a <= b for a, b in pairwise(times))
    assert sum(t.weekday() < 5 and 8 <= t.hour < 18 for t in times) / N > 0.85
    assert times[0].date().isoformat() == "2026-01-05"
    assert (times[-1] - times[0]).days >= 21  # several weeks by default


def test_dst_offsets_follow_the_zone() -> None:
    zone = ZoneInfo("America/New_York")
    got = list(generate_contacts(3000, start=datetime(2026, 3, 2), days=14))
    offsets = set()
    for r in got:
        t = datetime.fromisoformat(r["started_at"])
        assert t.utcoffset() == t.replace(tzinfo=zone).utcoffset()
        offsets.add(r["started_at"][-6:])
        assert datetime(2026, 3, 2) <= t.replace(tzinfo=None) < datetime(2026, 3, 16)
    assert offsets == {"-05:00", "-04:00"}


def test_heavy_tail(rows: list[dict[str, str]]) -> None:
    counts = sorted(Counter(k for k in map(_person, rows) if k).values(), reverse=True)
    top = counts[: max(1, len(counts) // 100)]
    # A uniform choice over the customers would give the top 1 % about 3-4 % of the contacts.
    assert sum(top) / sum(counts) > 0.08
    assert counts[0] >= 30
    assert sum(c <= 2 for c in counts) / len(counts) > 0.7  # most call once or twice


def test_chronic_bursts(rows: list[dict[str, str]]) -> None:
    seen: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for r in rows:
        k = _person(r)
        if k:
            seen[k].append((datetime.fromisoformat(r["started_at"]), r["category"]))
    chronic = 0
    for contacts in seen.values():
        for i, (t, cat) in enumerate(contacts):
            if sum(c == cat and u - t < timedelta(days=7) for u, c in contacts[i:]) >= 3:
                chronic += 1
                break
    assert 0.005 < chronic / len(seen) < 0.2


def test_withheld_caller_ids_alone(rows: list[dict[str, str]]) -> None:
    withheld = [r for r in rows if _withheld(r)]
    calls = sum(r["channel"] == "phone" and r["direction"] == "inbound" for r in rows)
    assert 0.015 < len(withheld) / calls < 0.05
    assert {r["phone"] for r in withheld} == set(WITHHELD_IDS)
    assert all(not (r["email"] or r["account_id"] or r["customer_name"]) for r in withheld)
    others = [r for r in rows if not _withheld(r)]
    assert all(r["phone"] or r["email"] or r["account_id"] for r in others)


def test_phone_numbers_messy_but_valid(rows: list[dict[str, str]]) -> None:
    shapes: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if r["phone"] and not _withheld(r) and r["phone"] not in samples.SWITCHBOARDS:  # customers' own lines
            digits = re.sub(r"\D", "", r["phone"])[-10:]
            assert re.fullmatch(r"[2-9]\d\d[2-9]\d{6}", digits) and digits[3:6] != "555"
            shapes[digits].add(re.sub(r"\d", "9", r["phone"]))
    assert sum(len(s) >= 3 for s in shapes.values()) >= 20
    assert set().union(*shapes.values()) == {
        "(999) 999-9999", "999-999-9999", "999.999.9999", "+9 999 999 9999", "99999999999",
        "+99999999999", "9999999999",
    }


def test_emails_messy(rows: list[dict[str, str]]) -> None:
    emails = [r["email"] for r in rows if r["email"]]
    assert all(re.fullmatch(r"\s*[a-z]+\.[a-z]+\d+@[a-z.]+\.(com|net|org)\s*", e, re.I) for e in emails)
    assert any(e != e.strip() for e in emails)
    assert any(e.strip() != e.strip().lower() for e in emails)
    assert sum(e == e.lower() for e in emails) / len(emails) > 0.5


def test_channels_and_directions(rows: list[dict[str, str]]) -> None:
    share = {k: v / N for k, v in Counter(r["channel"] for r in rows).items()}
    assert set(share) == {"phone", "email", "chat", "web", "walk-in"}
    assert 0.6 < share["phone"] < 0.7 and 0.12 < share["email"] < 0.18
    out = sum(r["direction"] == "outbound" for r in rows) / N
    assert {r["direction"] for r in rows} == {"inbound", "outbound"} and 0.01 < out < 0.035
    walk_ins = [r for r in rows if r["channel"] == "walk-in"]
    assert all(r["customer_name"] and (r["account_id"] or r["phone"]) for r in walk_ins)


def test_outcomes(rows: list[dict[str, str]]) -> None:
    for col in ("answered", "abandoned", "resolved", "escalated", "truck_roll"):
        assert {r[col] for r in rows} <= TRUE | FALSE
    assert {r["csat"] for r in rows} == {"", "1", "2", "3", "4", "5"}
    calls = [r for r in rows if r["channel"] == "phone" and r["direction"] == "inbound"]
    abandoned = [r for r in calls if r["abandoned"] in TRUE]
    assert 0.03 < len(abandoned) / len(calls) < 0.09
    assert all(r["answered"] in FALSE and r["talk_s"] == "0" and not r["agent_id"] for r in abandoned)
    assert 0.6 < sum(r["resolved"] in TRUE for r in rows) / N < 0.8
    assert 0.04 < sum(r["escalated"] in TRUE for r in rows) / N < 0.12
    assert 0.2 < sum(bool(r["csat"]) for r in rows) / N < 0.4
    assert sum(r["answered"] not in {"true", "false"} for r in rows) > 0  # some yes/Y/1 spellings
    tags = {t for r in rows for t in r["tags"].split("|") if t}
    assert tags == {"thank-you", "feature-request", "complaint"}
    for r in rows:
        for col in ("wait_s", "talk_s", "hold_s", "wrap_s"):
            assert r[col] == "" or r[col].isdigit()
    staffed = [r for r in rows if r["agent_id"]]
    assert all(re.fullmatch(r"A\d{4}", r["agent_id"]) for r in staffed)
    assert all(re.fullmatch(r"team-\d\d", r["team"]) for r in staffed)
    assert {r["queue"] for r in rows} == {"billing", "tech", "general", "sales"}
    assert sum(bool(r["ticket_id"]) for r in rows) / N > 0.8


def test_switchboards_beside_e_mails_are_hubs_and_contacts_count_for_the_e_mail(tmp_path: Path) -> None:
    """The generated desk has shared lines beside e-mails (SWITCHBOARDS): imported, each is a hub
    (more than a handful of people behind it) and each contact on it belongs to its e-mail's owner."""
    from recontact import desk
    from recontact.config import Settings
    from recontact.samples import SWITCHBOARDS
    from recontact.store.contacts import open_store

    csv = tmp_path / "desk.csv"
    write_csv(csv, 8000, seed=1)
    rows = [r for r in generate_contacts(8000, seed=1) if r["phone"] in SWITCHBOARDS]
    assert rows and all(r["email"].strip() for r in rows)
    db = tmp_path / "desk.duckdb"
    desk.import_contacts(db, desk.ImportRequest(csv, source="csv"), Settings())
    with open_store(db, create=False) as store:
        hubs = store.con.execute("SELECT ident, role, people, customer_key FROM identifiers WHERE ident IN "
                                 "('phone:+12125550100', 'phone:+13125550100') ORDER BY ident").fetchall()
        mismatched = store.con.execute("""
            SELECT count(*) FILTER (WHERE c.customer_key IS DISTINCT FROM i.customer_key OR NOT c.shared), count(*)
            FROM contacts c JOIN identifiers i ON i.ident = 'email:' || lower(trim(c.email))
            WHERE c.phone IN ('+12125550100', '+13125550100')""").fetchone()
    assert [(ident, role) for ident, role, _, _ in hubs] == [("phone:+12125550100", "hub"),
                                                             ("phone:+13125550100", "hub")]
    assert all(people > 5 and key is None for _, _, people, key in hubs)
    assert mismatched == (0, len(rows))
