"""``recontact demo``: the real Anonymous Bank February 1999 log when ../shared/data is there (its
figures counted here from the raw file with the csv module, independent of recontact), else a
synthetic desk, said in one line."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from recontact import demo
from recontact.cli.main import app

runner = CliRunner()


def run_demo(db: Path, *args: str, sample_data: str | None = None) -> Any:
    """``recontact demo --db db *args`` with ``$RECONTACT_SAMPLE_DATA`` set to ``sample_data`` (None:
    unset, so the checkout's ../shared/data is used); the result, its exit code checked."""
    result = runner.invoke(app, ["demo", "--db", str(db), *args], env={demo.SAMPLE_DATA_ENV: sample_data})
    assert result.exit_code == 0, result.output
    return result


def raw_bank_calls(shared_data: Path) -> tuple[list[dict[str, str]], int]:
    """The bank file's rows that are calls (PHANTOM rows left out, as its documentation says), and
    how many PHANTOM rows there were."""
    with (shared_data / demo.BANK_FILE).open(encoding="ascii", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    calls = [r for r in rows if r["outcome"].strip() != "PHANTOM"]
    return calls, len(rows) - len(calls)


def expected_top(calls: list[dict[str, str]], n: int) -> list[tuple[str, int, float]]:
    """(account, calls, handle seconds) of the month's top ``n`` identified callers (customer id 0:
    not identified): most calls first, ties by handle time (service seconds; the file has no hold
    or wrap-up time). The file holds February 1999 only, so one month."""
    count: Counter[str] = Counter()
    handle: Counter[str] = Counter()
    for r in calls:
        who = r["customer_id"].strip()
        if who != "0":
            count[who] += 1
            handle[who] += float(r["ser_time"])
    ranked = sorted(count, key=lambda who: (-count[who], -handle[who]))
    return [(f"account:{who}", count[who], handle[who]) for who in ranked[:n]]


@pytest.mark.real_data
def test_demo_finds_the_bank_file_beside_the_checkout(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(demo.SAMPLE_DATA_ENV, raising=False)
    assert demo.find_bank_file()[0] == shared_data / demo.BANK_FILE


@pytest.mark.real_data
def test_demo_imports_the_real_bank_month(shared_data: Path, tmp_path: Path) -> None:
    calls, phantom = raw_bank_calls(shared_data)
    data = json.loads(run_demo(tmp_path / "demo.duckdb", "-o", "json").stdout)
    assert data["data"] == {"source": "anonymous-bank", "file": str(shared_data / demo.BANK_FILE), "fallback": None}
    assert (len(calls), phantom) == (33_066, 278)
    assert data["import"] == {"read": len(calls) + phantom, "imported": len(calls), "skipped": phantom,
                              "unidentified": sum(r["customer_id"].strip() == "0" for r in calls)}
    top = [(r["identifiers"], r["contacts"], r["handle_s"]) for r in data["top"]]
    assert {r["period"] for r in data["top"]} == {"1999-02"}
    assert top == [([who], n, handle) for who, n, handle in expected_top(calls, demo.TOP_N)]
    assert top[0] == (["account:7191646"], 170, top[0][2])
    assert data["flags"] and all(f["crossed_at"].startswith("1999-02") for f in data["flags"])


@pytest.mark.real_data
def test_demo_table_shows_chronic_callers_top_callers_and_next_steps(shared_data: Path, tmp_path: Path) -> None:
    db = tmp_path / "demo.duckdb"
    out = run_demo(db, sample_data=str(shared_data)).stdout
    assert "Real sample data: the Anonymous Bank call centre, February 1999" in out
    assert "33,066 calls imported" in out and "278 PHANTOM rows skipped" in out
    assert out.index("Chronic callers:") < out.index("Top 10 callers, month 1999-02") < out.index("Next:")
    for command in ("flags --open", "customer C", "fcr", "kpis", "cost", "cases list"):
        assert f"recontact {command}" in out, command
    assert f"--db {db.parent}" in out.replace("\n", "")  # the table wraps at the terminal width


@pytest.mark.real_data
def test_demo_accepts_the_bank_file_itself(shared_data: Path, tmp_path: Path) -> None:
    data = json.loads(run_demo(tmp_path / "demo.duckdb", "-o", "json",
                               sample_data=str(shared_data / demo.BANK_FILE)).stdout)
    assert data["data"]["source"] == "anonymous-bank"


def test_demo_falls_back_to_a_synthetic_desk_and_says_so(tmp_path: Path) -> None:
    empty = tmp_path / "no-data"
    empty.mkdir()
    out = run_demo(tmp_path / "demo.duckdb", "--contacts", "3000", sample_data=str(empty)).stdout
    first = out.splitlines()[0]
    assert first.startswith(f"no real sample data (${demo.SAMPLE_DATA_ENV}={empty}): a synthetic desk of")
    assert "Chronic callers:" in out and "Top 10 callers, month 2026-02" in out and "recontact flags --open" in out
    data = json.loads(run_demo(tmp_path / "demo.duckdb", "--contacts", "3000", "-o", "json",
                               sample_data=str(empty)).stdout)
    assert data["data"]["source"] == "synthetic" and data["import"]["imported"] == 3000
    assert data["top"] and data["flags"]
