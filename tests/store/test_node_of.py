"""``node_of``: the index of each wanted seq among the stored ones, through the lookup table or,
past its span, by binary search; both ways give the same answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from recontact.store import identities


@pytest.mark.parametrize("span", [0, 1 << 28])  # 0: every call takes the binary search
@given(seqs=st.sets(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=300),
       picks=st.lists(st.integers(min_value=0, max_value=10**6), max_size=500))
def test_node_of_is_each_seqs_index(span: int, seqs: set[int], picks: list[int]) -> None:
    ordered = sorted(seqs)
    wanted = [ordered[p % len(ordered)] for p in picks]
    original = identities._LOOKUP_SPAN
    identities._LOOKUP_SPAN = span
    try:
        got = identities.node_of(np.array(ordered, dtype=np.int64), np.array(wanted, dtype=np.int64))
    finally:
        identities._LOOKUP_SPAN = original
    assert got.tolist() == [ordered.index(w) for w in wanted]
