"""Who is who, kept in the store: identifiers, the links seen between them, and customer keys.

Tables (see ``store/contacts.py``): ``identifiers`` (every ``kind:value`` ever seen, numbered in
order of first sighting, with its contact count, whether its syntax is valid, its customer key or
NULL, and its role when it identifies no one: ``invalid``, ``placeholder``, ``denied``, ``hub``),
``identifier_links`` (distinct pairs of identifiers seen on one record) and ``key_history``
(merges and splits). Resolution always runs over all of them, with the hygiene settings in force
(:class:`Hygiene`); their fingerprint is kept in ``meta``, and :func:`ensure_resolved` resolves
again when the settings changed, so no re-import is needed. Contacts take the key of their first
identifier that identifies someone; only contacts whose key changes are rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from recontact.identity.placeholders import e164_placeholder_sql, placeholder_sql
from recontact.importers.base import sql_str
from recontact.store.sql import registered, scalar

# NumPy, PyArrow, SciPy, phonenumbers and email-validator are imported where they are used: read
# commands import this module for ensure_resolved, which most of the time only compares a hash.

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from recontact.config import Settings
    from recontact.store.contacts import Store

#: Why an identifier identifies no one (index 0: it does identify someone).
ROLES = ("", "invalid", "placeholder", "denied", "hub")
NEXT_KEY = "next_customer_key"  # meta key: the first customer key never handed out
FINGERPRINT = "hygiene_fingerprint"  # meta key: the hygiene settings identities were resolved with

#: Identifier kind -> contacts column, in the order a contact's key is taken from.
COLUMNS: tuple[tuple[str, str], ...] = (("phone", "phone"), ("extension", "extension"), ("email", "email"),
                                        ("account", "account_id"), ("employee", "employee_id"))


#: Bump when the built-in placeholders or the resolution rules change: stores resolve again.
RULES_VERSION = 1


def settings_fingerprint(deny_list: Sequence[str] = (), placeholders: Sequence[str] = (), max_links: int = 5,
                         region: str = "US") -> str:
    """A short hash of the identity settings as written (a respelling costs one needless resolution)."""
    text = json.dumps([sorted(deny_list), sorted(placeholders), max_links, region, RULES_VERSION])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Hygiene:
    """The settings that decide who is who: deny-listed identifiers (``kind:value``), the user's
    placeholders (added to the built-in list), the hub threshold, and the fingerprint of the
    settings they came from."""

    deny: tuple[str, ...] = ()
    placeholders: tuple[str, ...] = ()
    max_links: int = 5
    fingerprint: str = settings_fingerprint()

    @classmethod
    def from_settings(cls, settings: Settings) -> Hygiene:
        from recontact.identity.deny_list import deny_list_identifiers
        from recontact.identity.phone import normalize_phone

        deny = deny_list_identifiers(settings.deny_list, settings.default_region, settings.placeholders)
        # A placeholder written as a phone number also matches its E.164 form.
        numbers = {normalize_phone(p, settings.default_region) for p in settings.placeholders}
        words = set(settings.placeholders) | {n for n in numbers if n}
        return cls(tuple(sorted(set(deny))), tuple(sorted(words)), settings.max_links, _fingerprint_of(settings))


def _fingerprint_of(settings: Settings) -> str:
    return settings_fingerprint(settings.deny_list, settings.placeholders, settings.max_links,
                                settings.default_region)


def _value(ident: str) -> str:
    return f"substr({ident}, strpos({ident}, ':') + 1)"


def _role_sql(hygiene: Hygiene, *, defaults: bool) -> str:
    """SQL over ``identifiers``: the role an identifier takes from the settings (NULL: none).
    ``defaults``: also the built-in placeholders (else only the user's, the built-in ones being
    decided once, when the identifier is first seen)."""
    value = _value("ident")
    cases = []
    if hygiene.deny:
        cases.append(f"WHEN ident IN ({', '.join(map(sql_str, hygiene.deny))}) THEN 'denied'")
    if defaults or hygiene.placeholders:
        # Stored phones are E.164: with the built-in list alone one regular expression decides.
        phone = (e164_placeholder_sql(value) if defaults and not hygiene.placeholders
                 else placeholder_sql(value, hygiene.placeholders, phone=True, defaults=defaults))
        other = placeholder_sql(value, hygiene.placeholders, defaults=defaults)
        cases.append(f"WHEN CASE WHEN starts_with(ident, 'phone:') THEN {phone} ELSE {other} END THEN 'placeholder'")
    return f"CASE {' '.join(cases)} END" if cases else "CAST(NULL AS VARCHAR)"


def _collect_row_idents(con: duckdb.DuckDBPyConnection, rows: str) -> None:
    """``_row_idents`` (r, ident, multi): one row per identifier on each row ``rows`` selects (SQL
    ``FROM … s WHERE …``); ``multi``: the row carries more than one (only those link)."""
    multi = " + ".join(f"(s.{col} IS NOT NULL)::INTEGER" for _, col in COLUMNS) + " > 1"
    parts = " UNION ALL ".join(
        f"SELECT s.rowid AS r, '{kind}:' || s.{col} AS ident, {multi} AS multi {rows} AND s.{col} IS NOT NULL"
        for kind, col in COLUMNS)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _row_idents AS {parts}")


def record_identifiers(con: duckdb.DuckDBPyConnection, new_rows: str) -> int:
    """Record the identifiers and links of the rows ``new_rows`` selects (SQL over ``_staged s``
    with ``s.rowid`` in file order): links in ``identifier_links``, contact counts of stored
    identifiers in ``identifiers``, and the identifiers new to the store in the temporary table
    ``_fresh_idents`` (the columns of ``identifiers`` but the resolved ones), which
    :func:`resolve` given ``fresh_from`` adds to ``identifiers`` already resolved: written once,
    not written and then updated. Returns the ``seq`` of the first new identifier."""
    _collect_row_idents(con, new_rows)
    return _record_row_idents(con, count_contacts=True, pending=True)


def _directory_row_idents(where: str = "true") -> str:
    """SQL: (r, ident, multi) of the directory rows (``directory_identifiers``) ``where`` selects; r
    is negative (contacts' row ids are not), one number per directory row, in file order."""
    return (f"SELECT dense_rank() OVER (ORDER BY directory, line) - {1 << 62} AS r, ident, "
            f"count(*) OVER (PARTITION BY directory, line) > 1 AS multi FROM directory_identifiers WHERE {where}")


def record_directory_identifiers(con: duckdb.DuckDBPyConnection, directory: str) -> None:
    """Add the identifiers of one directory's rows (``directory_identifiers``) to ``identifiers``
    (counting no contacts) and the pairs seen on one row to ``identifier_links``: a directory row
    links its identifiers as a contact does. Then :func:`resolve`."""
    mine = _directory_row_idents(f"directory = {sql_str(directory)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _row_idents AS {mine}")
    _record_row_idents(con, count_contacts=False)
    con.execute("DROP TABLE IF EXISTS _row_seq")


def _record_row_idents(con: duckdb.DuckDBPyConnection, *, count_contacts: bool, pending: bool = False) -> int:
    """Record ``_row_idents`` (r, ident): new identifiers numbered in order of first sighting (by
    r), contact counts (when ``count_contacts``), and links. The new identifiers go to
    ``identifiers``, or when ``pending`` to ``_fresh_idents`` (see :func:`record_identifiers`).
    Returns the first new ``seq``."""
    import numpy as np

    from recontact.identity.email import is_valid_email, plain_email_sql

    n = "count(*)" if count_contacts else "0"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _seen AS SELECT ident, {n} AS n, min(r) AS first "
                "FROM _row_idents GROUP BY ident")
    con.execute("UPDATE identifiers SET contacts = identifiers.contacts + s.n FROM _seen s "
                "WHERE identifiers.ident = s.ident")
    base = scalar(con, "SELECT coalesce(max(seq), -1) + 1 FROM identifiers")
    email = _value("ident")
    defaults = _role_sql(Hygiene(), defaults=True)
    if count_contacts:
        # A contact carries at most one identifier of each kind: its row and the kind's place in
        # COLUMNS number them in order of first sighting without a sort (seq may have gaps).
        kind = " ".join(f"WHEN starts_with(ident, '{k}:') THEN {i}" for i, (k, _) in enumerate(COLUMNS))
        origin = scalar(con, "SELECT coalesce(min(first), 0) FROM _seen")
        seq = f"{base} + (first - {origin}) * {len(COLUMNS)} + CASE {kind} END"
    else:  # a directory row may carry several of one kind
        seq = f"{base} - 1 + row_number() OVER (ORDER BY first, ident)"
    target = "_fresh_idents" if pending else "identifiers"
    new = f"""
        SELECT ident, {seq} AS seq, n AS contacts,
               CASE WHEN starts_with(ident, 'email:') THEN {plain_email_sql(email)} ELSE true END AS valid,
               {defaults} IS NOT NULL AS builtin_placeholder
        FROM (SELECT * FROM _seen ANTI JOIN identifiers USING (ident))"""
    if pending:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _fresh_idents AS {new}")
    else:
        con.execute(f"INSERT INTO identifiers (ident, seq, contacts, valid, builtin_placeholder) {new}")
    # Addresses the plain-address expression did not vouch for: ask email-validator (distinct values).
    unsure = [r[0] for r in con.execute(
        f"SELECT ident FROM {target} WHERE seq >= {base} AND NOT valid").fetchall()]
    good = [i for i in unsure if is_valid_email(i.partition(":")[2])]
    if good:
        with registered(con, "_good_emails", {"ident": np.array(good, dtype=object)}):
            con.execute(f"UPDATE {target} SET valid = true FROM _good_emails g WHERE {target}.ident = g.ident")
    _insert_links(con, pending)
    return base


