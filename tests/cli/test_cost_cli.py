"""``recontact cost``, ``value``, ``managers`` and ``directory`` on the command line: exit codes,
messages, the three output forms and the JSON shapes docs/cli.md documents."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recontact import samples
from recontact.cli.main import app

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("cost-cli")
    samples.write_csv(tmp / "desk.csv", 2000)
    store = tmp / "desk.duckdb"
    assert runner.invoke(app, ["import", str(tmp / "desk.csv"), "--db", str(store), "-o", "json"]).exit_code == 0
    top = json.loads(runner.invoke(app, ["top", "--db", str(store), "--period", "month", "-o", "json"]).stdout)
    first = top[0]["identifiers"][0]
    (tmp / "customers.csv").write_text(f"identifiers,monthly_revenue\n{first},1000000\n")
    (tmp / "orders.csv").write_text(f"customer,date,amount\n{first},2026-01-05,10\n")
    for args in (["directory", "import", "customers", str(tmp / "customers.csv")],
                 ["orders", "import", str(tmp / "orders.csv")]):
        result = runner.invoke(app, [*args, "--db", str(store)])
        assert result.exit_code == 0, result.output
    return store


def test_cost_json_rows_name_their_rates(db: Path) -> None:
    result = runner.invoke(app, ["cost", "--db", str(db), "--period", "week", "--n", "3", "-o", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    keys = {"period", "rank", "customer_key", "identifiers", "contacts", "handle_s", "cost", "revenue", "margin",
            "labour", "telephony", "channel_cost", "truck_rolls", "rates"}
    assert rows and all(set(r) == keys for r in rows)
    assert all(r["rank"] <= 3 for r in rows)
    assert rows[0]["rates"]["labour_per_hour"] == 36.0
    losers = json.loads(runner.invoke(app, ["cost", "--db", str(db), "--unprofitable", "-o", "json"]).stdout)
    every = json.loads(runner.invoke(app, ["cost", "--db", str(db), "-o", "json"]).stdout)
    assert losers == [r for r in every if r["margin"] < 0] and len(losers) < len(every)  # one customer pays


def test_cost_table_and_csv(db: Path) -> None:
    table = runner.invoke(app, ["cost", "--db", str(db), "--n", "1"])
    assert table.exit_code == 0 and "labour 36/h" in table.stdout
    out = runner.invoke(app, ["cost", "--db", str(db), "--n", "1", "-o", "csv"]).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows and json.loads(rows[0]["rates"])["truck_roll"] == 150.0


@pytest.mark.parametrize(("args", "says"), [
    (["cost", "--period", "day"], "use week or month"),
    (["cost", "--from", "2026-02-01", "--to", "2026-01-01"], "--to is before --from"),
    (["managers", "--manager", "nobody"], "no employee has manager 'nobody'"),
    (["directory", "list", "suppliers"], "no directory called 'suppliers'"),
])
def test_bad_requests_say_why(db: Path, args: list[str], says: str) -> None:
    result = runner.invoke(app, [*args, "--db", str(db)])
    assert result.exit_code != 0 and says in result.output + result.stderr


def test_value_and_managers_json(db: Path, tmp_path: Path) -> None:
    rows = json.loads(runner.invoke(app, ["value", "--db", str(db), "-o", "json"]).stdout)
    assert [(r["orders"], r["revenue"], r["first_order"]) for r in rows] == [(1, 10.0, 10.0)]
    assert json.loads(runner.invoke(app, ["managers", "--db", str(db), "-o", "json"]).stdout) == []
    listed = json.loads(runner.invoke(app, ["directory", "list", "--db", str(db), "-o", "json"]).stdout)
    assert [d["directory"] for d in listed] == ["customers", "orders"]


def test_cost_chart_is_a_pareto_of_the_most_expensive(db: Path, tmp_path: Path) -> None:
    from recontact import charts

    rows = json.loads(runner.invoke(app, ["cost", "--db", str(db), "-o", "json"]).stdout)
    out = tmp_path / "cost.svg"
    result = runner.invoke(app, ["cost", "--db", str(db), "--chart", str(out), "-o", "json"])
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<svg")
    data = charts.chart_data(charts.cost_chart(rows))
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["customer_key"]] = totals.get(r["customer_key"], 0.0) + r["cost"]
    assert [d["category"] for d in data] == sorted(totals, key=lambda k: (-totals[k], k))[:30]
    assert data[-1]["cumulative_share"] == pytest.approx(sum(d["value"] for d in data) / sum(totals.values()))
