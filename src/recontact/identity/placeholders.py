"""Placeholder and withheld values: text that fills an identifier column but identifies no one.

A value is a placeholder when, lower-cased with ASCII spaces and punctuation removed, it is

* empty (``?``, ``-``, ``--``, ``...``),
* one repeated digit (``0``, ``0000``, ``555-555-5555``; for phones also after a leading ``1``:
  ``+1 000 000 0000``),
* a word of :data:`DEFAULT_PLACEHOLDERS` or of the user's ``placeholders`` setting, compared the
  same way (``No Caller ID`` = ``no-caller-id`` = ``NOCALLERID``),
* or an address (``user@host``, ``sip:user@host``) whose user part is such a word or one of
  :data:`PLACEHOLDER_MAILBOXES` (``noemail@…``, ``none@…``, ``sip:anonymous@…``).

:func:`is_placeholder` and :func:`placeholder_sql` are one definition in Python and in SQL
(property-tested equal); the SQL runs over distinct identifiers only.
"""

from __future__ import annotations

import string
from collections.abc import Iterable

from recontact.importers.base import sql_str

#: The built-in list (users add to it with ``placeholders`` in recontact.toml).
DEFAULT_PLACEHOLDERS: tuple[str, ...] = (
    "private", "private number", "private caller", "anonymous", "anonymous caller", "anon",
    "unavailable", "not available", "unknown", "unknown caller", "unknown number", "restricted",
    "blocked", "withheld", "number withheld", "caller id withheld", "no caller id", "no number",
    "out of area", "-1", "?", "N/A", "#N/A", "na", "none", "nil", "null", "TBD", "TBA", "test",
    "no email", "no account",
)

#: User parts of e-mail and SIP addresses that mean "no address".
PLACEHOLDER_MAILBOXES: tuple[str, ...] = ("noemail", "nomail", "noreply", "donotreply", "nobody", "email")

_DROP = str.maketrans("", "", string.whitespace + string.punctuation)
_ADDRESS_SCHEMES = ("sip:", "sips:", "tel:", "mailto:")


def fold(text: str) -> str:
    """``'No Caller-ID'`` -> ``'nocallerid'``: lower case without ASCII spaces and punctuation."""
    return text.lower().translate(_DROP)


_DEFAULT_WORDS = frozenset(fold(w) for w in DEFAULT_PLACEHOLDERS)
#: Regular-expression alternations over the folded text: one digit repeated; ten of one digit (after a ``1``).
_REPEATED = "|".join(f"{d}+" for d in range(10))
_REPEATED_AFTER_1 = "|".join(f"{d}{{10}}" for d in range(10))


def placeholder_words(extra: Iterable[str] = ()) -> frozenset[str]:
    """The folded placeholder words: the defaults plus ``extra`` (the user's setting)."""
    return _DEFAULT_WORDS.union(fold(w) for w in extra)


def _repeated_digit(folded: str, phone: bool) -> bool:
    def one_digit(text: str) -> bool:
        return text.isascii() and text.isdigit() and len(set(text)) == 1

    return one_digit(folded) or (phone and len(folded) == 11 and folded[0] == "1" and one_digit(folded[1:]))


def is_placeholder(value: str, extra: Iterable[str] = (), *, phone: bool = False) -> bool:
    """True when ``value`` identifies no one (see the module docstring); ``phone`` allows a
    leading country code 1 before a repeated digit."""
    words = placeholder_words(extra)
    folded = fold(value)
    if folded == "" or folded in words or _repeated_digit(folded, phone):
        return True
    user, at, _ = value.strip(" ").lower().rpartition("@")
    if at:
        scheme = next((s for s in _ADDRESS_SCHEMES if user.startswith(s)), "")
        user = user.removeprefix(scheme)
        mailbox = fold(user)
        return mailbox in words or mailbox in PLACEHOLDER_MAILBOXES or mailbox == ""
    return False


def fold_sql(column: str) -> str:
    """SQL twin of :func:`fold`."""
    return f"regexp_replace(lower({column}), '[[:space:][:punct:]]', '', 'g')"


def placeholder_sql(column: str, extra: Iterable[str] = (), *, phone: bool = False, defaults: bool = True) -> str:
    """SQL twin of :func:`is_placeholder` over a text column (NULL stays NULL). Without
    ``defaults``: only the words of ``extra`` (as bare values and as the user part of addresses)."""
    if not defaults:
        user_words = sorted({fold(w) for w in extra} - {""})
        if not user_words:
            return "false"
        listed = ", ".join(map(sql_str, user_words))
        unschemed = _user_part_sql(column)
        return (f"({fold_sql(column)} IN ({listed}) "
                f"OR (strpos({column}, '@') > 0 AND {fold_sql(unschemed)} IN ({listed})))")
    all_words = placeholder_words(extra)
    words = ", ".join(sql_str(w) for w in sorted(all_words - {""}))
    mailboxes = ", ".join(sql_str(w) for w in sorted({*PLACEHOLDER_MAILBOXES, *all_words}))
    folded = fold_sql(column)
    repeated = f"({_REPEATED})"
    after_1 = f" OR regexp_full_match({folded}, '1({_REPEATED_AFTER_1})')" if phone else ""
    unschemed = _user_part_sql(column)
    return (f"({folded} = '' OR {folded} IN ({words}) "
            f"OR regexp_full_match({folded}, '{repeated}'){after_1} "
            f"OR (strpos({column}, '@') > 0 AND {fold_sql(unschemed)} IN ('', {mailboxes})))")


def _user_part_sql(column: str) -> str:
    """SQL: the user part of an address (before the last ``@``), lower-cased, without a scheme."""
    user = f"regexp_extract(lower(trim({column})), '(?s)^(.*)@[^@]*$', 1)"
    return f"regexp_replace({user}, '^({'|'.join(s[:-1] for s in _ADDRESS_SCHEMES)}):', '')"


def e164_placeholder_sql(column: str) -> str:
    """:func:`placeholder_sql` with ``phone`` for E.164 values (``+`` and digits) and the built-in
    list: folding leaves just the digits, and the only all-digit words (``0``, ``-1``) are repeated
    digits, so one regular expression decides."""
    return f"regexp_full_match(substr({column}, 2), '(?:{_REPEATED})|1(?:{_REPEATED_AFTER_1})')"
