"""Phone numbers and caller ids: E.164 via ``phonenumbers``, extensions kept, withheld ids spotted.

``phonenumbers`` is the authority. Because it costs ~10 µs a number, bulk imports first apply
:func:`nanp_fast_path_sql`, an SQL spelling of what ``phonenumbers`` answers for plain North
American numbers (property-tested equal in ``tests/identity/test_phone.py``); every other
distinct raw value goes through :func:`classify_caller_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers

from recontact.schema import WITHHELD_WORDS

CallerIdKind = Literal["phone", "extension", "withheld"]

#: Formatting characters people and phone systems put inside numbers.
_FORMATTING = re.compile(r"[\s().\-/]")
_ALL_ZEROS = re.compile(r"^\+?0+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


@dataclass(frozen=True, slots=True)
class CallerId:
    """A classified caller id: ``kind`` phone (``value`` is E.164), extension (``value`` is the
    case-folded raw id, e.g. an internal extension or SIP user), or withheld (``value`` None)."""

    kind: CallerIdKind
    value: str | None

    @property
    def identifier(self) -> str | None:
        """The ``kind:value`` string, or None when withheld."""
        return None if self.value is None else f"{self.kind}:{self.value}"


def is_withheld(raw: str | None) -> bool:
    """True for caller ids that mean "no caller id": anonymous, restricted, empty, all zeros…"""
    if raw is None:
        return True
    text = raw.strip().lower()
    return text in WITHHELD_WORDS or bool(_ALL_ZEROS.match(_FORMATTING.sub("", text)))


@lru_cache(maxsize=65536)
def classify_caller_id(raw: str | None, region: str = "US") -> CallerId:
    """Classify one raw caller id. Phone numbers are parsed in ``region`` when they carry no
    country code and must be of a possible length for their country; anything else that is not
    withheld (``client1``, ``1234``, ``sip:alice@pbx``) is an extension."""
    if is_withheld(raw):
        return CallerId("withheld", None)
    assert raw is not None
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and (
        phonenumbers.is_possible_number_with_reason(number) == phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if _E164.match(e164):
            return CallerId("phone", e164)
    return CallerId("extension", text.casefold())


def normalize_phone(raw: str | None, region: str = "US") -> str | None:
    """E.164 for a phone number, None for anything else."""
    cid = classify_caller_id(raw, region)
    return cid.value if cid.kind == "phone" else None


def strip_formatting_sql(column: str) -> str:
    """SQL: the caller id lower-cased with spaces, dots, dashes, slashes and brackets removed
    (not tabs or line breaks, which ``phonenumbers`` does not accept inside a number)."""
    out = f"lower({column})"
    for ch in " ().-/":  # nested replace(): several times faster than one regexp_replace
        out = f"replace({out}, '{ch}', '')"
    return out


def nanp_fast_path_sql(column: str, region: str) -> str:
    """SQL giving the E.164 form of plain US numbers (``(415) 555-0134``, ``+1 415.555.0134``,
    ``14155550134``) when ``region`` is US, else NULL (meaning: ask :func:`classify_caller_id`).
    Other regions of country code 1 (CA, AG, …) have their own metadata, so they take the slow path."""
    if region != "US":
        return "CAST(NULL AS VARCHAR)"
    stripped = strip_formatting_sql(column)
    return (f"CASE WHEN regexp_full_match({stripped}, '(\\+?1)?[2-9][0-9]{{2}}[2-9][0-9]{{6}}') "
            f"THEN '+1' || right({stripped}, 10) END")
