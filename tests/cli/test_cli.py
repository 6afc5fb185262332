"""The CLI contract: exit codes, messages, the three output forms, and docs that cannot drift."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from typer.testing import CliRunner

from recontact import samples
from recontact.cli.main import app
from recontact.config import Settings

DOCS = Path(__file__).parents[2] / "docs"
runner = CliRunner()


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout


def test_import_json_counts_add_up(tmp_path: Path) -> None:
    samples.write_csv(tmp_path / "d.csv", 500)
    code, out = invoke("import", str(tmp_path / "d.csv"), "--db", str(tmp_path / "x.duckdb"), "-o", "json")
    data = json.loads(out)
    assert code == 0
    assert data["read"] == 500 == data["imported"] + data["duplicates"] + data["rejected"]
    assert data["rejects_file"] is None
    code, out = invoke("import", str(tmp_path / "d.csv"), "--db", str(tmp_path / "x.duckdb"), "-o", "json")
    again = json.loads(out)
    assert (again["imported"], again["duplicates"]) == (0, 500)


def test_import_nothing_valid_exits_non_zero_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("started_at,phone\nnot a time,4155550134\n")
    result = runner.invoke(app, ["import", str(bad), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 1
    assert str(bad) in result.stderr and "no valid contact" in result.stderr


def test_import_missing_file(tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(tmp_path / "nope.csv"), "--db", str(tmp_path / "x.duckdb")])
    assert result.exit_code == 1
    assert "no such file" in result.stderr


def test_bad_map_is_explained(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("when,who\n2026-01-05T09:00:00Z,4155550134\n")
    result = runner.invoke(app, ["import", str(f), "--db", str(tmp_path / "x.duckdb"), "--map", "when"])
    assert result.exit_code == 1 and "SOURCE COLUMN=field" in result.stderr
    code, out = invoke("import", str(f), "--db", str(tmp_path / "x.duckdb"), "--map", "when=started_at",
                       "--map", "who=phone", "-o", "json")
    assert code == 0 and json.loads(out)["imported"] == 1


def test_flags_json_csv_and_table_agree(desk_db: Path) -> None:
    code, out = invoke("flags", "--db", str(desk_db), "-o", "json")
    rows = json.loads(out)
    assert code == 0 and rows
    assert {r["rule"] for r in rows} == {"repeat-30d", "same-issue-7d"}
    assert all(re.fullmatch(r"C\d+", r["customer_key"]) for r in rows)
    code, out = invoke("flags", "--db", str(desk_db), "-o", "csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert len(table) == len(rows)
    assert [t["customer_key"] for t in table] == [r["customer_key"] for r in rows]
    code, out = invoke("flags", "--db", str(desk_db))
    assert code == 0 and rows[-1]["customer_key"] in out  # the table lists the newest first


def test_top_respects_n_and_period_labels(desk_db: Path) -> None:
    for period, label in (("week", r"\d{4}-W\d{2}"), ("month", r"\d{4}-\d{2}")):
        code, out = invoke("top", "--period", period, "--n", "3", "--db", str(desk_db), "-o", "json")
        rows = json.loads(out)
        assert code == 0 and rows
        assert all(re.fullmatch(label, r["period"]) for r in rows)
        per: dict[str, list[int]] = {}
        for r in rows:
            per.setdefault(r["period"], []).append(r["rank"])
        assert all(ranks == list(range(1, len(ranks) + 1)) and len(ranks) <= 3 for ranks in per.values())


def test_top_rejects_unknown_period(desk_db: Path) -> None:
    result = runner.invoke(app, ["top", "--period", "year", "--db", str(desk_db)])
    assert result.exit_code == 2 and "week or month" in result.output


def test_customer_by_key_phone_and_unknown(desk_db: Path) -> None:
    flags = json.loads(invoke("flags", "--db", str(desk_db), "-o", "json")[1])
    first = next(f for f in flags if any(i.startswith("phone:") for i in f["identifiers"]))
    phone = next(i for i in first["identifiers"] if i.startswith("phone:"))[len("phone:+1"):]
    formatted = f"({phone[:3]}) {phone[3:6]}-{phone[6:]}"
    by_key = json.loads(invoke("customer", first["customer_key"], "--db", str(desk_db), "-o", "json")[1])
    by_phone = json.loads(invoke("customer", formatted, "--db", str(desk_db), "-o", "json")[1])
    assert by_key["customer_key"] == by_phone["customer_key"] == first["customer_key"]
    times = [c["started_at"] for c in by_key["contacts"]]
    assert times == sorted(times) and len(times) >= first["count"]
    result = runner.invoke(app, ["customer", "nobody@nowhere.invalid", "--db", str(desk_db)])
    assert result.exit_code == 1 and "no customer matches" in result.stderr


def test_commands_on_a_missing_store_say_what_to_do(tmp_path: Path) -> None:
    result = runner.invoke(app, ["flags", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 1 and "import" in result.stderr


def test_bad_config_names_file_and_key(tmp_path: Path, desk_db: Path) -> None:
    cfg = tmp_path / "recontact.toml"
    cfg.write_text('timezone = "Mars/Olympus"\n[[rules]]\nname = "x"\nmin_contacts = 1\nwindow = "1d"\n')
    result = runner.invoke(app, ["flags", "--db", str(desk_db), "--config", str(cfg)])
    assert result.exit_code == 1
    assert str(cfg) in result.stderr and "timezone" in result.stderr and "min_contacts" in result.stderr


def test_custom_rule_from_config(tmp_path: Path, desk_db: Path) -> None:
    cfg = tmp_path / "recontact.toml"
    cfg.write_text('[[rules]]\nname = "twice-1h"\nmin_contacts = 2\nwindow = "1h"\n')
    code, out = invoke("rules", "--config", str(cfg), "-o", "json")
    assert json.loads(out)[0]["rule"] == "≥ 2 inbound contacts within 1h"
    code, out = invoke("flags", "--db", str(desk_db), "--config", str(cfg), "-o", "json")
    assert code == 0 and {r["rule"] for r in json.loads(out)} <= {"twice-1h"}


def _commands() -> dict[str, Any]:
    group: Any = typer.main.get_command(app)
    return dict(group.commands)


def test_every_command_and_option_is_documented() -> None:
    text = (DOCS / "cli.md").read_text()
    for name, command in _commands().items():
        assert f"recontact {name}" in text, f"docs/cli.md does not document `recontact {name}`"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt not in ("--help",):
                    assert opt in text or opt in (DOCS / "importing.md").read_text(), \
                        f"docs do not mention {opt} of `recontact {name}`"


def test_every_setting_is_documented() -> None:
    text = (DOCS / "configuration.md").read_text()
    for field in Settings.model_fields:
        assert f"`{field}`" in text, f"docs/configuration.md does not document {field}"


def test_flags_narrowed_by_rule_and_since(desk_db: Path) -> None:
    every = json.loads(invoke("flags", "--db", str(desk_db), "-o", "json")[1])
    code, out = invoke("flags", "--db", str(desk_db), "--rule", "same-issue-7d", "-o", "json")
    same = json.loads(out)
    assert code == 0 and same == [f for f in every if f["rule"] == "same-issue-7d"]
    cut = sorted(f["crossed_at"] for f in every)[len(every) // 2][:10]
    code, out = invoke("flags", "--db", str(desk_db), "--since", cut, "-o", "json")
    assert json.loads(out) == [f for f in every if f["crossed_at"][:10] >= cut]
    result = runner.invoke(app, ["flags", "--db", str(desk_db), "--rule", "nope"])
    assert result.exit_code == 1 and "no rule called nope" in result.stderr and "repeat-30d" in result.stderr


def test_customer_flags_are_the_customers_own(desk_db: Path) -> None:
    every = json.loads(invoke("flags", "--db", str(desk_db), "-o", "json")[1])
    key = every[0]["customer_key"]
    mine = json.loads(invoke("customer", key, "--db", str(desk_db), "-o", "json")[1])["flags"]
    assert mine == [f for f in every if f["customer_key"] == key]


def test_flags_open_lists_exactly_the_open_ones(desk_db: Path) -> None:
    """`flags --open`: the flags whose closed_at is null, nothing else; closed ones close after
    they opened, and every flag carries closed_at, category and contact_id."""
    every = json.loads(invoke("flags", "--db", str(desk_db), "-o", "json")[1])
    assert all({"closed_at", "category", "contact_id"} <= f.keys() for f in every)
    assert all(f["closed_at"] is None or datetime.fromisoformat(f["closed_at"]) > datetime.fromisoformat(
        f["crossed_at"]) for f in every)
    assert all((f["category"] is None) == (f["rule"] == "repeat-30d") for f in every)
    code, out = invoke("flags", "--db", str(desk_db), "--open", "-o", "json")
    assert code == 0 and json.loads(out) == [f for f in every if f["closed_at"] is None]
    assert any(f["closed_at"] is None for f in every) and any(f["closed_at"] for f in every)
    code, out = invoke("flags", "--db", str(desk_db), "--open")
    assert code == 0 and "open flags" in out


def test_a_key_lost_in_a_merge_still_answers(tmp_path: Path) -> None:
    """Stable keys: after a record joins C1 (the phone) and C2 (the e-mail), `customer C2` says
    "C2 is now C1" and shows C1; JSON adds requested_key and merged_into."""
    db = str(tmp_path / "x.duckdb")
    data = Path(__file__).parents[1] / "data" / "csv"
    for name in ("link_first.csv", "link_second.csv"):
        assert invoke("import", str(data / name), "--db", db, "-o", "json")[0] == 0
    result = runner.invoke(app, ["customer", "C2", "--db", db])
    assert result.exit_code == 0 and "C2 is now C1" in result.stderr
    code, out = invoke("customer", "C2", "--db", db, "-o", "json")
    got = json.loads(out)
    assert code == 0
    assert (got["customer_key"], got["requested_key"], got["merged_into"]) == ("C1", "C2", "C1")
    assert got["identifiers"] == ["phone:+14155550134", "email:ann@example.com"]
    assert "requested_key" not in json.loads(invoke("customer", "C1", "--db", db, "-o", "json")[1])


def test_identities_reports_hubs_placeholders_and_deny_list(tmp_path: Path) -> None:
    """`recontact identities`: people, identifiers by kind, hubs with the people they touch,
    placeholders and deny-listed identifiers with contact counts; --shared only the latter; a
    deny-list change in the config re-resolves without a re-import."""
    f = tmp_path / "d.csv"
    rows = [f"s{i},2026-01-05T09:0{i}:00Z,+1 212 555 0100,p{i}@example.com,0" for i in range(7)]
    rows += ["a1,2026-01-06T09:00:00Z,Private Number,,TBD", "a2,2026-01-06T10:00:00Z,(123) 456-7890,,"]
    f.write_text("contact_id,started_at,phone,email,CustomerID\n" + "\n".join(rows) + "\n")
    db = str(tmp_path / "x.duckdb")
    code, out = invoke("import", str(f), "--db", db, "-o", "json")
    summary = json.loads(out)
    assert code == 0 and (summary["imported"], summary["invalid_phones"], summary["placeholders"]) == (9, 1, 8)
    assert any("phone:+12125550100 touches 7 people" in n for n in summary["notes"])
    got = json.loads(invoke("identities", "--db", db, "-o", "json")[1])
    assert got["people"] == 7 and got["unidentified_contacts"] == 2
    assert got["hubs"] == [{"identifier": "phone:+12125550100", "people": 7, "contacts": 7}]
    assert {(p["identifier"], p["contacts"]) for p in got["placeholders"]} == {
        ("account:0", 7), ("account:TBD", 1), ("phone:Private Number", 1)}
    assert got["invalid_phones"] == {"contacts": 1, "distinct": 1}
    config = tmp_path / "recontact.toml"
    config.write_text('deny_list = ["email:P1@example.com"]\nmax_links = 10\n')
    shared = json.loads(invoke("identities", "--db", db, "--shared", "--config", str(config), "-o", "json")[1])
    assert "people" not in shared and shared["hubs"] == []  # 7 people are not more than 10
    assert shared["deny_listed"] == [{"identifier": "email:p1@example.com", "contacts": 1}]
    # Without the hub, the switchboard joins the six people left: one customer.
    assert json.loads(invoke("identities", "--db", db, "--config", str(config), "-o", "json")[1])["people"] == 1
    table = runner.invoke(app, ["identities", "--db", db])
    assert table.exit_code == 0 and "phone:+12125550100" in table.stdout and "hub" in table.stdout
