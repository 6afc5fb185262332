"""Union-find over identifiers seen together: one component is one customer.

Customer keys are integers handed out in order of first sighting and never reused. When a new
record joins two known customers, the smaller (older) key survives and the other is merged into
it, so a key a user has seen keeps pointing at the same person.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


class UnionFind:
    """Disjoint sets over hashable items, with path halving and union by size."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._size: dict[str, int] = {}

    def add(self, item: str) -> None:
        if item not in self._parent:
            self._parent[item] = item
            self._size[item] = 1

    def find(self, item: str) -> str:
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: str, b: str) -> None:
        self.add(a)
        self.add(b)
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return
        if self._size[ra] < self._size[rb]:
            ra, rb = rb, ra
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for item in self._parent:
            out.setdefault(self.find(item), []).append(item)
        return out


@dataclass
class Resolution:
    """What a batch of linked identifiers changes: keys for identifiers, and merged keys."""

    assigned: dict[str, int] = field(default_factory=dict)  # identifier -> key (new or changed)
    merged: dict[int, int] = field(default_factory=dict)  # retired key -> surviving key
    next_key: int = 1


def resolve_links(links: Iterable[tuple[str, str]], known: Mapping[str, int], next_key: int) -> Resolution:
    """Join identifiers that appear on one record.

    ``links`` are pairs of ``kind:value`` identifiers seen together; ``known`` maps already-keyed
    identifiers (those among the links) to their customer key; ``next_key`` is the first unused key.
    """
    uf = UnionFind()
    for a, b in links:
        uf.union(a, b)
    # Identifiers already sharing a key are one customer even when no new link joins them.
    for ident, key in known.items():
        uf.union(ident, f"\0key:{key}")
    out = Resolution(next_key=next_key)
    for group in sorted(uf.groups().values(), key=min):
        members = [m for m in group if not m.startswith("\0")]
        keys = {known[m] for m in members if m in known}
        if keys:
            target = min(keys)
            out.merged.update({k: target for k in keys if k != target})
        else:
            target = out.next_key
            out.next_key += 1
        out.assigned.update({m: target for m in members if known.get(m) != target})
    return out
