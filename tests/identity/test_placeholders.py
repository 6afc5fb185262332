"""Placeholders (DESIGN.md, Identifier hygiene: "withheld and placeholder values (private,
anonymous, unknown, 0, N/A, TBD, …) identify no one"), with the issue's list written here
independently of the code, in every case, spacing and punctuation; the SQL twin must agree with
Python on any text.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from recontact.identity.phone import classify_caller_id
from recontact.identity.placeholders import e164_placeholder_sql, fold, is_placeholder, placeholder_sql

#: The issue's words, as the issue writes them.
ISSUE_WORDS = ("private", "anonymous", "unavailable", "unknown", "restricted", "blocked", "withheld",
               "no caller id", "out of area", "0", "-1", "?", "N/A", "none", "null", "TBD", "test")
ISSUE_ADDRESSES = ("sip:anonymous@anonymous.invalid", "noemail@example.com", "none@example.com",
                   "SIP:Anonymous@10.0.0.1", "NoEmail@Company.org")
REAL = ("ann.lee@example.com", "A-1001", "+14155550134", "client1", "1234", "E-77", "sip:alice@pbx",
        "tbd-team@example.com", "testing@example.com", "0123", "12", "private-banking@example.com")


@pytest.fixture(scope="module")
def con() -> Any:
    c = duckdb.connect()
    yield c
    c.close()


def sql_says(con: Any, text: str, extra: tuple[str, ...] = (), *, phone: bool = False, defaults: bool = True) -> bool:
    row = con.execute(f"SELECT {placeholder_sql('x', extra, phone=phone, defaults=defaults)} "
                      "FROM (SELECT CAST(? AS VARCHAR) AS x)", [text]).fetchone()
    return bool(row[0])


@st.composite
def decorated(draw: st.DrawFn, words: tuple[str, ...] = ISSUE_WORDS) -> str:
    """An issue word in random case, with spaces and punctuation around and inside it."""
    word = draw(st.sampled_from(words))
    noise = st.sampled_from(("", " ", "-", "_", ".", "  ", "(", ")", "/", "'"))
    chars = [c.upper() if draw(st.booleans()) else c.lower() for c in word]
    inner = "".join(c + (draw(noise) if draw(st.integers(0, 4)) == 0 else "") for c in chars)
    return f"{draw(noise)}{inner}{draw(noise)}"


@settings(max_examples=examples(300), deadline=None)
@given(text=decorated())
def test_issue_words_are_placeholders_however_written(con: Any, text: str) -> None:
    """Placeholders are recognised case-, space- and punctuation-insensitively, in every column,
    and as caller ids they are withheld (never a phone or an extension)."""
    assert is_placeholder(text)
    assert sql_says(con, text)
    assert classify_caller_id(text).kind == "withheld"


@pytest.mark.parametrize("text", ISSUE_ADDRESSES)
def test_placeholder_addresses(con: Any, text: str) -> None:
    """sip:anonymous@…, noemail@…, none@… identify no one."""
    assert is_placeholder(text) and sql_says(con, text)


@settings(max_examples=examples(200), deadline=None)
@given(digit=st.sampled_from("0123456789"), n=st.integers(1, 12),
       sep=st.sampled_from(("", "-", " ", ".", ") ")), plus=st.booleans())
def test_one_repeated_digit_is_a_placeholder(con: Any, digit: str, n: int, sep: str, plus: bool) -> None:
    """One repeated digit (555-555-5555, 0000), however formatted; for phones also after +1."""
    text = sep.join(digit * n)
    assert is_placeholder(text) and sql_says(con, text)
    number = f"{'+' if plus else ''}1 {digit * 3} {digit * 3} {digit * 4}"
    assert is_placeholder(number, phone=True) and sql_says(con, number, phone=True)


@pytest.mark.parametrize("text", REAL)
def test_real_identifiers_are_not_placeholders(con: Any, text: str) -> None:
    assert not is_placeholder(text) and not sql_says(con, text)


def test_users_extend_the_list(con: Any) -> None:
    """``placeholders`` in recontact.toml adds words, compared the same way; defaults=False is the
    user's words alone (how re-resolution checks identifiers already stored)."""
    extra = ("see notes", "Walk-In")
    for text in ("SEE NOTES", "see-notes", "walk in", "walkin@example.com"):
        assert is_placeholder(text, extra) and sql_says(con, text, extra)
        assert sql_says(con, text, extra, defaults=False)
        assert not is_placeholder(text)
    assert not sql_says(con, "N/A", extra, defaults=False)


@settings(max_examples=examples(500), deadline=None)
@given(text=st.lists(st.sampled_from([*"aAnN0159 -_./?@:()'#", "sip:", "none", "test", "anon", "ymous", "noemail",
                                      "\t"]), max_size=14).map("".join),
       phone=st.booleans(), extra=st.sampled_from(((), ("see notes",), ("0159",))))
def test_sql_twin_agrees_with_python(con: Any, text: str, phone: bool, extra: tuple[str, ...]) -> None:
    """One definition: the SQL the store runs gives what is_placeholder gives, on any text."""
    assert sql_says(con, text, extra, phone=phone) == is_placeholder(text, extra, phone=phone)


@settings(max_examples=examples(500), deadline=None)
@given(text=st.lists(st.sampled_from([*"aEnNé01@:. \n", "sip:", "sips:", "tel:", "Mailto:", "café", "siptrunk",
                                      "none", "no-email", "x@y"]), max_size=10).map("".join),
       phone=st.booleans(), defaults=st.booleans(),
       extra=st.sampled_from(((), ("Café",), ("sip trunk", "trunk"), ("1",))))
def test_sql_twin_agrees_on_addresses_and_other_letters(con: Any, text: str, phone: bool, defaults: bool,
                                                      extra: tuple[str, ...]) -> None:
    """Schemes, several @, line breaks and letters outside ASCII; the user's words alone too."""
    if defaults:
        expected = is_placeholder(text, extra, phone=phone)
    else:  # the user's words only: as the whole folded text, or as the folded user part of an address
        user, at, _ = text.strip(" ").lower().rpartition("@")
        user = next((user.removeprefix(s) for s in ("sip:", "sips:", "tel:", "mailto:") if user.startswith(s)), user)
        words = {fold(w) for w in extra} - {""}
        expected = fold(text) in words or (bool(at) and fold(user) in words)
    assert sql_says(con, text, extra, phone=phone, defaults=defaults) == expected


@settings(max_examples=examples(300), deadline=None)
@given(digits=st.lists(st.sampled_from("0123456789"), min_size=1, max_size=15).map("".join)
       | st.sampled_from(("0000000", "10000000000", "12222222222", "111", "1555555555")))
def test_e164_shortcut_agrees(con: Any, digits: str) -> None:
    """Stored phones (E.164) take a one-regex shortcut: the same answer as the general rule."""
    text = "+" + digits
    row = con.execute(f"SELECT {e164_placeholder_sql('x')} FROM (SELECT CAST(? AS VARCHAR) AS x)", [text]).fetchone()
    assert bool(row[0]) == is_placeholder(text, phone=True)
