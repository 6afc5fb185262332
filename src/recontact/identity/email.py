"""E-mail addresses as identifiers: trimmed and case-folded, and syntax-checked.

``email-validator`` (no DNS) is the authority on syntax. Because it costs ~20 µs an address, bulk
imports first apply :func:`plain_email_sql`, a regular expression for plain ASCII addresses that
``email-validator`` accepts (property-tested in ``tests/identity/test_email.py``); the remaining
distinct addresses go through :func:`is_valid_email`.
"""

from __future__ import annotations

from functools import lru_cache

from recontact.importers.base import sql_str

#: Domains ``email-validator`` refuses as special-use (RFC 6761) even without DNS.
_SPECIAL_USE = ("arpa", "invalid", "local", "localhost", "onion", "test")
_ATEXT = "[a-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = "[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
#: A plain address: dot-atom user part, LDH domain labels, an alphabetic top-level domain.
PLAIN_EMAIL = f"{_ATEXT}+(\\.{_ATEXT}+)*@({_LABEL}\\.)+[a-z]{{2,63}}"


def normalize_email(raw: str | None) -> str | None:
    """``'  Ann.Lee@Example.COM '`` -> ``'ann.lee@example.com'``; empty -> None."""
    if raw is None:
        return None
    text = raw.strip().casefold()
    return text or None


def normalize_email_sql(column: str) -> str:
    """SQL twin of :func:`normalize_email` (ASCII case folding, which is what addresses use)."""
    return f"nullif(lower(trim({column})), '')"


@lru_cache(maxsize=65536)
def is_valid_email(address: str) -> bool:
    """True when ``email-validator`` accepts the address's syntax (no DNS look-up)."""
    # imported here: most imports never ask (the SQL fast path vouches for plain addresses), and
    # loading it compiles its regular expressions (~30 ms)
    from email_validator import EmailNotValidError, validate_email

    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def plain_email_sql(column: str) -> str:
    """SQL: true for plain addresses :func:`is_valid_email` accepts; false means "ask it"."""
    special = " OR ".join(f"ends_with({column}, '.{d}')" for d in _SPECIAL_USE)
    # Labels with "--" as their 3rd and 4th characters ("ab--cd", "a---b") are IDNA questions (only
    # "xn--" is allowed there): left to the library.
    # Nested CASE, not AND: DuckDB computes every operand of an AND on every row of a projection;
    # the top-level domain is what follows the last dot once the expression matched.
    return (f"CASE WHEN regexp_full_match({column}, {sql_str(PLAIN_EMAIL)}) "
            f"THEN strpos({column}, '@') <= 65 AND length({column}) <= 254 "
            f"AND NOT CASE WHEN contains({column}, '--') THEN regexp_matches({column}, '[@.][a-z0-9-]{{2}}--') "
            f"ELSE false END AND NOT ({special}) ELSE false END")