def _insert_links(con: duckdb.DuckDBPyConnection, pending: bool = False) -> None:
    """Add the pairs of identifiers on one row of ``_row_idents`` to ``identifier_links`` (new pairs
    only); leaves ``_row_seq`` (row, identifier seq, multi) for :func:`row_keys`. ``pending``: the
    new identifiers are in ``_fresh_idents``, not yet in ``identifiers``."""
    known = _ALL_IDENTIFIERS if pending else "identifiers"
    con.execute("CREATE OR REPLACE TEMP TABLE _row_seq AS "
                f"SELECT r, seq, multi FROM _row_idents JOIN {known} USING (ident)")
    con.execute("CREATE OR REPLACE TEMP TABLE _multi AS SELECT r, seq FROM _row_seq WHERE multi")
    con.execute("""
        INSERT INTO identifier_links
        SELECT DISTINCT x.seq, y.seq FROM _multi x JOIN _multi y ON x.r = y.r AND x.seq < y.seq
        EXCEPT SELECT a, b FROM identifier_links
    """)
    for table in ("_row_idents", "_seen", "_multi"):
        con.execute(f"DROP TABLE IF EXISTS {table}")


def row_keys(con: duckdb.DuckDBPyConnection, resolved: Resolved) -> None:
    """``_row_key``: for each row recorded by :func:`record_identifiers`, its customer key (all the
    identifiers of one row that identify someone are linked, so they share it) and whether one of
    its identifiers is deny-listed or a hub, from the identifiers as :func:`resolve` left them.
    Aggregated in NumPy over ``_row_seq`` (row, identifier seq): no join back to ``identifiers``."""
    import numpy as np

    pairs = con.execute("SELECT r, seq FROM _row_seq").fetchnumpy()
    con.execute("DROP TABLE IF EXISTS _row_seq")
    r, seq = np.asarray(pairs["r"], dtype=np.int64), np.asarray(pairs["seq"], dtype=np.int64)
    if len(r) == 0:
        con.execute("CREATE OR REPLACE TEMP TABLE _row_key (r BIGINT, customer_key BIGINT, shared BOOLEAN)")
        return
    node = node_of(resolved.seq, seq)  # every seq of a row is a stored identifier's
    first = int(r.min())
    row = r - first
    size = int(row.max()) + 1
    key = np.zeros(size, dtype=np.int64)
    np.maximum.at(key, row, resolved.key[node])
    shared = np.zeros(size, dtype=np.bool_)
    np.logical_or.at(shared, row, resolved.shared[node])
    seen = np.zeros(size, dtype=np.bool_)
    seen[row] = True
    rows = np.flatnonzero(seen)
    with registered(con, "_row_key_np", {"r": rows + first, "customer_key": key[rows], "shared": shared[rows]}):
        con.execute("CREATE OR REPLACE TEMP TABLE _row_key AS "
                    "SELECT r, nullif(customer_key, 0) AS customer_key, shared FROM _row_key_np")


