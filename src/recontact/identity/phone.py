"""Phone numbers and caller ids: E.164 via ``phonenumbers``, extensions kept, withheld ids spotted.

``phonenumbers`` is the authority: a number identifies someone only when
``phonenumbers.is_valid_number`` says so. Because it costs ~10 µs a number, bulk imports first
apply :func:`nanp_fast_path_sql`, an SQL spelling of what ``phonenumbers`` answers for plain US
numbers, built from its own US metadata (property-tested equal in ``tests/identity/test_phone.py``);
every other distinct raw value goes through :func:`classify_caller_id`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers

from recontact.identity.placeholders import is_placeholder
from recontact.importers.base import sql_str

CallerIdKind = Literal["phone", "extension", "withheld", "invalid"]

#: Formatting characters people and phone systems put inside numbers.
_FORMATTING = re.compile(r"[\s().\-/]")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
#: A caller id that is meant as a phone number: seven digits or more, perhaps after a ``+``.
_NUMBER_LIKE = re.compile(r"^\+?\d{7,}$")


@dataclass(frozen=True, slots=True)
class CallerId:
    """A classified caller id: ``kind`` phone (``value`` is E.164), extension (``value`` is the
    case-folded raw id, e.g. an internal extension or SIP user), withheld (a placeholder or no
    caller id; ``value`` None) or invalid (a number ``phonenumbers`` calls invalid; ``value`` None)."""

    kind: CallerIdKind
    value: str | None

    @property
    def identifier(self) -> str | None:
        """The ``kind:value`` string, or None when withheld."""
        return None if self.value is None else f"{self.kind}:{self.value}"


def is_withheld(raw: str | None, placeholders: tuple[str, ...] = ()) -> bool:
    """True for caller ids that mean "no caller id": empty, anonymous, restricted, one repeated
    digit… (see ``identity.placeholders``; ``placeholders`` are the user's additions)."""
    return raw is None or is_placeholder(raw, placeholders, phone=True)


@lru_cache(maxsize=65536)
def classify_caller_id(raw: str | None, region: str = "US", placeholders: tuple[str, ...] = ()) -> CallerId:
    """Classify one raw caller id. Phone numbers are parsed in ``region`` when they carry no
    country code and must be valid for ``phonenumbers``; seven digits or more that are not a valid
    number are invalid; anything else that is not withheld (``client1``, ``1234``,
    ``sip:alice@pbx``) is an extension."""
    if is_withheld(raw, placeholders):
        return CallerId("withheld", None)
    assert raw is not None
    text = raw.strip()
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        if _E164.match(e164):
            return CallerId("phone", e164)
    if _NUMBER_LIKE.match(_FORMATTING.sub("", text)):
        return CallerId("invalid", None)
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


def us_number_patterns() -> tuple[str, str]:
    """The ten-digit US national numbers ``phonenumbers`` calls valid, as two regular expressions
    both must match: its US general pattern, and the union of the number-type patterns of its US
    metadata (fixed line, mobile, toll free…)."""
    meta = phonenumbers.PhoneMetadata.metadata_for_region("US")
    assert meta is not None and meta.general_desc is not None
    types = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
             "pager", "uan", "voicemail")
    patterns = [d.national_number_pattern for d in (getattr(meta, t) for t in types)
                if d is not None and d.national_number_pattern and 10 in (d.possible_length or (10,))]
    return f"(?:{meta.general_desc.national_number_pattern})", f"(?:{'|'.join(patterns)})"


def nanp_fast_path_sql(column: str, region: str) -> str:
    """SQL giving the E.164 form of plain, valid US numbers (``(415) 555-0134``, ``+1 415.555.0134``,
    ``14155550134``) when ``region`` is US, else NULL (meaning: ask :func:`classify_caller_id`).
    Other regions of country code 1 (CA, AG, …) have their own metadata, so they take the slow path."""
    if region != "US":
        return "CAST(NULL AS VARCHAR)"
    stripped = strip_formatting_sql(column)
    general, types = us_number_patterns()
    national = f"right({stripped}, 10)"
    return (f"CASE WHEN regexp_full_match({stripped}, '(\\+?1)?[2-9][0-9]{{2}}[2-9][0-9]{{6}}') "
            f"AND regexp_full_match({national}, {sql_str(general)}) "
            f"AND regexp_full_match({national}, {sql_str(types)}) THEN '+1' || {national} END")
