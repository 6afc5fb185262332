"""Connected components over identifiers seen together: one component is one customer.

Customer keys are integers handed out as customers appear and never reused. When a new record
joins two known customers, the smaller (older) key survives and the other is merged into it, so a
key a user has seen keeps pointing at the same person. Identifiers that already share a key stay
together even when no new record links them.

The work is vectorised (NumPy + SciPy's ``connected_components``) so that millions of links
resolve in well under a second; :func:`resolve_links` is the same on Python strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

IntArray = npt.NDArray[np.int64]


@dataclass
class Components:
    """Per node: the customer key it ends with (``target``); the keys retired by merges
    (``merged_old`` -> ``merged_new``); and the first key still unused."""

    target: IntArray
    merged_old: IntArray
    merged_new: IntArray
    next_key: int


def resolve_components(n_nodes: int, a: IntArray, b: IntArray, known: IntArray, next_key: int) -> Components:
    """Resolve nodes ``0..n_nodes-1`` linked by edges ``a[i] -- b[i]``.

    ``known[node]`` is the node's current customer key, or 0 for none. A component takes the
    smallest known key among its nodes; components with none get new keys from ``next_key`` on,
    in order of their smallest node number.
    """
    a = np.asarray(a, dtype=np.int64)
    b = np.asarray(b, dtype=np.int64)
    known = np.asarray(known, dtype=np.int64)
    keyed = np.flatnonzero(known > 0)
    # Tie every node to the first node holding the same key: one customer stays one.
    _, first = np.unique(known[keyed], return_index=True)
    anchor_of_key = dict(zip(known[keyed][first].tolist(), keyed[first].tolist(), strict=True))
    anchors = np.array([anchor_of_key[k] for k in known[keyed].tolist()], dtype=np.int64)
    rows = np.concatenate([a, keyed])
    cols = np.concatenate([b, anchors])
    graph = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols)), shape=(n_nodes, n_nodes))
    n_comp, comp = connected_components(graph, directed=False)
    comp = comp.astype(np.int64)
    big = np.iinfo(np.int64).max
    comp_key = np.full(n_comp, big, dtype=np.int64)
    np.minimum.at(comp_key, comp[keyed], known[keyed])
    fresh = np.flatnonzero(comp_key == big)  # labels are numbered in order of their smallest node
    comp_key[fresh] = next_key + np.arange(len(fresh), dtype=np.int64)
    target = comp_key[comp]
    moved = keyed[known[keyed] != target[keyed]]
    pairs = np.unique(np.stack([known[moved], target[moved]], axis=1), axis=0) if len(moved) else \
        np.empty((0, 2), dtype=np.int64)
    return Components(target, pairs[:, 0], pairs[:, 1], next_key + len(fresh))


@dataclass
class Resolution:
    """What a batch of linked identifiers changes: keys for identifiers, and merged keys."""

    assigned: dict[str, int] = field(default_factory=dict)  # identifier -> key (new or changed)
    merged: dict[int, int] = field(default_factory=dict)  # retired key -> surviving key
    next_key: int = 1


def resolve_links(links: Iterable[tuple[str, str]], known: Mapping[str, int], next_key: int) -> Resolution:
    """Join identifiers that appear on one record.

    ``links`` are pairs of ``kind:value`` identifiers seen together; ``known`` maps already-keyed
    identifiers to their customer key; ``next_key`` is the first unused key. New keys go to new
    customers in the order of their smallest identifier.
    """
    pairs = list(links)
    nodes = sorted({n for pair in pairs for n in pair} | set(known))
    index = {n: i for i, n in enumerate(nodes)}
    a = np.array([index[x] for x, _ in pairs], dtype=np.int64)
    b = np.array([index[y] for _, y in pairs], dtype=np.int64)
    keys = np.array([known.get(n, 0) for n in nodes], dtype=np.int64)
    res = resolve_components(len(nodes), a, b, keys, next_key)
    assigned = {n: int(t) for n, t in zip(nodes, res.target.tolist(), strict=True) if known.get(n) != t}
    merged = dict(zip(res.merged_old.tolist(), res.merged_new.tolist(), strict=True))
    return Resolution(assigned, merged, res.next_key)
