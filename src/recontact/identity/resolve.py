"""Connected components over identifiers seen together: one component is one person.

Resolution always starts from every link ever seen on one record (so changing the hygiene settings
can take people apart again), leaves out identifiers that identify no one (invalid, placeholders,
deny-listed), and drops hubs: an identifier that would join more than ``max_links`` otherwise
separate people (a switchboard, a shared mailbox) joins no one.

Hubs, exactly and deterministically: candidates are identifiers with more than ``max_links``
distinct neighbours; components are computed without the candidates; a candidate is a hub when
its neighbours span more than ``max_links`` of those components (a neighbour that is itself a
candidate counts as one more); the final components are computed without the hubs.

Keys are stable and never given to someone else. A component takes the smallest of the keys that
call it home; a key's home is, among the components holding identifiers of that key, one holding
an identifier that first had that key (so a part joined to it later does not take it), then the
one with most contacts, then the one with the first-seen identifier. Other keys homed there are
merged into it. A component holding a key's identifiers without being its home is split off: it
takes back the first key of its identifiers when no one else holds that key (so undoing a join
gives both people their keys back), else a new key. Components with no key get new keys from
``next_key``, in order of their first-seen identifier (node number).

The work is vectorised (NumPy + SciPy's ``connected_components``) so that millions of links
resolve in about a second; :func:`resolve_links` is the same on Python strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass
class People:
    """Per node: its key (``target``, 0 for none), whether it is a hub and how many people it
    touches; key events (``old -> new``, kind ``merge`` / ``split`` / ``gone`` with new 0); and
    the first key still unused."""

    target: IntArray
    hub: BoolArray
    touches: IntArray
    events: list[tuple[int, int, str]]
    next_key: int


def _components(n: int, a: IntArray, b: IntArray) -> IntArray:
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return np.asarray(connected_components(graph, directed=False)[1], dtype=np.int64)


def _distinct_per_node(nodes: IntArray, labels: IntArray, n: int) -> IntArray:
    """For each node: how many distinct ``labels`` it is paired with."""
    if len(nodes) == 0:
        return np.zeros(n, dtype=np.int64)
    pairs = _unique_pairs(nodes, labels)
    return np.bincount(pairs[:, 0], minlength=n).astype(np.int64)


def _unique(values: IntArray) -> IntArray:
    """The distinct values, sorted: ``np.unique`` by one sort (NumPy 2.4's ``np.unique`` hashes
    integers, some 40 times slower at a million of them)."""
    ordered = np.sort(values)
    if len(ordered) < 2:
        return ordered
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    return ordered[first]


def _contains(ordered: IntArray, values: IntArray) -> BoolArray:
    """Whether each of ``values`` is in the sorted array ``ordered`` (``np.isin`` without its slow
    ``np.unique``)."""
    if len(ordered) == 0:
        return np.zeros(len(values), dtype=bool)
    at = np.minimum(np.searchsorted(ordered, values), len(ordered) - 1)
    return np.asarray(ordered[at] == values)


def _unique_pairs(x: IntArray, y: IntArray) -> IntArray:
    """The distinct (x, y) pairs of non-negative integers, sorted (one 1-D sort: several times
    faster than ``np.unique(axis=0)``)."""
    width = int(y.max(initial=0)) + 1
    codes = _unique(x * width + y)
    return np.stack([codes // width, codes % width], axis=1)


def find_hubs(n: int, a: IntArray, b: IntArray, max_links: int) -> BoolArray:
    """Nodes that would join more than ``max_links`` otherwise separate components (see the module
    docstring). ``a``/``b`` are distinct undirected edges between included nodes."""
    both_a, both_b = np.concatenate([a, b]), np.concatenate([b, a])
    degree = _distinct_per_node(both_a, both_b, n)
    candidate = degree > max_links
    if not candidate.any():
        return candidate
    keep = ~candidate[a] & ~candidate[b]
    comp = _components(n, a[keep], b[keep])
    from_candidate = candidate[both_a]
    src, dst = both_a[from_candidate], both_b[from_candidate]
    label = np.where(candidate[dst], comp.max(initial=0) + 1 + dst, comp[dst])  # candidates: their own
    return candidate & (_distinct_per_node(src, label, n) > max_links)


def resolve_people(n: int, a: IntArray, b: IntArray, excluded: BoolArray, known: IntArray, weight: IntArray,
                   max_links: int, next_key: int, first: IntArray | None = None) -> People:
    """Resolve nodes ``0..n-1`` (numbered in order of first sighting) linked by edges ``a[i] -- b[i]``.

    ``excluded`` nodes identify no one; ``known[node]`` is the node's key so far (0: none);
    ``weight[node]`` its number of contacts; ``first[node]`` the first key it had (0: none). See
    the module docstring for hubs and keys.
    """
    first = np.zeros(n, dtype=np.int64) if first is None else np.asarray(first, dtype=np.int64)
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    known, weight = np.asarray(known, dtype=np.int64), np.asarray(weight, dtype=np.int64)
    excluded = np.asarray(excluded, dtype=bool)
    inside = ~excluded[a] & ~excluded[b] & (a != b)
    a, b = a[inside], b[inside]
    if len(a):
        pairs = _unique_pairs(np.minimum(a, b), np.maximum(a, b))
        a, b = pairs[:, 0], pairs[:, 1]
    hub = find_hubs(n, a, b, max_links)
    keep = ~hub[a] & ~hub[b]
    comp = _components(n, a[keep], b[keep])
    person = ~excluded & ~hub
    # People a hub touches: distinct components among its neighbours that are people.
    both_a, both_b = np.concatenate([a, b]), np.concatenate([b, a])
    sel = hub[both_a] & person[both_b]
    touches = np.where(hub, _distinct_per_node(both_a[sel], comp[both_b[sel]], n), 0)

    # Each known key's home: a part holding an identifier native to the key, then most contacts,
    # then the smallest label.
    keyed = np.flatnonzero(person & (known > 0))
    none = np.iinfo(np.int64).max
    comp_key = np.full(comp.max(initial=-1) + 1, none, dtype=np.int64)
    home_k = home_c = pair_k = pair_c = np.empty(0, dtype=np.int64)
    if len(keyed):
        pairs = _unique_pairs(known[keyed], comp[keyed])
        pair_k, pair_c = pairs[:, 0], pairs[:, 1]
        codes = pair_k * (comp.max() + 1) + pair_c
        at = np.searchsorted(codes, known[keyed] * (comp.max() + 1) + comp[keyed])
        mass = np.bincount(at, weights=weight[keyed], minlength=len(codes))
        native = np.bincount(at, weights=(first[keyed] == known[keyed]), minlength=len(codes)) > 0
        order = np.lexsort((pair_c, -mass, ~native, pair_k))
        best = np.ones(len(order), dtype=bool)
        best[1:] = pair_k[order[1:]] != pair_k[order[:-1]]
        home_k, home_c = pair_k[order[best]], pair_c[order[best]]  # sorted by key
        np.minimum.at(comp_key, home_c, home_k)  # the smallest key homed in a component wins it
    comp_key[comp_key == none] = 0
    # Parts split off (or identifiers back after an exclusion) take back their first key when free.
    labels_of_people = _unique(comp[person])
    claims = np.full(len(comp_key), none, dtype=np.int64)
    with_first = np.flatnonzero(person & (first > 0))
    np.minimum.at(claims, comp[with_first], first[with_first])
    claimants = labels_of_people[(comp_key[labels_of_people] == 0) & (claims[labels_of_people] != none)]
    if len(claimants):
        held = set(comp_key[comp_key > 0].tolist())
        for c in claimants.tolist():
            if int(claims[c]) not in held:
                comp_key[c] = claims[c]
                held.add(int(claims[c]))
    # New keys for components of people with none, in order of their smallest node.
    fresh = labels_of_people[comp_key[labels_of_people] == 0]
    comp_key[fresh] = next_key + np.arange(len(fresh), dtype=np.int64)
    target = np.where(person, comp_key[comp], 0)
    merged = comp_key[home_c] != home_k
    events: list[tuple[int, int, str]] = [
        (k, v, "merge") for k, v in zip(home_k[merged].tolist(), comp_key[home_c[merged]].tolist(), strict=True)]
    if len(pair_k):
        away = home_c[np.searchsorted(home_k, pair_k)] != pair_c
        events += [(k, v, "split") for k, v in zip(pair_k[away].tolist(), comp_key[pair_c[away]].tolist(),
                                                    strict=True)]
    keys_known = _unique(known[known > 0])
    gone = keys_known[~_contains(home_k, keys_known)]
    events += [(k, 0, "gone") for k in gone.tolist()]
    return People(target, hub, touches.astype(np.int64), events, next_key + len(fresh))


@dataclass
class Resolution:
    """What resolution gives identifiers: their keys (None: identifies no one), the hubs with the
    people they touch, key events, and the next unused key."""

    keys: dict[str, int | None] = field(default_factory=dict)
    hubs: dict[str, int] = field(default_factory=dict)
    events: list[tuple[int, int, str]] = field(default_factory=list)
    next_key: int = 1


def resolve_links(links: Iterable[tuple[str, str]], known: Mapping[str, int], next_key: int, *,
                  excluded: Iterable[str] = (), weight: Mapping[str, int] | None = None,
                  max_links: int = 5, order: Iterable[str] = (), first: Mapping[str, int] | None = None) -> Resolution:
    """:func:`resolve_people` on ``kind:value`` strings. Nodes are numbered in ``order`` (first
    sighting), then in sorted order for any not listed."""
    pairs = list(links)
    ordered = list(dict.fromkeys(order))
    rest = sorted(({n for pair in pairs for n in pair} | set(known) | set(excluded)) - set(ordered))
    nodes = ordered + rest
    index = {n: i for i, n in enumerate(nodes)}
    out = set(excluded)
    res = resolve_people(
        len(nodes), np.array([index[x] for x, _ in pairs], dtype=np.int64),
        np.array([index[y] for _, y in pairs], dtype=np.int64), np.array([n in out for n in nodes], dtype=bool),
        np.array([known.get(n, 0) for n in nodes], dtype=np.int64),
        np.array([(weight or {}).get(n, 1) for n in nodes], dtype=np.int64), max_links, next_key,
        np.array([(first or {}).get(n, 0) for n in nodes], dtype=np.int64))
    keys = {n: (int(t) or None) for n, t in zip(nodes, res.target.tolist(), strict=True)}
    hubs = {n: int(t) for n, h, t in zip(nodes, res.hub.tolist(), res.touches.tolist(), strict=True) if h}
    return Resolution(keys, hubs, res.events, res.next_key)
