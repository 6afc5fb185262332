"""Caller ids (DESIGN.md, "Concepts": Customer — "phone numbers normalised to E.164 ... Withheld
caller ids (anonymous, restricted, unknown, empty, all zeros) are never a customer"; Identifier
hygiene — "a phone is an identifier only when valid for libphonenumber").

``classify_caller_id`` (``phonenumbers``) is the authority; the import's SQL fast path,
``nanp_fast_path_sql``, must never disagree with it: it answers the same E.164 number or NULL
("ask classify_caller_id", which also spots withheld ids and invalid numbers).
"""

from __future__ import annotations

from typing import Any

import duckdb
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from recontact.identity.phone import (
    CallerId,
    classify_caller_id,
    is_withheld,
    nanp_fast_path_sql,
    normalize_phone,
)

#: Written from the issue, not from the code: words that mean "no caller id".
WITHHELD_WORDS = ("", "anonymous", "restricted", "private", "unknown", "unavailable", "withheld", "blocked",
                  "none", "null", "n/a", "?", "-", "no caller id", "out of area", "tbd", "test", "-1")

NANP_REGIONS = tuple(sorted(phonenumbers.region_codes_for_country_code(1)))


@pytest.fixture(scope="module")
def con() -> Any:
    c = duckdb.connect()
    yield c
    c.close()


def fast_path(con: Any, raw: str, region: str = "US") -> str | None:
    """The SQL fast path evaluated in DuckDB on one value (passed as a parameter)."""
    row = con.execute(f"SELECT {nanp_fast_path_sql('x', region)} FROM (SELECT CAST(? AS VARCHAR) AS x)",
                      [raw]).fetchone()
    return row[0]


# --- North American numbers in many spellings -------------------------------------------------

SEPARATORS = ("", " ", "-", ".", "  ", " - ", "/")


@st.composite
def nanp_spellings(draw: st.DrawFn) -> tuple[str, str]:
    """(a North American number as people and phone systems write it, its E.164 form)."""
    area = draw(st.integers(2, 9)) * 100 + draw(st.integers(0, 99))
    exchange = draw(st.integers(2, 9)) * 100 + draw(st.integers(0, 99))
    line = draw(st.integers(0, 9999))
    e164 = f"+1{area:03d}{exchange:03d}{line:04d}"
    sep1, sep2, sep3 = (draw(st.sampled_from(SEPARATORS)) for _ in range(3))
    area_text = f"({area:03d})" if draw(st.booleans()) else f"{area:03d}"
    prefix = draw(st.sampled_from(("", "", "1", "+1", "+1 ", "1 ", "1-", "+1-", "+1.", "+ 1 ", "(+1) ")))
    pad = draw(st.sampled_from(("", " ", "  ")))
    text = f"{pad}{prefix}{sep1 if prefix else ''}{area_text}{sep2}{exchange:03d}{sep3}{line:04d}{pad}"
    return text, e164


@settings(max_examples=examples(300), deadline=None)
@given(number=nanp_spellings())
def test_nanp_fast_path_equals_phonenumbers(con: Any, number: tuple[str, str]) -> None:
    """Customer identifiers: valid phone numbers normalised to E.164. For North American numbers
    in any of the usual spellings the SQL fast path (region US) gives exactly what phonenumbers
    gives for valid US numbers, and NULL for the rest (invalid, or valid in CA, JM …)."""
    text, e164 = number
    parsed = phonenumbers.parse(e164)
    valid = phonenumbers.is_valid_number(parsed)
    assert classify_caller_id(text, "US") == (CallerId("phone", e164) if valid else CallerId("invalid", None))
    us = valid and phonenumbers.region_code_for_number(parsed) == "US"
    assert fast_path(con, text, "US") == (e164 if us else None)


@settings(max_examples=examples(150), deadline=None)
@given(number=nanp_spellings(), region=st.sampled_from(NANP_REGIONS))
def test_nanp_fast_path_in_other_plus1_regions_is_phonenumbers_or_null(
        con: Any, number: tuple[str, str], region: str) -> None:
    """Customer identifiers: in the other regions of country code 1 (CA, JM, PR ...) the fast path
    gives phonenumbers' E.164 answer or NULL (ask phonenumbers)."""
    text, e164 = number
    valid = phonenumbers.is_valid_number(phonenumbers.parse(e164))
    assert classify_caller_id(text, region) == (CallerId("phone", e164) if valid else CallerId("invalid", None))
    assert fast_path(con, text, region) in ((e164, None) if valid else (None,))


@settings(max_examples=examples(150), deadline=None)
@given(number=nanp_spellings(), region=st.sampled_from(NANP_REGIONS),
       decoration=st.sampled_from(("\t{}\t", "{}\n", "{} ext. 12", "{} x12", "tel:{}", "{}#", "{}1", "1{}",
                                   "0{}", "+{}", "{}ABC", "ext {}", "+44 {}")))
def test_nanp_fast_path_is_phonenumbers_or_null_on_decorated_numbers(
        con: Any, number: tuple[str, str], region: str, decoration: str) -> None:
    """Customer identifiers: on anything else the fast path either agrees with phonenumbers or
    says NULL (ask phonenumbers); it never invents a different number."""
    text = decoration.format(number[0])
    got = fast_path(con, text, region)
    if got is not None:
        assert classify_caller_id(text, region) == CallerId("phone", got)


CALLER_ID_CHARS = st.sampled_from([*"0123456789+-(). /\t\nx#*", "ext", "anon", "Restricted", "1", "0"])


