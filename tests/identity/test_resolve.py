"""Identity resolution (DESIGN.md, "Concepts": Customer — "identifiers seen together on one record
... are the same customer"), checked against a brute-force connected-components reference.

``resolve_links(links, known, next_key)`` must: put two identifiers under one key exactly when
they are connected by links or already share a key; keep the smallest known key when it merges
customers (so a key a user has seen keeps pointing at the same person); give customers with no
known key new keys, consecutive from ``next_key``; report only identifiers whose key changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from hypothesis import given, settings
from hypothesis import strategies as st

from recontact.identity.resolve import resolve_links

IDENTS = tuple(f"phone:+1415555{n:04d}" for n in range(6)) + tuple(f"email:u{n}@example.com" for n in range(6))


def components(links: list[tuple[str, str]], known: Mapping[str, int]) -> list[set[str]]:
    """Brute force: one set per identifier, merged while any link or shared key joins two sets."""
    groups = [{n} for n in sorted({x for pair in links for x in pair} | set(known))]
    edges = list(links) + [(a, b) for a in known for b in known if known[a] == known[b]]
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            ga = next(g for g in groups if a in g)
            gb = next(g for g in groups if b in g)
            if ga is not gb:
                ga |= gb
                groups.remove(gb)
                changed = True
    return groups


@st.composite
def resolutions(draw: st.DrawFn) -> tuple[list[tuple[str, str]], dict[str, int], int]:
    """Random links among a dozen identifiers; some already keyed (several may share a key, keys
    need not be consecutive); next_key above every known key."""
    ident = st.sampled_from(IDENTS)
    links = draw(st.lists(st.tuples(ident, ident), max_size=12))
    known = draw(st.dictionaries(ident, st.sampled_from((1, 2, 3, 5, 8, 9)), max_size=8))
    next_key = max(known.values(), default=0) + 1 + draw(st.integers(0, 3))
    return links, known, next_key


@settings(max_examples=400, deadline=None)
@given(case=resolutions())
def test_resolve_links_matches_connected_components(case: tuple[list[tuple[str, str]], dict[str, int], int]) -> None:
    """Customer: identifiers seen together (links) or already one customer (same key) end under one
    key, and identifiers in different components under different keys."""
    links, known, next_key = case
    res = resolve_links(links, known, next_key)
    final = {n: res.assigned.get(n, known.get(n)) for g in components(links, known) for n in g}
    assert None not in final.values()
    groups = components(links, known)
    for g in groups:
        assert len({final[n] for n in g}) == 1
    assert len({final[next(iter(g))] for g in groups}) == len(groups)


@settings(max_examples=400, deadline=None)
@given(case=resolutions())
def test_merges_keep_the_smallest_known_key(case: tuple[list[tuple[str, str]], dict[str, int], int]) -> None:
    """Customer keys: when a record joins known customers, the smallest (oldest) key survives and
    every other key of that component is reported merged into it; no retired key stays in use."""
    links, known, next_key = case
    res = resolve_links(links, known, next_key)
    expected_merged: dict[int, int] = {}
    for g in components(links, known):
        keys = {known[n] for n in g if n in known}
        if keys:
            survivor = min(keys)
            assert {res.assigned.get(n, known.get(n)) for n in g} == {survivor}
            expected_merged |= {k: survivor for k in keys if k != survivor}
    assert res.merged == expected_merged
    final = {n: res.assigned.get(n, known.get(n)) for g in components(links, known) for n in g}
    assert not set(res.merged) & set(final.values())
    # Identifiers of a retired key that were not in this batch follow it through ``merged``.
    assert all(res.merged.get(k, k) == final[n] for n, k in known.items())


@settings(max_examples=400, deadline=None)
@given(case=resolutions())
def test_new_customers_get_consecutive_keys_from_next_key(
        case: tuple[list[tuple[str, str]], dict[str, int], int]) -> None:
    """Customer keys are handed out from next_key, consecutively, one per new customer, never
    reusing a known key; only identifiers whose key is new or changed are reported."""
    links, known, next_key = case
    res = resolve_links(links, known, next_key)
    new = [g for g in components(links, known) if not any(n in known for n in g)]
    new_keys = {res.assigned[next(iter(g))] for g in new}
    assert new_keys == set(range(next_key, next_key + len(new)))
    assert res.next_key == next_key + len(new)
    assert not new_keys & set(known.values())
    assert all(known.get(n) != k for n, k in res.assigned.items())


def test_no_links_no_change() -> None:
    """Nothing seen together: nothing to assign or merge; next_key unchanged."""
    res = resolve_links([], {}, 7)
    assert (res.assigned, res.merged, res.next_key) == ({}, {}, 7)


def test_a_record_joining_two_customers_merges_into_the_older_key() -> None:
    """Customer keys: a phone known as C4 and an e-mail known as C2 seen on one record become C2;
    C4 is retired into C2."""
    res = resolve_links([("phone:+14155550100", "email:a@example.com")],
                        {"phone:+14155550100": 4, "email:a@example.com": 2}, 10)
    assert res.assigned == {"phone:+14155550100": 2}
    assert res.merged == {4: 2}
    assert res.next_key == 10


def test_identifiers_sharing_a_key_stay_together_without_a_new_link() -> None:
    """Customer: identifiers already one customer stay one even when the new record links only one
    of them (to a new identifier)."""
    res = resolve_links([("phone:+14155550100", "account:A-1")],
                        {"phone:+14155550100": 3, "email:a@example.com": 3}, 5)
    assert res.assigned == {"account:A-1": 3}
    assert res.merged == {}
