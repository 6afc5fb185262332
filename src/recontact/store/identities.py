"""Identity resolution inside an import: link the identifiers of ``_staged`` rows into customers
and write their keys to the ``identifiers`` table."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from recontact.identity.resolve import resolve_components
from recontact.importers.base import sql_str
from recontact.store.sql import scalar

NEXT_KEY = "next_customer_key"  # meta key: the first customer key never handed out


@dataclass(frozen=True)
class IdentifierSql:
    """SQL over ``_staged s``: each identifier as ``kind:value`` (NULL if absent or shared)."""

    parts: tuple[str, ...]
    all_parts: tuple[str, ...]
    shared_list: tuple[str, ...] = ()

    COLUMNS = (("phone", "phone"), ("extension", "extension"), ("email", "email"),
               ("account", "account_id"), ("employee", "employee_id"))

    @classmethod
    def build(cls, shared: list[str]) -> IdentifierSql:
        raw = tuple(f"CASE WHEN s.{col} IS NOT NULL THEN '{kind}:' || s.{col} END" for kind, col in cls.COLUMNS)
        if not shared:
            return cls(raw, raw)
        listed = ", ".join(map(sql_str, shared))
        return cls(tuple(f"CASE WHEN ({p}) NOT IN ({listed}) THEN {p} END" for p in raw), raw, tuple(shared))

    def distinct_values(self) -> str:
        """SQL: every ``kind:value`` identifier of the valid rows with the rowid it first appears at."""
        parts = []
        for kind, col in self.COLUMNS:
            listed = [v.partition(":")[2] for v in self.shared_list if v.startswith(f"{kind}:")]
            unlisted = f" AND s.{col} NOT IN ({', '.join(map(sql_str, listed))})" if listed else ""
            parts.append(f"SELECT '{kind}:' || s.{col} AS ident, min(s.rowid) AS first FROM _staged s "
                         f"WHERE s._reason IS NULL AND s.{col} IS NOT NULL{unlisted} GROUP BY s.{col}")
        return " UNION ALL ".join(parts)

    @property
    def primary(self) -> str:
        return f"coalesce({', '.join(self.parts)})"

    @property
    def count(self) -> str:
        return " + ".join(f"(({p}) IS NOT NULL)::INT" for p in self.parts)

    @property
    def shared(self) -> str:
        return f"({' + '.join(f'(({p}) IS NOT NULL)::INT' for p in self.all_parts)}) > ({self.count})"

    @property
    def listed(self) -> str:
        return f"list_filter([{', '.join(self.parts)}], lambda x: x IS NOT NULL)"


def resolve_identities(con: duckdb.DuckDBPyConnection, ids: IdentifierSql) -> None:
    """Give every identifier of the valid rows a customer key, linking those seen on one record."""
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _links AS
        SELECT DISTINCT l[1] AS a, unnest(l[2:]) AS b
        FROM (SELECT {ids.listed} AS l FROM _staged s WHERE s._reason IS NULL AND {ids.count} > 1)
    """)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _nodes AS
        SELECT n.ident, row_number() OVER (ORDER BY n.ident) - 1 AS id, coalesce(i.customer_key, 0) AS known
        FROM (SELECT a AS ident FROM _links UNION SELECT b FROM _links) n LEFT JOIN identifiers i USING (ident)
    """)
    edges = con.execute("SELECT na.id AS a, nb.id AS b FROM _links JOIN _nodes na ON na.ident = _links.a "
                        "JOIN _nodes nb ON nb.ident = _links.b").fetchnumpy()
    nodes = con.execute("SELECT known FROM _nodes ORDER BY id").fetchnumpy()
    # Keys are never reused: a key retired by a merge may have been the highest one handed out,
    # so the next free key is kept in ``meta`` as well as read off the identifiers.
    next_key = scalar(con, f"""
        SELECT greatest((SELECT coalesce(max(customer_key), 0) + 1 FROM identifiers),
                        (SELECT coalesce(max(TRY_CAST(value AS BIGINT)), 1) FROM meta WHERE key = '{NEXT_KEY}'))
    """)
    res = resolve_components(len(nodes["known"]), edges["a"], edges["b"], nodes["known"], next_key)
    con.register("_target_arrow", pa.table({"id": pa.array(range(len(res.target)), pa.int64()),
                                            "customer_key": pa.array(res.target, pa.int64())}))
    con.register("_merged_arrow", pa.table({"old": pa.array(res.merged_old, pa.int64()),
                                            "new": pa.array(res.merged_new, pa.int64())}))
    if len(res.merged_old):
        for table in ("identifiers", "contacts"):
            con.execute(f"UPDATE {table} SET customer_key = m.new FROM _merged_arrow m "
                        f"WHERE {table}.customer_key = m.old")
    # Linked identifiers: the new ones (known ones whose key changed were moved by the merge).
    con.execute("""
        INSERT INTO identifiers
        SELECT n.ident, t.customer_key, t.customer_key
        FROM _nodes n JOIN _target_arrow t USING (id) WHERE n.known = 0
    """)
    # Identifiers still unknown were only ever seen alone (else they would be linked by now):
    # a new customer each, keyed in order of first sighting.
    con.execute(f"""
        INSERT INTO identifiers
        SELECT ident, k, k FROM (
            SELECT n.ident, {res.next_key} - 1 + row_number() OVER (ORDER BY n.first) AS k
            FROM ({ids.distinct_values()}) n
            ANTI JOIN identifiers i USING (ident))
    """)
    con.unregister("_target_arrow")
    con.unregister("_merged_arrow")
    con.execute(f"DELETE FROM meta WHERE key = '{NEXT_KEY}'")
    con.execute(f"INSERT INTO meta SELECT '{NEXT_KEY}', CAST(greatest({res.next_key}, "
                "coalesce(max(customer_key), 0) + 1) AS VARCHAR) FROM identifiers")