def recount_from_contacts(con: duckdb.DuckDBPyConnection) -> None:
    """After contacts or directory rows were deleted (an import removed, a directory replaced):
    identifier counts and links again from the contacts and directory rows left; identifiers none
    of them carries any more are dropped. Then :func:`resolve`."""
    _collect_row_idents(con, "FROM contacts s WHERE true")
    con.execute(f"INSERT INTO _row_idents {_directory_row_idents()}")  # directory rows link too (r < 0)
    con.execute("CREATE OR REPLACE TEMP TABLE _seen AS SELECT ident, count(*) FILTER (WHERE r >= 0) AS n "
                "FROM _row_idents GROUP BY ident")
    con.execute("DELETE FROM identifiers WHERE ident NOT IN (SELECT ident FROM _seen)")
    con.execute("UPDATE identifiers SET contacts = s.n FROM _seen s "
                "WHERE identifiers.ident = s.ident AND identifiers.contacts <> s.n")
    con.execute("DELETE FROM identifier_links")
    _insert_links(con)
    con.execute("DROP TABLE IF EXISTS _row_seq")


#: Up to this many seqs (first to last) are mapped to nodes through a lookup table (4 bytes each:
#: 200 MB for the ~50M seqs of 10M contacts, 1 GiB at most) rather than by binary search. Seqs span
#: at most 5 per row ever imported, and ``np.searchsorted`` of tens of millions of seqs in unsorted
#: order misses the cache on every step: at 10M contacts the row keys took 8.7 s by binary search
#: and take 1.8 s through the table, with the same peak memory.
_LOOKUP_SPAN = 1 << 28


