"""Directories (customers, agents, employees, orders): bad rows reported with file, line and reason
and nothing valid lost; directory identifiers link people through the same hygiene rules as
contacts; re-importing replaces the directory; a schema 6 store is migrated in place."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from recontact import directory
from recontact.cli.main import app
from recontact.config import Settings
from recontact.errors import InputFileError
from reference import Contact, write_csv


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _keys(query) -> dict[str, int | None]:
    return dict(query("SELECT ident, customer_key FROM identifiers"))


def _contacts(tmp_path: Path, *rows: Contact) -> Path:
    return write_csv(tmp_path / "contacts.csv", rows)


def _at(hour: int) -> datetime:
    return datetime(2026, 3, 2, hour, tzinfo=UTC)


def test_bad_rows_are_reported_with_line_and_reason_and_valid_rows_kept(tmp_path, store_path, query):
    f = _write(tmp_path / "customers.csv",
               "Phone,E-mail,Name,Segment,Account Manager,MRR,Notes\n"
               "(415) 555-0134,Ann@Example.com,Ann,gold,am1,100,x\n"
               "+1 415 555 0199,bob@example.com,Bob,silver,am2,abc,x\n"
               "unknown,n/a,Nobody,,,5,x\n"
               '415-555-0177;4155550178,,"Carl\nthe second",,,"1,200.50",x\n'
               ",,Empty,,,3,x\n"
               "too,many,fields,here,x,1,2,3\n"
               "555-0100,dee@example.com,Dee,,,-4,x\n"
               "4155550166,not-an-address,Eve,,,0,x\n")
    s = directory.import_directory(store_path, "customers", f, Settings())
    assert [(r.line, r.reason) for r in s.rejects] == [
        (3, "monthly_revenue 'abc' is not a number"),
        (4, "no identifier that identifies anyone (phone 'unknown' is a placeholder: ignored; "
            "email 'n/a' is a placeholder: ignored)"),
        (7, "no identifier that identifies anyone"),
        (8, "8 fields, the header has 7"),
        (9, "monthly_revenue '-4' must be a finite number, 0 or more"),
    ]
    assert all(r.file == str(f) for r in s.rejects)
    assert [(r.line, r.reason) for r in s.warnings] == [(10, "email 'not-an-address' is not a valid address: ignored")]
    assert (s.read, s.imported, s.rejected) == (8, 3, 5)
    assert s.read == s.imported + s.rejected
    assert "columns not used: Notes" in s.notes
    rows = query("SELECT line, name, segment, account_manager, monthly_revenue FROM directory_customers ORDER BY line")
    assert rows == [(2, "Ann", "gold", "am1", 100.0), (5, "Carl\nthe second", None, None, 1200.5),
                    (10, "Eve", None, None, 0.0)]
    listed = directory.list_directory(store_path, "customers", Settings())
    assert listed[0]["identifiers"] == ["email:ann@example.com", "phone:+14155550134"]
    assert listed[1]["identifiers"] == ["phone:+14155550177", "phone:+14155550178"]
    assert [r["customer_key"] for r in listed] == ["C1", "C2", "C3"]  # keys in file order


def test_a_file_without_a_valid_row_changes_nothing(tmp_path, store_path):
    good = _write(tmp_path / "a.csv", "agent_id,name,team,supervisor,hourly_cost\nA1,Ann,T1,S1,40\n")
    directory.import_directory(store_path, "agents", good, Settings())
    bad = _write(tmp_path / "b.csv", "agent_id,hourly_cost\nA2,lots\n")
    with pytest.raises(InputFileError, match=r"b\.csv: no valid row in 1 rows; first: line 2: hourly_cost 'lots'"):
        directory.import_directory(store_path, "agents", bad, Settings())
    assert [r["agent_id"] for r in directory.list_directory(store_path, "agents", Settings())] == ["A1"]
    with pytest.raises(InputFileError, match=r"line 1: the header has no agent_id column"):
        directory.import_directory(store_path, "agents", _write(tmp_path / "c.csv", "name\nx\n"), Settings())


def test_duplicate_ids_reject_the_later_row(tmp_path, store_path):
    f = _write(tmp_path / "agents.csv", "agent_id,name,team,supervisor,hourly_cost\n"
                                        "A1,Ann,T1,S1,40\nA2,Bob,T1,S1,\nA1,Ann again,T2,S1,50\n")
    s = directory.import_directory(store_path, "agents", f, Settings())
    assert [(r.line, r.reason) for r in s.rejects] == [(4, "agent_id 'A1' is already on line 2")]
    rows = directory.list_directory(store_path, "agents", Settings())
    assert [(r["agent_id"], r["hourly_cost"]) for r in rows] == [("A1", 40.0), ("A2", None)]


def test_a_directory_row_joins_two_people_and_says_so(tmp_path, store_path, run_import, query):
    run_import(_contacts(tmp_path, Contact("c1", _at(9), phone="4155550134"),
                         Contact("c2", _at(10), email="ann@example.com")))
    before = _keys(query)
    assert before["phone:+14155550134"] != before["email:ann@example.com"]
    f = _write(tmp_path / "customers.csv", "phone,email,monthly_revenue\n415 555 0134,ANN@example.com,10\n")
    s = directory.import_directory(store_path, "customers", f, Settings())
    after = _keys(query)
    assert after["phone:+14155550134"] == after["email:ann@example.com"]
    assert any(n.startswith("line 2 joins customers C1, C2") for n in s.notes)
    assert len({k for (k,) in query("SELECT customer_key FROM contacts")}) == 1
    # Re-importing without that row replaces the directory: the two come apart, with their keys back.
    f2 = _write(tmp_path / "customers2.csv", "phone,monthly_revenue\n415 555 0199,10\n")
    s2 = directory.import_directory(store_path, "customers", f2, Settings())
    assert s2.replaced == 1 and s2.notes[0].startswith("replaced the customers directory (1 rows")
    again = _keys(query)
    assert again["phone:+14155550134"] == before["phone:+14155550134"]
    assert again["email:ann@example.com"] == before["email:ann@example.com"]


def test_deny_listed_and_placeholder_identifiers_join_no_one(tmp_path, store_path, run_import, query):
    settings = Settings(deny_list=("phone:+14155550100",))
    run_import(_contacts(tmp_path, Contact("c1", _at(9), phone="4155550100", email="ann@example.com"),
                         Contact("c2", _at(10), email="bob@example.com")), settings=settings)
    f = _write(tmp_path / "customers.csv", "phone,email,monthly_revenue\n"
                                           "4155550100,bob@example.com,10\n4155550100,,5\n")
    s = directory.import_directory(store_path, "customers", f, settings)
    keys = _keys(query)
    assert keys["phone:+14155550100"] is None
    assert keys["email:ann@example.com"] != keys["email:bob@example.com"]  # not joined through the switchboard
    assert "1 rows identify no one (their identifiers are deny-listed or shared hubs): lines 3" in s.notes


def test_employees_link_their_id_e_mail_and_phone(tmp_path, store_path, run_import, query):
    f = _write(tmp_path / "employees.csv", "employee_id,name,email,phone,manager\n"
                                           "E1,Ann,ann@corp.example.com,x1234,M1\nM1,Meg,meg@corp.example.com,,\n")
    directory.import_directory(store_path, "employees", f, Settings())
    keys = _keys(query)
    assert keys["employee:E1"] == keys["email:ann@corp.example.com"] == keys["extension:x1234"]
    assert keys["employee:M1"] not in (None, keys["employee:E1"])
    rows = directory.list_directory(store_path, "employees", Settings())
    assert [(r["employee_id"], r["manager"], r["customer_key"]) for r in rows] == [
        ("E1", "M1", "C1"), ("M1", None, "C2")]


def test_orders_need_a_date_and_an_amount(tmp_path, store_path):
    f = _write(tmp_path / "orders.csv", "customer,date,amount,order_id\n"
                                        "ann@example.com,2026-03-01,$25.00,o1\n"
                                        "ann@example.com,01/03/2026,10,o2\n"
                                        "4155550134,2026-03-02,-5,o3\n"
                                        "account:A7,2026-03-02,,o4\n"
                                        "account:A7,2026-03-03,7,o1\n")
    s = directory.import_directory(store_path, "orders", f, Settings())
    assert [(r.line, r.reason) for r in s.rejects] == [
        (3, "date '01/03/2026' is not a date (write it as YYYY-MM-DD)"), (5, "no amount"),
        (6, "order_id 'o1' is already on line 2")]
    rows = directory.list_directory(store_path, "orders", Settings())
    assert [(r["ordered_on"], r["amount"], r["identifiers"]) for r in rows] == [
        ("2026-03-01", 25.0, ["email:ann@example.com"]), ("2026-03-02", -5.0, ["phone:+14155550134"])]


def test_removing_a_contact_import_keeps_directory_links(tmp_path, store_path, run_import, query):
    from recontact import desk

    summary = run_import(_contacts(tmp_path, Contact("c1", _at(9), phone="4155550134")))
    f = _write(tmp_path / "customers.csv", "phone,email\n4155550134,ann@example.com\n")
    directory.import_directory(store_path, "customers", f, Settings())
    desk.remove_import(store_path, Settings(), summary.import_id)
    keys = _keys(query)
    assert keys["phone:+14155550134"] == keys["email:ann@example.com"] is not None


def test_a_schema_7_store_is_migrated_in_place(tmp_path, store_path, run_import):
    from recontact.store.contacts import SCHEMA_VERSION
    from recontact.store.directories import TABLE_NAMES

    run_import(_contacts(tmp_path, Contact("c1", _at(9), phone="4155550134")))
    with duckdb.connect(str(store_path)) as con:
        for table in TABLE_NAMES:
            con.execute(f"DROP TABLE {table}")
        con.execute("UPDATE meta SET value = '7' WHERE key = 'schema_version'")
    assert directory.list_directories(store_path, Settings()) == []  # a reader migrates it
    with duckdb.connect(str(store_path), read_only=True) as con:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [(str(SCHEMA_VERSION),)]
        assert {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()} >= TABLE_NAMES


def test_cli_directory_import_json_and_error(tmp_path, store_path):
    f = _write(tmp_path / "agents.csv", "agent_id,hourly_cost\nA1,40\nA1,41\n")
    result = CliRunner().invoke(app, ["directory", "import", "agents", str(f), "--db", str(store_path),
                                      "--output", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["read"], data["imported"], data["rejected"]) == (2, 1, 1)
    assert data["rejects"] == [{"file": str(f), "line": 3, "reason": "agent_id 'A1' is already on line 2"}]
    bad = CliRunner().invoke(app, ["directory", "import", "suppliers", str(f), "--db", str(store_path)])
    assert bad.exit_code == 1 and "no directory called 'suppliers'" in bad.stderr
