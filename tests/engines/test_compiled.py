"""The compiled-SQL cache answers exactly what the Ibis definition answers, and never a stale query."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from recontact import desk, samples
from recontact.config import Settings
from recontact.engines import compiled
from recontact.rules.spec import Rule


@pytest.fixture(scope="module")
def desk_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("compiled")
    samples.write_csv(tmp / "desk.csv", 4000, seed=11)
    db = tmp / "desk.duckdb"
    desk.import_contacts(db, desk.ImportRequest(path=tmp / "desk.csv"), Settings(timezone="America/New_York"))
    return db


def _customers(db: Path, settings: Settings, n: int = 6) -> list[int]:
    """``n`` flagged customers (those with the most flags first) and ``n`` unflagged ones."""
    counts: dict[int, int] = {}
    for f in desk.list_flags(db, settings):
        key = int(f["customer_key"][1:])
        counts[key] = counts.get(key, 0) + 1
    flagged = sorted(counts, key=lambda k: (-counts[k], k))[:n]
    with desk.open_for_reading(db, settings) as store:
        others = [k for (k,) in store.con.execute(
            "SELECT DISTINCT customer_key FROM contacts WHERE customer_key IS NOT NULL ORDER BY 1").fetchall()
            if k not in counts]
    return flagged + others[:n]


SETTINGS = [
    Settings(timezone="America/New_York"),
    Settings(timezone="Asia/Kolkata", deny_list=("(305) 555-0100",),
             rules=(Rule(name="twice-2d", min_contacts=2, window="2d"),
                    Rule(name="calls-3-in-5d", min_contacts=3, window="5d", channel="phone", same_category=True))),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=["defaults", "custom"])
def test_cached_customer_flags_equal_the_ibis_path(desk_db: Path, settings: Settings) -> None:
    keys = _customers(desk_db, settings)
    assert len(keys) == 12
    for key in keys:
        through_ibis = desk.list_flags(desk_db, settings, customer_key=key)
        with desk.open_for_reading(desk_db, settings) as store:
            cached = desk.customer_flags(store, settings, key, desk.identifiers_of(store, key))
        assert cached == through_ibis, key


def test_customer_timeline_flags_are_the_listed_ones(desk_db: Path) -> None:
    settings = SETTINGS[0]
    every = desk.list_flags(desk_db, settings)
    for key in sorted({f["customer_key"] for f in every})[:10]:
        mine = desk.customer_timeline(desk_db, settings, key)
        assert mine["flags"] == [f for f in every if f["customer_key"] == key]
        assert all(f["identifiers"] == mine["identifiers"] for f in mine["flags"])


def test_first_run_compiles_later_runs_read_the_cache(desk_db: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path / "cache"))
    settings = SETTINGS[0]
    first = desk.list_flags(desk_db, settings)
    stored = sorted((tmp_path / "cache" / "compiled").glob("*.sql"))
    assert [p.name.rsplit("-", 1)[0] for p in stored] == ["flags"]

    def no_compiling(*_: object, **__: object) -> str:
        raise AssertionError("compiled again although the cache holds the query")

    monkeypatch.setattr(desk, "with_identifiers", no_compiling)
    assert desk.list_flags(desk_db, settings) == first
    # Other settings are another query: compiled (here: would be), never answered from the old file.
    with pytest.raises(AssertionError, match="compiled again"):
        desk.list_flags(desk_db, Settings(timezone="America/New_York", deny_list=("4155550100",)))


def test_a_tampered_cache_file_is_what_runs(desk_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The cache is really read (so the equality tests above test it): a rewritten file changes the answer."""
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path / "cache"))
    settings = SETTINGS[0]
    assert desk.list_flags(desk_db, settings)
    (path,) = (tmp_path / "cache" / "compiled").glob("flags-*.sql")
    path.write_text(path.read_text() + " LIMIT 0")
    assert desk.list_flags(desk_db, settings) == []


def test_cache_key_follows_code_name_and_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(compiled.CACHE_ENV, str(tmp_path))
    a = compiled.cache_path("q", "x")
    assert a.parent == tmp_path / "compiled"
    assert a == compiled.cache_path("q", "x")
    assert len({a, compiled.cache_path("q", "y"), compiled.cache_path("r", "x")}) == 3
    monkeypatch.setattr(compiled, "code_fingerprint", lambda: "another recontact")
    assert compiled.cache_path("q", "x") != a


def test_cache_key_follows_the_duckdb_ibis_and_sqlglot_versions() -> None:
    import ibis
    import sqlglot

    installed = compiled.compiler_versions()
    assert installed == (f"duckdb=={duckdb.__version__}", f"ibis-framework=={ibis.__version__}",
                         f"sqlglot=={sqlglot.__version__}")
    same = compiled.cache_key("q", "x", code="c", versions=installed)
    assert compiled.cache_key("q", "x") == compiled.cache_key("q", "x", versions=installed)
    for i, pin in enumerate(installed):
        other = (*installed[:i], pin.split("==")[0] + "==0.0.1", *installed[i + 1:])
        assert compiled.cache_key("q", "x", code="c", versions=other) != same, f"{pin} upgraded: key unchanged"


def test_unwritable_cache_still_answers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    monkeypatch.setenv(compiled.CACHE_ENV, str(blocker))
    assert compiled.cached_sql("q", "x", lambda: "SELECT 1") == "SELECT 1"


def test_parameters_become_named_duckdb_parameters(desk_db: Path) -> None:
    import ibis

    settings = SETTINGS[0]
    with desk.open_for_reading(desk_db, settings) as store:
        t = store.ibis().table("contacts")
        key = ibis.param("int64")
        sql = compiled.compile_with_params(store.ibis(), t.filter(t.customer_key == key).count(),
                                           {"customer_key": key})
        assert "$customer_key" in sql
        (n,) = compiled.fetch_dicts(store.con, sql, {"customer_key": 3})[0].values()
        assert n == store.con.execute("SELECT count(*) FROM contacts WHERE customer_key = 3").fetchone()[0]  # type: ignore[index]
        with pytest.raises(ValueError, match="does not appear"):
            compiled.compile_with_params(store.ibis(), t.count(), {"customer_key": key})
