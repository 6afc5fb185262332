"""Chart specs (recontact.charts): the data a figure shows, and the files it is written to."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from recontact import charts
from recontact.errors import InputFileError

FCR_WEEKS = [{"period": "2026-W02", "fcr": 0.5, "issues": 2}, {"period": "2026-W03", "fcr": None, "issues": 0},
             {"period": "2026-W04", "fcr": 0.75, "issues": 4}]


def test_fcr_trend_is_a_line_over_periods_in_row_order() -> None:
    spec = charts.fcr_chart(FCR_WEEKS, "week")
    assert spec["mark"]["type"] == "line"
    assert spec["encoding"]["x"]["sort"] == ["2026-W02", "2026-W03", "2026-W04"]
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"
    assert charts.chart_data(spec) == [{"x": "2026-W02", "series": "FCR", "value": 0.5},
                                       {"x": "2026-W03", "series": "FCR", "value": None},
                                       {"x": "2026-W04", "series": "FCR", "value": 0.75}]


def test_fcr_per_agent_is_bars_with_none_named() -> None:
    spec = charts.fcr_chart([{"agent": "A1", "fcr": 0.5}, {"agent": None, "fcr": 1.0}], "agent")
    assert spec["mark"]["type"] == "bar"
    assert [v["x"] for v in charts.chart_data(spec)] == ["A1", charts.NO_KEY]


def test_pareto_ranks_and_accumulates() -> None:
    rows = [{"category": "b", "repeats": 1}, {"category": "a", "repeats": 3}, {"category": None, "repeats": 1}]
    spec = charts.drivers_chart(rows)
    assert [layer["mark"]["type"] for layer in spec["layer"]] == ["bar", "line"]
    assert charts.chart_data(spec) == [
        {"category": "a", "value": 3, "cumulative_share": 0.6},
        {"category": "(none)", "value": 1, "cumulative_share": 0.8},
        {"category": "b", "value": 1, "cumulative_share": 1.0},
    ]


def test_svg_is_valid_xml_with_the_title(tmp_path: Path) -> None:
    path = charts.save(charts.fcr_chart(FCR_WEEKS, "week"), tmp_path / "sub" / "fcr.svg")
    root = ElementTree.parse(path).getroot()
    assert root.tag.endswith("svg")
    assert "First-contact resolution per week" in path.read_text()


def test_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"c\.jpg: a chart is written as"):
        charts.save(charts.fcr_chart(FCR_WEEKS, "week"), tmp_path / "c.jpg")


def test_kpi_trend_leaves_out_rates_never_measured() -> None:
    rows = [{"period": "1999-W05", "abandonment": 0.17, "service_level": 0.53, "escalation_rate": None,
             "truck_roll_rate": None}]
    spec = charts.kpis_chart(rows, ["week"])
    assert {v["series"] for v in charts.chart_data(spec)} == {"abandonment", "service level"}


def test_a_chart_command_says_where_it_wrote_and_the_folder_it_created(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from recontact import samples
    from recontact.cli.main import app

    runner = CliRunner()
    samples.write_csv(tmp_path / "d.csv", 200)
    assert runner.invoke(app, ["import", str(tmp_path / "d.csv"), "--db", str(tmp_path / "x.duckdb")]).exit_code == 0
    target = tmp_path / "new" / "k.svg"
    result = runner.invoke(app, ["top", "--chart", str(target), "--db", str(tmp_path / "x.duckdb"), "-o", "json"])
    assert result.exit_code == 0, result.output
    assert f"chart written: {target} (created the folder {tmp_path / 'new'})" in result.stderr
    assert target.exists() and result.stdout.lstrip().startswith("[")


def test_top_chart_gives_every_customer_its_own_colour_and_a_readable_legend() -> None:
    rows = [{"period": f"2026-W{w:02d}", "rank": r, "customer_key": f"C{w * 10 + r}", "contacts": 5 - r,
             "handle_s": None, "identifiers": []} for w in range(1, 8) for r in range(1, 6)]
    spec = charts.top_chart(rows, "week")
    colour = spec["encoding"]["color"]
    assert colour["title"] == "customer"
    domain, palette = colour["scale"]["domain"], colour["scale"]["range"]
    assert sorted(domain) == sorted({r["customer_key"] for r in rows}) and len(domain) == 35
    assert len(set(palette)) == len(domain)
