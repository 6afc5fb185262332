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


#: What :func:`fold` drops, as a regular-expression class (ASCII spaces and punctuation, as RE2's
#: POSIX classes are).
_NOISE = "[[:space:][:punct:]]*"


def _spelled(word: str) -> str:
    """A regular expression for the lower-cased texts that fold to ``word`` (itself folded): its
    characters in order, with any spaces and punctuation between them."""
    return _NOISE.join(c if c.isascii() and c.isalnum() else f"\\x{{{ord(c):x}}}" for c in word)


def _folds_to(words: Iterable[str], *, empty: bool, digits: bool = False, phone: bool = False) -> str:
    """A regular expression matching (fully) the lower-cased texts whose fold is one of ``words``,
    or empty when ``empty``; with ``digits`` also one repeated digit, and with ``phone`` also ``1``
    and ten of one digit."""
    options = [_spelled(w) for w in sorted(words) if w]
    if digits:
        options += [f"{d}(?:{_NOISE}{d})*" for d in range(10)]
    if phone:
        options += [f"1(?:{_NOISE}{d}){{10}}" for d in range(10)]
    return f"{_NOISE}(?:{'|'.join(options)}){'?' if empty else ''}{_NOISE}"


def placeholder_sql(column: str, extra: Iterable[str] = (), *, phone: bool = False, defaults: bool = True) -> str:
    """SQL twin of :func:`is_placeholder` over a text column (NULL stays NULL). Without
    ``defaults``: only the words of ``extra`` (as bare values and as the user part of addresses).

    Each part of the definition is one regular expression over the lower-cased text (a word is
    matched with any spaces and punctuation between its letters: what folding ignores), so no
    folded copy of the text is made, and an ordinary identifier fails at its first letters."""
    if defaults:
        words = placeholder_words(extra) - {""}
        bare = _folds_to(words, empty=True, digits=True, phone=phone)
        mailbox = _folds_to(words | set(PLACEHOLDER_MAILBOXES), empty=True)
    else:
        words = frozenset(fold(w) for w in extra) - {""}
        if not words:
            return "false"
        bare = mailbox = _folds_to(words, empty=False)
    schemes = "|".join(s[:-1] for s in _ADDRESS_SCHEMES)
    # CASE, not OR: DuckDB computes both sides of an OR on every row of a projection.
    unschemed = f"regexp_replace(lower(trim({column})), '^({schemes}):', '')"
    return (f"CASE WHEN {column} IS NULL THEN NULL WHEN regexp_full_match(lower({column}), {sql_str(bare)}) THEN true "
            f"WHEN strpos({column}, '@') > 0 THEN regexp_full_match({unschemed}, {sql_str(mailbox + '@[^@]*')}) "
            "ELSE false END")


def e164_placeholder_sql(column: str) -> str:
    """:func:`placeholder_sql` with ``phone`` for E.164 values (``+`` and digits) and the built-in
    list: folding leaves just the digits, and the only all-digit words (``0``, ``-1``) are repeated
    digits, so one regular expression decides."""
    # Every match of three or more characters ends in two equal digits: a cheap test first.
    return (f"CASE WHEN length({column}) > 2 AND right({column}, 1) <> substr({column}, length({column}) - 1, 1) "
            f"THEN false ELSE regexp_full_match(substr({column}, 2), '(?:{_REPEATED})|1(?:{_REPEATED_AFTER_1})') END")
