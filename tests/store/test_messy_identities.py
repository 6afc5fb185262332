"""A desk of messy identities (tests/messy_desk.py) gives one key per real person with exact
monthly counts, before and after a deny-list change (issue 10, "Done when").

Identifier hygiene (DESIGN.md): placeholders identify no one; a switchboard or a shared mailbox
beside more than max_links people is a hub and joins no one; a contact counts for whoever else it
identifies; changing the deny-list re-resolves on the next command, without a re-import.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import messy_desk
from hypothesis_profiles import examples
from recontact import desk
from recontact.config import Settings
from recontact.store.contacts import open_store


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[messy_desk.Row], list[Path]]:
    folder = tmp_path_factory.mktemp("messy")
    _, rows = messy_desk.generate()
    return folder, rows, messy_desk.write_batches(folder, rows)


def _import(db: Path, paths: list[Path], settings: Settings) -> None:
    for path in paths:
        s = desk.import_contacts(db, desk.ImportRequest(path, source="csv"), settings)
        assert s.rejected == 0, s.rejects
        assert s.imported + s.duplicates == s.read


def _people_by_key(db: Path, rows: list[messy_desk.Row]) -> dict[int | None, set[int | None]]:
    truth = {r.contact_id: r for r in rows}
    with open_store(db, create=False) as store:
        keys = store.con.execute("SELECT contact_id, customer_key FROM contacts").fetchall()
    assert len(keys) == len(rows)
    out: dict[int | None, set[int | None]] = {}
    for contact_id, key in keys:
        r = truth[contact_id]
        out.setdefault(key, set()).add(r.person if (r.own or r.family) else None)
    return out


def _monthly(db: Path, settings: Settings, owners: dict[int, frozenset[int]]) -> Counter[tuple[frozenset[int], str]]:
    got: Counter[tuple[frozenset[int], str]] = Counter()
    for r in desk.top_callers(db, settings, "month", 10_000):
        got[(owners[int(r["customer_key"][1:])], r["period"])] += r["contacts"]
    return got


def _check(db: Path, rows: list[messy_desk.Row], settings: Settings, *,
           family_joined: bool) -> dict[int, frozenset[int]]:
    """One key per real person (the family pair is one while joined), exact monthly counts."""
    desk.top_callers(db, settings, "month", 1)  # re-resolves when the settings changed
    by_key = _people_by_key(db, rows)
    fam = frozenset(r.person for r in rows if r.family and r.person is not None)
    owners: dict[int, frozenset[int]] = {}
    for key, persons in by_key.items():
        if key is None:
            continue
        assert None not in persons or (family_joined and persons - {None} == set(fam)), (key, persons)
        owners[key] = frozenset(p for p in persons if p is not None)
        assert len(owners[key]) == 1 or (family_joined and owners[key] == fam), (key, persons)
    everyone = {r.person for r in rows if r.person is not None and r.own}
    per_person = Counter(p for who in owners.values() for p in who)
    assert set(per_person) == everyone
    assert max(per_person.values()) == 1, "a person under two keys"
    assert _monthly(db, settings, owners) == messy_desk.expected_monthly(rows, family_joined=family_joined)
    return owners


def test_the_messy_desk_is_what_it_claims() -> None:
    """The generator's numbers: foreign and US numbers valid, the invalid ones invalid (for phonenumbers)."""
    folks, rows = messy_desk.generate()
    assert len(folks) == 60
    for p in folks:
        assert phonenumbers.is_valid_number(phonenumbers.parse(p.e164))
        if p.foreign:
            assert phonenumbers.is_valid_number(phonenumbers.parse(p.foreign))
    for raw in messy_desk.INVALID_PHONES:
        assert not phonenumbers.is_valid_number(phonenumbers.parse(raw, "US"))
    assert {r.batch for r in rows} == {0, 1, 2}


def test_one_key_per_person_before_and_after_a_deny_list_change(messy, tmp_path: Path) -> None:
    _, rows, _ = messy
    paths = messy_desk.write_batches(tmp_path, rows, batches=4)  # the last: the family number's rows
    db = tmp_path / "messy.duckdb"
    plain = Settings()
    _import(db, paths[:-1], plain)
    key_of = {p: k for k, who in _keys(db, rows).items() for p in who}
    _import(db, paths[-1:], plain)  # the family number arrives, beside both people
    before = _check(db, rows, plain, family_joined=True)
    report = desk.identities(db, plain)
    hubs = {h["identifier"]: h["people"] for h in report["hubs"]}
    assert hubs == {"phone:+12125550100": 8, "email:frontdesk@example.com": 7}
    assert report["people"] == 59  # 60 people, two of them joined by the family number
    (fam_key,) = [k for k, who in before.items() if len(who) == 2]
    a, b = sorted(before[fam_key], key=lambda p: key_of[p])
    assert fam_key == key_of[a] < key_of[b]  # the smaller key survived the join

    denied = Settings(deny_list=("phone:" + messy_desk.FAMILY,))
    after = _check(db, rows, denied, family_joined=False)
    assert desk.identities(db, denied)["people"] == 60
    # The pair came apart, each with the key they had before the family number joined them;
    # everyone else kept theirs.
    assert after == {key_of[p]: frozenset({p}) for who in before.values() for p in who}
    # And back: taking the entry off joins them again under the smaller key.
    assert _check(db, rows, plain, family_joined=True) == before


def _keys(db: Path, rows: list[messy_desk.Row]) -> dict[int, set[int]]:
    """Key -> the people behind it, from the contacts stored so far (one each)."""
    truth = {r.contact_id: r.person for r in rows if r.own}
    with open_store(db, create=False) as store:
        keys = store.con.execute("SELECT contact_id, customer_key FROM contacts WHERE customer_key IS NOT NULL")
        out: dict[int, set[int]] = {}
        for contact_id, key in keys.fetchall():
            if truth.get(contact_id) is not None:
                out.setdefault(key, set()).add(truth[contact_id])
    assert all(len(who) == 1 for who in out.values())
    return out


def test_the_same_desk_in_one_batch_gives_the_same_people(messy, tmp_path: Path) -> None:
    """Several import batches or one: the same people, the same counts."""
    _, rows, _ = messy
    (one,) = messy_desk.write_batches(tmp_path, rows, batches=1)
    db = tmp_path / "one.duckdb"
    _import(db, [one], Settings())
    _check(db, rows, Settings(), family_joined=True)


@pytest.mark.slow
@settings(max_examples=examples(6), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10_000), n_people=st.integers(30, 60), batches=st.integers(1, 3))
def test_generated_messy_desks(tmp_path: Path, seed: int, n_people: int, batches: int) -> None:
    """Property: for generated desks (shared numbers, placeholders, foreign numbers, several
    batches) one key per person and exact monthly counts, before and after the deny-list change."""
    _, rows = messy_desk.generate(seed=seed, n_people=n_people, batches=batches)
    folder = tmp_path / f"d{seed}-{n_people}-{batches}"
    folder.mkdir()
    db = folder / "store.duckdb"
    _import(db, messy_desk.write_batches(folder, rows, batches=batches), Settings())
    _check(db, rows, Settings(), family_joined=True)
    _check(db, rows, Settings(deny_list=("phone:" + messy_desk.FAMILY,)), family_joined=False)
