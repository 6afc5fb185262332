"""The deny-list: identifiers of any kind that never identify anyone (switchboards, reception, a
shared mailbox, the desk's own lines).

Entries are written ``kind:value`` (``phone:+1 415 555 0100``, ``email:help@example.com``,
``account:0``, ``extension:1000``, ``employee:E-1``) and normalised as imports normalise that
kind. A bare entry keeps its older meaning: an e-mail address when it has ``@``, else a caller id
(a phone number or an extension).
"""

from __future__ import annotations

from collections.abc import Iterable

from recontact.identity.email import normalize_email
from recontact.identity.phone import classify_caller_id
from recontact.schema import IDENTIFIER_KINDS


def deny_list_identifier(entry: str, region: str, placeholders: tuple[str, ...] = ()) -> str | None:
    """The ``kind:value`` identifier an entry names, or None when it names none (a withheld id,
    an invalid number)."""
    kind, sep, value = entry.partition(":")
    kind = kind.strip().lower()
    if not sep or kind not in IDENTIFIER_KINDS:
        if "@" in entry:
            return f"email:{normalize_email(entry)}"
        return classify_caller_id(entry, region, placeholders).identifier
    value = value.strip()
    if kind == "phone":
        cid = classify_caller_id(value, region, placeholders)
        return cid.identifier if cid.kind == "phone" else None
    if kind == "email":
        email = normalize_email(value)
        return f"email:{email}" if email else None
    if kind == "extension":
        return f"extension:{value.casefold()}" if value else None
    return f"{kind}:{value}" if value else None


def deny_list_identifiers(entries: Iterable[str], region: str, placeholders: Iterable[str] = ()) -> list[str]:
    """The ``kind:value`` identifier of each entry that names one."""
    extra = tuple(placeholders)
    return [i for i in (deny_list_identifier(e, region, extra) for e in entries) if i]
