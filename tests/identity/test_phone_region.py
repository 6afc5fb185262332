"""The phone region of national numbers: configured, else the country of the desk's time zone
(``zone.tab``), else the store's last, else US; imports and lookups use the same one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recontact.cli.main import app
from recontact.identity.zones import country_of_zone

runner = CliRunner()
LONDON = ("started_at,phone,category\n"
          "2026-11-02 09:00,020 7946 0958,billing\n"
          "2026-11-03 09:00,(020) 7946-0958,billing\n"
          "2026-11-04 09:00,02079460958,billing\n"
          "2026-11-05 09:00,+44 20 7946 0958,billing\n")


@pytest.mark.parametrize("zone_tab", [Path("/usr/share/zoneinfo/zone.tab")])
def test_the_shipped_table_is_the_machines_zone_tab(zone_tab: Path) -> None:
    if not zone_tab.exists():
        pytest.skip(f"no {zone_tab} on this machine to compare with")
    machine = {}
    for line in zone_tab.read_text().splitlines():
        if line and not line.startswith("#"):
            country, _, zone = line.split("\t")[:3]
            machine[zone] = country
    assert {z: country_of_zone(z) for z in machine} == machine
    assert (country_of_zone("Europe/London"), country_of_zone("Asia/Jerusalem"),
            country_of_zone("America/New_York"), country_of_zone("UTC"), country_of_zone(None)) == \
        ("GB", "IL", "US", None, None)


def _import(tmp_path: Path, *args: str, config: str | None = None) -> dict[str, object]:
    f = tmp_path / "calls.csv"
    f.write_text(LONDON)
    extra = []
    if config is not None:
        (tmp_path / "r.toml").write_text(config)
        extra = ["--config", str(tmp_path / "r.toml")]
    result = runner.invoke(app, ["import", str(f), "--db", str(tmp_path / "x.duckdb"), "-o", "json", *args, *extra])
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.stdout))


def _lookup(tmp_path: Path, number: str, *extra: str) -> tuple[int, str]:
    result = runner.invoke(app, ["customer", number, "--db", str(tmp_path / "x.duckdb"), "-o", "json", *extra])
    return result.exit_code, result.stdout + result.stderr


def test_london_numbers_are_one_customer_with_a_note_naming_the_region(tmp_path: Path) -> None:
    data = _import(tmp_path, "--tz", "Europe/London")
    assert data["invalid_phones"] == 0 and data["unidentified"] == 0
    notes = " | ".join(map(str, data["notes"]))  # type: ignore[call-overload]
    assert "read as GB numbers" in notes and "Europe/London" in notes and "default_region" in notes
    code, out = _lookup(tmp_path, "020 7946 0958")
    assert code == 0, out
    timeline = json.loads(out)
    assert timeline["identifiers"] == ["phone:+442079460958"] and len(timeline["contacts"]) == 4
    assert json.loads(_lookup(tmp_path, "(020) 7946-0958")[1])["customer_key"] == timeline["customer_key"]


def test_no_zone_of_one_country_names_default_region_when_numbers_are_invalid(tmp_path: Path) -> None:
    data = _import(tmp_path)
    assert data["invalid_phones"] == 3
    notes = " | ".join(map(str, data["notes"]))  # type: ignore[call-overload]
    assert "read as US numbers" in notes and "default_region" in notes


def test_configured_region_wins_over_the_zone(tmp_path: Path) -> None:
    data = _import(tmp_path, "--tz", "America/New_York", config='default_region = "GB"\n')
    assert data["invalid_phones"] == 0
    assert not any("the country of the time zone" in str(n) for n in data["notes"])  # type: ignore[attr-defined]
    code, out = _lookup(tmp_path, "020 7946 0958", "--config", str(tmp_path / "r.toml"))
    assert code == 0, out
