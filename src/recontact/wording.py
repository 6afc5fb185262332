"""How counts read in notes and titles."""

from __future__ import annotations


def plural(count: int, noun: str) -> str:
    """``1 contact``, ``2,000 contacts``: the count with thousands separators and the noun in the
    number it takes (a regular plural: the noun plus ``s``)."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