@settings(max_examples=examples(300), deadline=None)
@given(parts=st.lists(CALLER_ID_CHARS, max_size=16), region=st.sampled_from(("US", "CA", "JM", "GB", "DE")))
def test_sql_never_disagrees_with_classify_caller_id(con: Any, parts: list[str], region: str) -> None:
    """Withheld ids are never a customer; phone numbers are E.164. On arbitrary caller-id-like text
    the SQL fast path is phonenumbers' answer or NULL (the import asks classify_caller_id about
    the rest, withheld ids included)."""
    text = "".join(parts)
    cid = classify_caller_id(text, region)
    got = fast_path(con, text, region)
    if got is not None:
        assert cid == CallerId("phone", got)


@pytest.mark.parametrize("text", ["1\t2002000000", "415\t555\t0134", "415\n5550134", "\t4155550134\t"])
def test_fast_path_agrees_on_tabs_in_a_number(con: Any, text: str) -> None:
    """Customer identifiers: phonenumbers does not accept a tab or line break between digits (an
    extension there); the fast path must not call such a value a phone number. (Found by the
    property above: the fast path used to strip every whitespace character.)"""
    got = fast_path(con, text)
    assert got is None or classify_caller_id(text) == CallerId("phone", got)


def test_fast_path_is_null_outside_country_code_1(con: Any) -> None:
    """The fast path only knows +1 numbers: in other regions it always says NULL."""
    assert nanp_fast_path_sql("x", "GB") == "CAST(NULL AS VARCHAR)"
    assert fast_path(con, "(415) 555-0134", "GB") is None
    assert classify_caller_id("(415) 555-0134", "GB").kind == "invalid"  # not a valid UK number
    assert fast_path(con, "+1 415 555 0134", "DE") is None


@pytest.mark.parametrize("text", ["0155550134", "4150550134", "415555013", "41555501345", "24155550134",
                                  "+4155550134", "+2 415 555 0134", "1+4155550134"])
def test_fast_path_leaves_non_nanp_shapes_to_phonenumbers(con: Any, text: str) -> None:
    """The fast path answers only [+1|1] NXX NXX XXXX; other shapes are left to phonenumbers."""
    assert fast_path(con, text) is None


# --- withheld, extensions, international ---------------------------------------------------------


@pytest.mark.parametrize("word", sorted(WITHHELD_WORDS))
def test_withheld_words_are_never_a_customer(con: Any, word: str) -> None:
    """Withheld caller ids (anonymous, restricted, unknown, empty ...) are never a customer, in any
    case and with surrounding spaces; the SQL fast path leaves them to Python."""
    for text in (word, word.upper(), f"  {word.title()} "):
        assert classify_caller_id(text) == CallerId("withheld", None)
        assert classify_caller_id(text).identifier is None
        assert normalize_phone(text) is None
        assert fast_path(con, text) is None


@pytest.mark.parametrize("text", ["0", "00", "0000000000", "000-000-0000", "(000) 000-0000", "+0",
                                  "+000 000 0000", " 0.0.0 "])
def test_all_zero_caller_ids_are_withheld(con: Any, text: str) -> None:
    """Withheld caller ids include all zeros, however formatted."""
    assert is_withheld(text)
    assert classify_caller_id(text).kind == "withheld"
    assert fast_path(con, text) is None


def test_missing_caller_id_is_withheld() -> None:
    """Withheld caller ids include a missing one (None)."""
    assert is_withheld(None)
    assert classify_caller_id(None) == CallerId("withheld", None)


@pytest.mark.parametrize(("text", "value"), [
    ("1234", "1234"), ("Client1", "client1"), ("SIP:Alice@PBX", "sip:alice@pbx"), (" 201 ", "201"),
])
def test_extensions_are_kept_case_folded(con: Any, text: str, value: str) -> None:
    """Caller ids that are neither withheld nor a possible phone number (internal extensions, SIP
    users) are kept, case-folded, as extensions; the fast path leaves them alone."""
    assert classify_caller_id(text) == CallerId("extension", value)
    assert classify_caller_id(text).identifier == f"extension:{value}"
    assert normalize_phone(text) is None
    assert fast_path(con, text) is None


@pytest.mark.parametrize("text", ["555-0134", "+1 200 200 0000", "(123) 456-7890", "+44 11 1234 5678",
                                  "+1 415 555 01345", "12345678901234"])
def test_invalid_numbers_identify_no_one(con: Any, text: str) -> None:
    """Identifier hygiene: a phone is an identifier only when valid for libphonenumber; seven
    digits or more that are not a valid number are invalid (counted, never a customer)."""
    assert classify_caller_id(text) == CallerId("invalid", None)
    assert classify_caller_id(text).identifier is None
    assert fast_path(con, text) is None


@pytest.mark.parametrize(("text", "region", "e164"), [
    ("+44 20 7946 0958", "US", "+442079460958"),
    ("020 7946 0958", "GB", "+442079460958"),
    ("+1 415 555 0134 ext. 12", "US", "+14155550134"),
    ("(415) 555-0134", "CA", "+14155550134"),
])
def test_phone_numbers_normalise_to_e164(text: str, region: str, e164: str) -> None:
    """Customer identifiers: phone numbers normalised to E.164 (the region applies to numbers
    without a country code; an extension suffix is not part of the E.164 number)."""
    assert classify_caller_id(text, region) == CallerId("phone", e164)
    assert classify_caller_id(text, region).identifier == f"phone:{e164}"
    assert normalize_phone(text, region) == e164
