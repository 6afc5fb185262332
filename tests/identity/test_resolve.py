"""Identity resolution (DESIGN.md, "Concepts": Customer — "identifiers seen together on one record
... are the same customer"; Identifier hygiene — "an identifier that would join more than a
handful of otherwise separate people ... is a hub and joins no one"), checked against a
brute-force reference written from the issue's wording.

``resolve_links(links, known, next_key, excluded=, max_links=, weight=)`` must: put two
identifiers under one key exactly when links not through excluded identifiers or hubs connect
them; find hubs as the issue defines them; keep the smallest key that calls a component home when
it merges people; give the part of a split with most contacts the old key; give people with no
known key new keys, consecutive from ``next_key``; never hand out a known key again.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from recontact.identity.resolve import resolve_links
from reference import groups_of
from reference import hubs as brute_hubs

IDENTS = tuple(f"phone:+1415555{n:04d}" for n in range(7)) + tuple(f"email:u{n}@example.com" for n in range(7))


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[tuple[str, str]], dict[str, int], int, set[str], int, dict[str, int]]:
    ident = st.sampled_from(IDENTS)
    links = draw(st.lists(st.tuples(ident, ident), max_size=20))
    known = draw(st.dictionaries(ident, st.sampled_from((1, 2, 3, 5, 8, 9)), max_size=10))
    next_key = max(known.values(), default=0) + 1 + draw(st.integers(0, 3))
    excluded = draw(st.sets(ident, max_size=3))
    max_links = draw(st.integers(1, 4))
    weight = draw(st.dictionaries(ident, st.integers(1, 9)))
    return links, known, next_key, excluded, max_links, weight


def _people(links: list[tuple[str, str]], known: Mapping[str, int], excluded: set[str],
            hubs: set[str]) -> list[set[str]]:
    out = excluded | hubs
    nodes = ({n for pair in links for n in pair} | set(known)) - out
    return groups_of(nodes, [(a, b) for a, b in links if not {a, b} & out])


@settings(max_examples=examples(400), deadline=None)
@given(case=cases())
def test_people_are_the_components_without_hubs_and_excluded(case) -> None:  # type: ignore[no-untyped-def]
    """Customer: identifiers linked (not through an excluded identifier or a hub) are one person,
    others are not; hubs are exactly the issue's; excluded identifiers and hubs have no key."""
    links, known, next_key, excluded, max_links, weight = case
    res = resolve_links(links, known, next_key, excluded=excluded, max_links=max_links, weight=weight)
    hubs = brute_hubs(links, excluded, max_links)
    assert set(res.hubs) == hubs
    for n in excluded | hubs:
        assert res.keys.get(n) is None
    people = _people(links, known, excluded, hubs)
    for g in people:
        assert len({res.keys[n] for n in g}) == 1
        assert None not in {res.keys[n] for n in g}
    assert len({res.keys[next(iter(g))] for g in people}) == len(people)


@settings(max_examples=examples(400), deadline=None)
@given(case=cases())
def test_keys_are_stable_and_never_reused(case) -> None:  # type: ignore[no-untyped-def]
    """Stable keys: a person keeps a known key; when several keys meet, the smallest survives and
    the others are recorded as merged into it; the part of a split with most contacts keeps the
    key; new people get keys consecutively from next_key."""
    links, known, next_key, excluded, max_links, weight = case
    res = resolve_links(links, known, next_key, excluded=excluded, max_links=max_links, weight=weight)
    people = _people(links, known, excluded, brute_hubs(links, excluded, max_links))
    # Each known key's home: the person holding most of its identifiers' contacts (ties: the person
    # with the first identifier; nodes are numbered in sorted order here).
    home: dict[int, int] = {}
    for k in sorted(set(known.values())):
        mass = {i: sum(weight.get(n, 1) for n in g if known.get(n) == k) for i, g in enumerate(people)}
        holding = [i for i, m in mass.items() if m > 0]
        if holding:
            home[k] = min(holding, key=lambda i: (-mass[i], min(people[i])))
    fresh = []
    for i, g in enumerate(people):
        key = res.keys[next(iter(g))]
        homed = [k for k, h in home.items() if h == i]
        if homed:
            assert key == min(homed)
        else:
            assert key is not None and key >= next_key
            fresh.append(key)
    assert sorted(fresh) == list(range(next_key, next_key + len(fresh)))
    assert res.next_key == next_key + len(fresh)
    merged = {(old, new) for old, new, kind in res.events if kind == "merge"}
    assert merged == {(k, res.keys[next(iter(people[h]))]) for k, h in home.items()
                      if res.keys[next(iter(people[h]))] != k}
    gone = {old for old, _, kind in res.events if kind == "gone"}
    assert gone == set(known.values()) - set(home)


def test_no_links_no_change() -> None:
    """Nothing seen together: nothing to assign or merge; next_key unchanged."""
    res = resolve_links([], {}, 7)
    assert (res.keys, res.events, res.next_key) == ({}, [], 7)


def test_a_record_joining_two_customers_merges_into_the_older_key() -> None:
    """Customer keys: a phone known as C4 and an e-mail known as C2 seen on one record become C2;
    C4 is recorded as merged into C2."""
    res = resolve_links([("phone:+14155550100", "email:a@example.com")],
                        {"phone:+14155550100": 4, "email:a@example.com": 2}, 10)
    assert res.keys == {"phone:+14155550100": 2, "email:a@example.com": 2}
    assert res.events == [(4, 2, "merge")]
    assert res.next_key == 10


def test_a_switchboard_joins_no_one_and_a_split_keeps_the_key_with_most_contacts() -> None:
    """Hubs: a number seen beside six people (max_links 5) joins none of them; the person with most
    contacts keeps the key they shared, the others get new keys, recorded as splits."""
    board = "phone:+14155550100"
    people = [f"email:p{i}@example.com" for i in range(6)]
    known = {board: 1, **dict.fromkeys(people, 1)}
    weight = {p: 1 for p in people} | {people[3]: 9}
    res = resolve_links([(board, p) for p in people], known, 2, weight=weight, order=[board, *people])
    assert res.hubs == {board: 6}
    assert res.keys[board] is None
    assert res.keys[people[3]] == 1
    assert [res.keys[p] for p in people if p != people[3]] == [2, 3, 4, 5, 6]
    assert sorted(res.events) == [(1, k, "split") for k in (2, 3, 4, 5, 6)]


def test_five_people_behind_one_number_are_not_a_hub() -> None:
    """Hubs join more than max_links people: at exactly max_links the number still joins them."""
    board = "phone:+14155550100"
    people = [f"email:p{i}@example.com" for i in range(5)]
    res = resolve_links([(board, p) for p in people], {}, 1)
    assert res.hubs == {}
    assert {res.keys[p] for p in [board, *people]} == {1}