def node_of(seqs: npt.NDArray[np.int64], wanted: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The index in ``seqs`` (ascending, distinct) of each of ``wanted`` (every one of which is in it)."""
    import numpy as np

    if len(seqs) == 0 or len(wanted) == 0:
        return np.zeros(len(wanted), dtype=np.int64)
    low, span = int(seqs[0]), int(seqs[-1]) - int(seqs[0]) + 1
    if span > _LOOKUP_SPAN:
        return np.searchsorted(seqs, wanted)
    table = np.empty(span, dtype=np.int32)
    table[seqs - low] = np.arange(len(seqs), dtype=np.int32)
    return table[wanted - low].astype(np.int64)


@dataclass(frozen=True)
class Resolved:
    """Every identifier as :func:`resolve` left it, by ``seq`` (ascending): its customer key (0:
    it identifies no one) and whether it is ``shared`` (deny-listed or a hub)."""

    seq: npt.NDArray[np.int64]
    key: npt.NDArray[np.int64]
    shared: npt.NDArray[np.bool_]


#: The stored identifiers and those :func:`record_identifiers` left pending, as one table.
_ALL_IDENTIFIERS = ("(SELECT ident, seq, customer_key, first_key, contacts, valid, builtin_placeholder "
                    "FROM identifiers UNION ALL "
                    "SELECT ident, seq, NULL, NULL, contacts, valid, builtin_placeholder FROM _fresh_idents)")


def resolve(con: duckdb.DuckDBPyConnection, hygiene: Hygiene, fresh_from: int | None = None) -> Resolved:
    """Resolve every identifier into people with ``hygiene`` (inside the caller's transaction):
    keys and roles in ``identifiers``, events in ``key_history``, changed keys on ``contacts``.
    ``fresh_from``: the identifiers from this ``seq`` on were just recorded by
    :func:`record_identifiers` (in ``_fresh_idents``) and are on no stored contact (an import's
    own): they are added to ``identifiers`` resolved, and no stored contact is looked at for them."""
    import numpy as np

    from recontact.identity.resolve import resolve_people

    role = f"""CASE WHEN NOT valid THEN 'invalid' WHEN builtin_placeholder THEN 'placeholder'
                    ELSE {_role_sql(hygiene, defaults=False)} END"""
    codes = " ".join(f"WHEN '{r}' THEN {i}" for i, r in enumerate(ROLES) if r)
    nodes = con.execute(f"""
        SELECT seq, coalesce(customer_key, 0) AS known, coalesce(first_key, 0) AS first, contacts,
               coalesce(CASE {role} {codes} END, 0) AS code
        FROM {_ALL_IDENTIFIERS if fresh_from is not None else "identifiers"} ORDER BY seq
    """).fetchnumpy()
    code = np.asarray(nodes["code"], dtype=np.int64)
    n = len(code)
    # Nodes are numbered 0..n-1 in order of first sighting (seq has gaps).
    seqs = np.asarray(nodes["seq"], dtype=np.int64)
    pairs = con.execute("SELECT a, b FROM identifier_links").fetchnumpy()
    ends = node_of(seqs, np.concatenate([np.asarray(pairs[end], dtype=np.int64) for end in ("a", "b")]))
    links = {"a": ends[:len(pairs["a"])], "b": ends[len(pairs["a"]):]}
    next_key = scalar(con, f"""
        SELECT greatest((SELECT coalesce(max(customer_key), 0) + 1 FROM identifiers),
                        (SELECT coalesce(max(TRY_CAST(value AS BIGINT)), 1) FROM meta WHERE key = '{NEXT_KEY}'))
    """)
    people = resolve_people(n, links["a"], links["b"], code > 0, nodes["known"], nodes["contacts"],
                            hygiene.max_links, next_key, first=nodes["first"])
    code = np.where(people.hub, ROLES.index("hub"), code)
    with registered(con, "_resolved_np", {"seq": seqs, "customer_key": people.target,
                                           "code": np.asarray(code, dtype=np.int64), "people": people.touches,
                                           "hub": people.hub}):
        con.execute("""
            CREATE OR REPLACE TEMP VIEW _resolved AS
            SELECT seq, nullif(customer_key, 0) AS customer_key, code, CASE WHEN hub THEN people END AS people
            FROM _resolved_np
        """)
        stored = "" if fresh_from is None else f" AND i.seq < {int(fresh_from)}"
        con.execute(f"""
            CREATE OR REPLACE TEMP TABLE _changed AS
            SELECT i.ident, r.customer_key FROM identifiers i JOIN _resolved r USING (seq)
            WHERE i.customer_key IS DISTINCT FROM r.customer_key{stored}
        """)
        names = ", ".join(f"'{x}'" for x in ROLES[1:])
        roles = f"(SELECT seq, customer_key, [NULL, {names}][code + 1] AS role, people FROM _resolved) r"
        con.execute(f"""
            UPDATE identifiers SET customer_key = r.customer_key, role = r.role, people = r.people,
                                   first_key = coalesce(identifiers.first_key, r.customer_key)
            FROM {roles}
            WHERE identifiers.seq = r.seq AND (identifiers.customer_key IS DISTINCT FROM r.customer_key
                  OR (identifiers.first_key IS NULL AND r.customer_key IS NOT NULL)
                  OR identifiers.role IS DISTINCT FROM r.role OR identifiers.people IS DISTINCT FROM r.people)
        """)
        if fresh_from is not None:
            con.execute(f"""
                INSERT INTO identifiers (ident, seq, customer_key, first_key, contacts, valid, role, people,
                                         builtin_placeholder)
                SELECT f.ident, f.seq, r.customer_key, r.customer_key, f.contacts, f.valid, r.role, r.people,
                       f.builtin_placeholder
                FROM _fresh_idents f JOIN {roles} USING (seq)
            """)
            con.execute("DROP TABLE _fresh_idents")
        con.execute("DROP VIEW _resolved")
    if people.events:
        con.executemany("INSERT INTO key_history VALUES (?, ?, ?, now())",
                        [[old, new or None, kind] for old, new, kind in people.events])
    _rekey_contacts(con)
    con.execute(f"DELETE FROM meta WHERE key IN ('{NEXT_KEY}', '{FINGERPRINT}')")
    con.execute("INSERT INTO meta VALUES (?, ?), (?, ?)",
                [NEXT_KEY, str(max(people.next_key, next_key)), FINGERPRINT, hygiene.fingerprint])
    shared = (code == ROLES.index("denied")) | (code == ROLES.index("hub"))
    return Resolved(seqs, np.asarray(people.target, dtype=np.int64), shared)


def contact_key_sql(alias: str) -> tuple[str, str]:
    """(SELECT expression, FROM joins): the key of contact ``alias`` — that of its first identifier
    that identifies someone — from ``identifiers``."""
    joins = " ".join(f"LEFT JOIN identifiers k_{kind} ON k_{kind}.ident = '{kind}:' || {alias}.{col}"
                     for kind, col in COLUMNS)
    return f"coalesce({', '.join(f'k_{kind}.customer_key' for kind, _ in COLUMNS)})", joins


def _rekey_contacts(con: duckdb.DuckDBPyConnection) -> None:
    """Give the stored contacts touching a changed identifier their key again (only those)."""
    if not scalar(con, "SELECT count(*) FROM _changed"):
        return
    touched = " OR ".join(
        f"c.{col} IN (SELECT substr(ident, {len(kind) + 2}) FROM _changed WHERE starts_with(ident, '{kind}:'))"
        for kind, col in COLUMNS)
    key, joins = contact_key_sql("c")
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _rekey AS
        SELECT c.rowid AS rid, {key} AS customer_key
        FROM (SELECT rowid, * FROM contacts c WHERE {touched}) c {joins}
    """)
    con.execute("UPDATE contacts SET customer_key = r.customer_key FROM _rekey r "
                "WHERE contacts.rowid = r.rid AND contacts.customer_key IS DISTINCT FROM r.customer_key")
    con.execute("DROP TABLE IF EXISTS _rekey")


def resolved_with(store: Store, settings: Settings) -> bool:
    """Whether the store's identities were last resolved with the identity settings of ``settings``."""
    return store.meta(FINGERPRINT) == _fingerprint_of(settings)


def ensure_resolved(path: Path, settings: Settings) -> None:
    """Resolve the store's identities again when the identity settings (deny-list, placeholders,
    max_links, phone region) changed since the last time: a brief read-write open, after which the
    caller reads. Costs one read-only open and a hash when nothing changed."""
    from recontact.store.contacts import open_store

    if not path.exists():
        return  # open_for_reading says what is wrong
    with open_store(path, read_only=True) as store:
        if resolved_with(store, settings):
            return
    with open_store(path, create=False, memory_limit=settings.memory_limit) as store:
        store.con.execute("BEGIN TRANSACTION")
        try:
            resolve(store.con, Hygiene.from_settings(settings))
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise


def key_history_rows(con: duckdb.DuckDBPyConnection) -> int:
    """How many rows ``key_history`` holds (an import's rows come after them: ``cases.sync.touched_customers``)."""
    return int(scalar(con, "SELECT count(*) FROM key_history"))


def current_key(store: Store, key: int) -> int | None:
    """The key ``key`` answers to now, following merges and splits recorded in ``key_history``
    (a split keeps the key when the key still exists); None when it identifies no one any more."""
    con = store.con
    seen: set[int] = set()
    while key not in seen:
        seen.add(key)
        if scalar(con, f"SELECT count(*) FROM identifiers WHERE customer_key = {int(key)}"):
            return key
        rows = con.execute("SELECT new_key FROM key_history WHERE old_key = ? AND kind IN ('merge', 'gone') "
                           "ORDER BY changed_at DESC, rowid DESC LIMIT 1", [key]).fetchall()
        if not rows or rows[0][0] is None:
            return None
        key = int(rows[0][0])
    return None
