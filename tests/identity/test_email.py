"""E-mail syntax (DESIGN.md, Identifier hygiene; issue 10: "E-mails are syntax-checked
(email-validator, no DNS)"): the import's SQL expression for plain addresses must never accept
what email-validator refuses, and must accept ordinary addresses.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from hypothesis_profiles import examples
from recontact.identity.email import is_valid_email, plain_email_sql


@pytest.fixture(scope="module")
def con() -> Any:
    c = duckdb.connect()
    yield c
    c.close()


def plain(con: Any, text: str) -> bool:
    return bool(con.execute(f"SELECT {plain_email_sql('x')} FROM (SELECT CAST(? AS VARCHAR) AS x)",
                            [text]).fetchone()[0])


def library(text: str) -> bool:
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


PART = st.lists(st.sampled_from([*"ab.z09-_+'@", "xn--", "--", "..", "invalid", "test", "local", "é"]),
                min_size=1, max_size=10).map("".join)


@settings(max_examples=examples(600), deadline=None)
@given(user=PART, host=PART, tld=st.sampled_from(("com", "org", "invalid", "test", "c", "co", "local", "1")))
def test_plain_addresses_are_only_what_email_validator_accepts(con: Any, user: str, host: str, tld: str) -> None:
    text = f"{user}@{host}.{tld}"
    if plain(con, text):
        assert library(text), text
    assert is_valid_email(text) == library(text)


@pytest.mark.parametrize("text", ["ann.lee@example.com", "o'brien@example.co.uk", "a+tag@mail.example.org",
                                  "person12@example.com"])
def test_ordinary_addresses_take_the_fast_path(con: Any, text: str) -> None:
    assert plain(con, text) and is_valid_email(text)


@pytest.mark.parametrize("text", ["a..b@example.com", "someone@anonymous.invalid", "x@localhost", "x@y",
                                  "@example.com", "ann@", "ann lee@example.com", "a@a---a.com"])
def test_bad_addresses_are_invalid(con: Any, text: str) -> None:
    assert not plain(con, text) and not is_valid_email(text)
