"""Compiled-SQL cache: the SQL Ibis compiles for a query, kept on disk and run with plain DuckDB.

Importing Ibis and building an expression costs about half a second before any work is done: too
much for a point lookup such as one customer's flags. The metric stays defined once, as an Ibis
expression; this module only remembers the SQL Ibis made of it, so that later runs skip Ibis.

How a caller uses it (``desk.customer_flags`` is the example)::

    def build() -> str:                       # runs only on a cache miss: imports Ibis
        key = ibis.param("int64")
        expr = definition(contacts.filter(contacts.customer_key == key))
        return compile_with_params(store.ibis(), expr, {"customer_key": key})

    sql = cached_sql("customer-flags", inputs=settings.model_dump_json(), build=build)
    rows = fetch_dicts(store.con, sql, {"customer_key": 12})

Cache key: recontact's version, a fingerprint of recontact's own source code (so a changed
definition is never answered from an old compilation, even without a version bump), the versions of
Ibis and sqlglot that compiled the SQL and of DuckDB that runs it (an upgrade of any of them
compiles afresh), the query name, and ``inputs`` — everything else the expression depends on
(rules, deny-list, region…).
Files live in ``$RECONTACT_CACHE_DIR``, else ``$XDG_CACHE_HOME/recontact``, else
``~/.cache/recontact``; a cache that cannot be written is skipped silently (the answer is the
same, only slower). Only integer parameters are supported: they are compiled as an unlikely
literal and that literal is replaced by ``$name`` (DuckDB's named parameter).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

from recontact import __version__

CACHE_ENV = "RECONTACT_CACHE_DIR"

#: First literal standing in for a parameter while Ibis compiles (then ``+ 1`` for the next one).
_SENTINEL = 7_351_987_103_468_259_821


def cache_dir() -> Path:
    """Where compiled SQL is kept (see the module docstring)."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "recontact"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """A hash of every ``.py`` file of the installed recontact package (about 1 ms)."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


#: The distributions whose versions are part of the cache key: Ibis and sqlglot compile the SQL,
#: DuckDB runs it.
COMPILERS = ("duckdb", "ibis-framework", "sqlglot")


@lru_cache(maxsize=1)
def compiler_versions() -> tuple[str, ...]:
    """``name==version`` of each of :data:`COMPILERS` installed (read from package metadata, without
    importing Ibis)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(dist: str) -> str:
        if dist == "duckdb":
            return str(duckdb.__version__)
        try:
            return version(dist)
        except PackageNotFoundError:
            return "absent"

    return tuple(f"{dist}=={installed(dist)}" for dist in COMPILERS)


def cache_key(name: str, inputs: str, *, code: str | None = None, versions: tuple[str, ...] | None = None) -> str:
    """The key of query ``name`` compiled for ``inputs`` by recontact's ``code`` (its fingerprint)
    with the compilers of ``versions`` (both default to what is installed)."""
    parts = (code if code is not None else code_fingerprint(),
             *(versions if versions is not None else compiler_versions()), name, inputs)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def cache_path(name: str, inputs: str) -> Path:
    """The file holding query ``name`` compiled for ``inputs`` by this very recontact, Ibis,
    sqlglot and DuckDB."""
    return cache_dir() / "compiled" / f"{name}-{cache_key(name, inputs)[:32]}.sql"


def cached_sql(name: str, inputs: str, build: Callable[[], str]) -> str:
    """The SQL of query ``name`` for ``inputs``: read from the cache, else ``build()`` and store it."""
    path = cache_path(name, inputs)
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    sql = build()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                         suffix=".tmp") as f:
            f.write(sql)
        os.replace(f.name, path)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError:
        pass
    return sql


def compile_with_params(backend: Any, expr: Any, params: Mapping[str, Any]) -> str:
    """Ibis' SQL for ``expr`` in which each integer scalar parameter (``ibis.param("int64")``) of
    ``params`` is the DuckDB named parameter ``$name``. ValueError if a parameter is not in the SQL."""
    stand_ins = {name: _SENTINEL + i for i, name in enumerate(params)}
    sql = str(backend.compile(expr, params={p: stand_ins[name] for name, p in params.items()}))
    for name, literal in stand_ins.items():
        sql, found = re.subn(rf"(?<![\w.]){literal}(?![\w.])", f"${name}", sql)
        if not found:
            raise ValueError(f"parameter {name!r} does not appear in the compiled SQL")
    return sql


def iter_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None, *,
               batch: int = 10_000) -> Iterator[dict[str, Any]]:
    """Rows of ``sql`` run with named ``params``, as dicts keyed by column name, fetched ``batch``
    rows at a time. The query runs before this returns (errors surface here, not mid-stream)."""
    cur = con.execute(sql, dict(params) if params else None)
    names = [d[0] for d in cur.description or ()]

    def rows() -> Iterator[dict[str, Any]]:
        while chunk := cur.fetchmany(batch):
            for row in chunk:
                yield dict(zip(names, row, strict=True))

    return rows()


def fetch_dicts(con: duckdb.DuckDBPyConnection, sql: str, params: Mapping[str, Any] | None = None
                ) -> list[dict[str, Any]]:
    """Every row of ``sql`` run with named ``params``, as dicts keyed by column name."""
    return list(iter_dicts(con, sql, params))
