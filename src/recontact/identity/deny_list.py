"""The deny-list of shared lines: numbers and addresses that never identify anyone."""

from __future__ import annotations

from collections.abc import Iterable

from recontact.identity.email import normalize_email
from recontact.identity.phone import classify_caller_id


def deny_list_identifiers(entries: Iterable[str], region: str) -> list[str]:
    """``kind:value`` form of each entry: e-mail addresses (anything with ``@``), phone numbers in
    E.164, other caller ids as extensions; withheld-looking entries are dropped."""
    out = []
    for entry in entries:
        ident = f"email:{normalize_email(entry)}" if "@" in entry else classify_caller_id(entry, region).identifier
        if ident:
            out.append(ident)
    return out
