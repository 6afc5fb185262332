"""``recontact fcr`` / ``repeat-drivers`` and ``--chart`` through the CLI: shapes, forms, files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from test_startup import _heavy_modules_loaded
from typer.testing import CliRunner

from recontact import scorecard
from recontact.cli import scorecard_commands
from recontact.cli.main import app

runner = CliRunner()
FCR_KEYS = {"issues", "resolved_first", "fcr", "pending", "repeats", "transfers", "tickets", "tickets_resolved",
            "tickets_resolved_first", "ticket_fcr", "fcr_gap"}


def run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_by_choices_are_the_library_s() -> None:
    assert scorecard_commands.BY_CHOICES == scorecard.BY_CHOICES


@pytest.mark.parametrize("command", ["fcr", "repeat-drivers"])
def test_help_loads_no_engine(command: str) -> None:
    assert _heavy_modules_loaded(command, "--help") == []


def test_fcr_json_one_row_without_by(desk_db: Path) -> None:
    (row,) = json.loads(run("fcr", "--db", str(desk_db), "-o", "json"))
    assert set(row) == FCR_KEYS
    assert row["issues"] > 0 and 0 <= row["fcr"] <= 1
    assert row["fcr"] == pytest.approx(row["resolved_first"] / row["issues"])


@pytest.mark.parametrize(("by", "key"), [("week", "period"), ("month", "period"), ("day", "period"),
                                         ("agent", "agent"), ("channel", "channel"), ("category", "category")])
def test_fcr_by_adds_its_key_and_sums_to_the_whole(desk_db: Path, by: str, key: str) -> None:
    (whole,) = json.loads(run("fcr", "--db", str(desk_db), "-o", "json"))
    rows = json.loads(run("fcr", "--db", str(desk_db), "--by", by, "-o", "json"))
    assert all(set(r) == FCR_KEYS | {key} for r in rows)
    for name in ("issues", "resolved_first", "pending", "repeats"):
        assert sum(r[name] for r in rows) == whole[name]
    assert all(r["fcr"] is None if r["issues"] == 0 else r["fcr"] == r["resolved_first"] / r["issues"]
               for r in rows)


def test_fcr_csv_and_table(desk_db: Path) -> None:
    rows = list(csv.DictReader(io.StringIO(run("fcr", "--db", str(desk_db), "--by", "week", "-o", "csv"))))
    assert rows and set(rows[0]) == FCR_KEYS | {"period"}
    assert "%" in run("fcr", "--db", str(desk_db), "--by", "week")


def test_fcr_from_to_narrows_the_days(desk_db: Path) -> None:
    days = json.loads(run("fcr", "--db", str(desk_db), "--by", "day", "-o", "json"))
    first, second = days[0]["period"], days[1]["period"]
    got = json.loads(run("fcr", "--db", str(desk_db), "--by", "day", "--from", first, "--to", second, "-o",
                         "json"))
    assert got == days[:2]


def test_unknown_by_is_a_usage_error(desk_db: Path) -> None:
    result = runner.invoke(app, ["fcr", "--db", str(desk_db), "--by", "shoe"])
    assert result.exit_code == 2 and "--by" in result.output


def test_repeat_drivers_json(desk_db: Path) -> None:
    rows = json.loads(run("repeat-drivers", "--db", str(desk_db), "-o", "json"))
    assert [r["rank"] for r in rows] == list(range(1, len(rows) + 1))
    assert [r["repeats"] for r in rows] == sorted((r["repeats"] for r in rows), reverse=True)
    assert sum(r["share_of_repeats"] for r in rows) == pytest.approx(1)
    assert set(rows[0]) == {"rank", "category", "repeats", "share_of_repeats", "issues", "multi_contact",
                            "multi_contact_share", "pending"}
    assert len(json.loads(run("repeat-drivers", "--db", str(desk_db), "--n", "3", "-o", "json"))) == 3


@pytest.mark.parametrize("command", [("fcr", "--by", "week"), ("fcr", "--by", "agent"), ("repeat-drivers",),
                                     ("top", "--period", "month")])
@pytest.mark.parametrize("suffix", [".svg", ".png", ".html"])
def test_chart_files_are_written(desk_db: Path, tmp_path: Path, command: tuple[str, ...], suffix: str) -> None:
    target = tmp_path / f"chart{suffix}"
    run(*command, "--db", str(desk_db), "--chart", str(target), "-o", "json")
    data = target.read_bytes()
    if suffix == ".svg":
        assert data.startswith(b"<svg") and b"</svg>" in data
    elif suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 5000
    else:
        assert b"<html" in data and b"vegaEmbed" in data
        assert b"<script src=\"http" not in data  # self-contained: opens without a network


def test_chart_with_another_suffix_is_an_error(desk_db: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["fcr", "--db", str(desk_db), "--chart", str(tmp_path / "c.pdf")])
    assert result.exit_code == 1 and "a chart is written as .html, .svg, .png" in result.output


KPI_KEYS = {"contacts", "inbound", "outbound", "offered", "answered", "abandoned", "abandonment", "service_level",
            "service_level_s", "asa_s", "handled", "aht_s", "acw_s", "escalation_rate", "truck_roll_rate",
            "tickets_opened", "tickets_resolved", "resolution_median_s", "resolution_p90_s", "backlog"}


def test_kpis_json_by_week_and_channel(desk_db: Path) -> None:
    (whole,) = json.loads(run("kpis", "--db", str(desk_db), "-o", "json"))
    assert set(whole) == KPI_KEYS and whole["contacts"] == 3000
    rows = json.loads(run("kpis", "--db", str(desk_db), "--by", "week", "--by", "channel", "-o", "json"))
    assert all(set(r) == KPI_KEYS | {"period", "channel"} for r in rows)
    assert sum(r["contacts"] for r in rows) == 3000
    assert [(r["period"], r["channel"] or "") for r in rows] == sorted((r["period"], r["channel"] or "") for r in rows)


def test_kpis_table_and_csv(desk_db: Path) -> None:
    assert "service level" in run("kpis", "--db", str(desk_db), "--by", "agent")
    rows = list(csv.DictReader(io.StringIO(run("kpis", "--db", str(desk_db), "-o", "csv"))))
    assert set(rows[0]) == KPI_KEYS


def test_feedback_json_by_customer(desk_db: Path) -> None:
    rows = json.loads(run("feedback", "--db", str(desk_db), "--by", "customer", "-o", "json"))
    assert set(rows[0]) == {"customer_key", "contacts", "rated", "csat_avg", "csat_distribution", "tagged",
                            "thank_you", "feature_request", "complaint"}
    assert sum(r["contacts"] for r in rows) == 3000
    assert all(sum(r["csat_distribution"].values()) == r["rated"] for r in rows)
    assert "csat" in run("feedback", "--db", str(desk_db), "--by", "agent")
    assert "4:" in run("feedback", "--db", str(desk_db), "-o", "csv")


@pytest.mark.parametrize("command", ["kpis", "feedback"])
def test_more_help_loads_no_engine(command: str) -> None:
    assert _heavy_modules_loaded(command, "--help") == []


@pytest.mark.parametrize("by", [("week",), ("agent",), ("week", "channel"), ()])
def test_kpis_chart(desk_db: Path, tmp_path: Path, by: tuple[str, ...]) -> None:
    target = tmp_path / "kpis.svg"
    run("kpis", "--db", str(desk_db), *(a for b in by for a in ("--by", b)), "--chart", str(target), "-o", "json")
    assert target.read_text().startswith("<svg")
