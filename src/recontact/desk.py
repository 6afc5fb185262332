"""The operations every interface calls: one function per CLI command / API route / page.

Each opens the store, runs the one metric or rule definition on the embedded engine, and returns
plain rows (dicts) whose shape is the CLI's JSON contract. Times come back as aware datetimes in
the configured time zone; customer keys as ``C<n>`` strings; identifiers as ``kind:value``.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import ibis

from recontact import importers
from recontact.config import Settings
from recontact.engines.duckdb import set_timezone
from recontact.errors import ConfigError, UnknownCustomerError
from recontact.identity.deny_list import deny_list_identifiers
from recontact.identity.phone import classify_caller_id
from recontact.importers.base import AsteriskDesk, ImportOptions
from recontact.metrics.callers import Period
from recontact.metrics.callers import top_callers as top_callers_expr
from recontact.metrics.contacts import countable_inbound
from recontact.rules.batch import flags as flags_expr
from recontact.rules.batch import latest_contact
from recontact.rules.spec import Rule
from recontact.schema import IDENTIFIER_KINDS
from recontact.store import ledger
from recontact.store.contacts import Store, open_store, remove_store, store_exists
from recontact.store.identities import IdentifierSql
from recontact.store.load import ImportSummary, Progress, import_file

_KEY = re.compile(r"^[Cc](\d+)$")
TIMEZONE_META = "timezone"  # the desk's time zone, from the last import's --tz


def format_key(key: int) -> str:
    return f"C{key}"


def parse_key(text: str) -> int | None:
    m = _KEY.match(text.strip())
    return int(m.group(1)) if m else None


@dataclass(frozen=True)
class ImportRequest:
    """What ``recontact import`` was asked to do."""

    path: Path
    source: str | None = None
    options: ImportOptions = field(default_factory=ImportOptions)
    rejects_path: Path | None = None
    system: str | None = None  # the system the contacts come from (default: the format name)
    #: The desk's time zone to remember in the store (``--tz``): reports use it unless the config
    #: sets ``timezone``. None (no ``--tz``) leaves the store's as it is.
    desk_timezone: str | None = None


def import_contacts(db: Path, request: ImportRequest, settings: Settings,
                    progress: Progress | None = None) -> ImportSummary:
    """Import one file (format from ``request.source`` or guessed, and said in the notes); write
    every rejected row to a rejects CSV beside the store (or at ``rejects_path``)."""
    if request.source:
        importer = importers.get_format(request.source)
        guessed = None
    else:
        importer = importers.guess_format(request.path)
        guessed = f"format guessed: {importer.NAME} ({importer.DESCRIPTION}); say --source to choose"
    created = not store_exists(db)
    try:
        with open_store(db, memory_limit=settings.memory_limit) as store:
            options, read_in = configured_options(store, request, settings)
            summary = import_file(store, request.path, importer, options, system=request.system,
                                  deny_list=settings.deny_list, progress=progress)
            if read_in:
                summary.notes.append(read_in)
            if request.desk_timezone:
                remember_timezone(store, request.desk_timezone, summary)
    except BaseException:
        if created:  # a failed first import leaves no empty store behind
            remove_store(db)
        raise
    if guessed:
        summary.notes.insert(0, guessed)
    if summary.rejects or summary.conflicted:
        target = request.rejects_path or db.parent / f"{request.path.name}.rejects.csv"
        write_rejects(target, summary)
        summary.rejects_file = str(target)
    return summary


def configured_options(store: Store, request: ImportRequest, settings: Settings) -> tuple[ImportOptions, str | None]:
    """The import options as configured: the desk's Asterisk lines from ``[asterisk]`` (unless the
    options name them), and the zone naive times are read in: ``--tz`` when given; else, when the
    config sets no ``timezone`` and the options carry the default one, the desk time zone the store
    remembers (with a note saying so)."""
    options = request.options
    desk_lines = settings.asterisk
    if not options.asterisk.configured():
        options = replace(options, asterisk=AsteriskDesk(desk_lines.desk_extensions, desk_lines.desk_queues,
                                                         desk_lines.desk_contexts))
    if request.desk_timezone or "timezone" in settings.model_fields_set or options.tz != settings.timezone:
        return options, None
    tz = store.meta(TIMEZONE_META)
    if not tz or tz == options.tz:
        return options, None
    return replace(options, tz=tz), f"times without an offset read in the desk time zone {tz} kept in the store"


def remember_timezone(store: Store, tz: str, summary: ImportSummary) -> None:
    """Keep ``tz`` as the desk's time zone in the store's meta (said in a note when it changes)."""
    before = store.meta(TIMEZONE_META)
    if before != tz:
        store.set_meta(TIMEZONE_META, tz)
        was = f" (was {before})" if before else ""
        summary.notes.append(f"desk time zone {tz}{was} kept in the store: reports use it unless "
                             "recontact.toml sets timezone")


def report_settings(store: Store, settings: Settings) -> Settings:
    """``settings`` with the reporting time zone in force: the config's ``timezone`` when it sets
    one, else the desk time zone the store remembers from an import's ``--tz``, else UTC."""
    if "timezone" in settings.model_fields_set:
        return settings
    tz = store.meta(TIMEZONE_META)
    return settings.model_copy(update={"timezone": tz}) if tz else settings


def report_timezone(db: Path, settings: Settings) -> str:
    """The time zone reports on the store at ``db`` are cut and printed in (see report_settings)."""
    with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
        return report_settings(store, settings).timezone


def write_rejects(target: Path, summary: ImportSummary) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "line", "reason", "raw"])
        for r in sorted([*summary.rejects, *summary.conflicted], key=lambda r: r.line or 0):
            w.writerow([r.file, r.line, _inert(r.reason), _inert(r.raw)])


def _inert(text: str) -> str:
    """Text a spreadsheet will not run as a formula (OWASP CSV injection: a leading quote)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def list_imports(db: Path, settings: Settings) -> list[dict[str, Any]]:
    """The import ledger, oldest first: file, size, SHA-256, system, format, options, counts, when."""
    with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
        rows = ledger.list_imports(store.con)
    for r in rows:
        r["imported_at"] = _local(r["imported_at"], settings)
    return rows


def remove_import(db: Path, settings: Settings, import_id: int) -> dict[str, Any]:
    """Take import ``import_id`` out of the store, in one transaction: the contacts it added and its
    ledger row go, and the customers it touched are re-resolved from the contacts left, so flags
    and top callers are as they were before it. Returns the removed ledger row."""
    with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
        ids = IdentifierSql.build(deny_list_identifiers(settings.deny_list, settings.default_region))
        store.con.execute("BEGIN TRANSACTION")
        try:
            row = ledger.remove_import_rows(store.con, import_id, ids)
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
    row["imported_at"] = _local(row["imported_at"], settings)
    return row


def _contacts(store: Store, settings: Settings) -> Any:
    con = store.ibis()
    set_timezone(store.con, settings.timezone)  # after Ibis, which sets the session to UTC on connect
    return con.table("contacts")


def _countable(store: Store, settings: Settings) -> Any:
    """The contacts flags and rankings count, the deny-list applied as configured now."""
    listed = deny_list_identifiers(settings.deny_list, settings.default_region)
    values = {kind: [i.partition(":")[2] for i in listed if i.startswith(f"{kind}:")] for kind in ("phone", "email")}
    return countable_inbound(_contacts(store, settings), values["phone"], values["email"])


def with_identifiers(rows: Any, store: Store) -> Any:
    """``rows`` (an Ibis table with ``customer_key``) plus ``identifiers``: every ``kind:value`` of
    the customer, phones first, then extensions, e-mails, accounts, employee ids."""
    idents = store.ibis().table("identifiers")
    wanted = idents.filter(idents.customer_key.isin(rows.customer_key))
    rank = ibis.cases(*((wanted.ident.startswith(f"{kind}:"), i) for i, kind in enumerate(IDENTIFIER_KINDS)),
                      else_=len(IDENTIFIER_KINDS))
    lists = wanted.group_by("customer_key").aggregate(identifiers=wanted.ident.collect(order_by=[rank, wanted.ident]))
    return rows.left_join(lists, "customer_key").drop("customer_key_right")


def _local(ts: datetime, settings: Settings) -> datetime:
    """``ts`` in the configured zone (the engine usually returns it so already: no conversion)."""
    zone = ZoneInfo(settings.timezone)
    return ts if ts.tzinfo is zone else ts.astimezone(zone)


def select_rules(settings: Settings, names: Sequence[str] = ()) -> tuple[Rule, ...]:
    """The configured rules called ``names`` (all when empty); ConfigError naming the unknown ones."""
    if not names:
        return settings.rules
    known = {r.name: r for r in settings.rules}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"no rule called {', '.join(unknown)}; rules in force: {', '.join(known)}")
    return tuple(known[n] for n in dict.fromkeys(names))


def list_flags(db: Path, settings: Settings, *, rules: Sequence[str] = (), since: date | None = None,
               customer_key: int | None = None, open_only: bool = False) -> list[dict[str, Any]]:
    """Every flag episode: rule, customer, category, crossing contact and time, count, and when it
    closed (``closed_at``; None while open at the latest contact in the store).

    ``rules`` narrows to some rules by name; ``since`` keeps flags crossed on or after that local
    date (the configured time zone); ``customer_key`` computes one customer's flags only;
    ``open_only`` keeps the open ones. Times are aware datetimes in the configured zone."""
    chosen = select_rules(settings, rules)
    with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
        settings = report_settings(store, settings)
        contacts = _countable(store, settings)
        if customer_key is not None:
            contacts = contacts.filter(contacts.customer_key == customer_key)
        flagged = flags_expr(contacts, chosen, latest_contact(_contacts(store, settings)))
        if since is not None:
            start = datetime.combine(since, time(0), ZoneInfo(settings.timezone))
            flagged = flagged.filter(flagged.crossed_at >= start)
        if open_only:
            flagged = flagged.filter(flagged.closed_at.isnull())
        ordered = with_identifiers(flagged, store).order_by(["crossed_at", "rule", "customer_key", "category"])
        rows = ordered.to_pyarrow().to_pylist()
    return [{
        "customer_key": format_key(r["customer_key"]),
        "identifiers": r["identifiers"] or [],
        "rule": r["rule"],
        "crossed_at": _local(r["crossed_at"], settings),
        "count": int(r["count"]),
        "contact_id": r["contact_id"],
        "category": r["category"],
        "closed_at": _local(r["closed_at"], settings) if r["closed_at"] is not None else None,
    } for r in rows]


def period_label(start: date, period: Period) -> str:
    """``2026-W03`` (ISO week) or ``2026-01`` (calendar month)."""
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def top_callers(db: Path, settings: Settings, period: Period = "week", n: int = 5) -> list[dict[str, Any]]:
    """The top ``n`` callers of each ISO week or calendar month, in the configured time zone."""
    with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
        settings = report_settings(store, settings)
        contacts = _countable(store, settings)
        ranked = top_callers_expr(contacts, period, n)
        rows = with_identifiers(ranked, store).order_by(["period_start", "rank"]).to_pyarrow().to_pylist()
    return [{
        "period": period_label(r["period_start"], period),
        "rank": int(r["rank"]),
        "customer_key": format_key(r["customer_key"]),
        "identifiers": r["identifiers"] or [],
        "contacts": int(r["contacts"]),
        "handle_s": float(r["handle_s"]),
    } for r in rows]


def find_customer(store: Store, query: str, region: str) -> int:
    """The customer key for ``C<n>``, a phone number in any format, an e-mail, an account or
    employee id, or an extension; UnknownCustomerError when none matches."""
    key = parse_key(query)
    if key is not None:
        hit = store.con.execute("SELECT 1 FROM identifiers WHERE customer_key = ? LIMIT 1", [key]).fetchall()
        if hit:
            return key
    text = query.strip()
    kind, _, value = text.partition(":")
    candidates = [text] if kind in IDENTIFIER_KINDS and value else []
    cid = classify_caller_id(text, region)
    if cid.identifier:
        candidates.append(cid.identifier)
    candidates += [f"email:{text.casefold()}", f"account:{text}", f"employee:{text}"]
    for ident in candidates:
        rows = store.con.execute("SELECT customer_key FROM identifiers WHERE ident = ?", [ident]).fetchall()
        if rows:
            return int(rows[0][0])
    raise UnknownCustomerError(f"no customer matches {query!r} (try a key like C12, a phone number or an e-mail)")


def customer_timeline(db: Path, settings: Settings, query: str) -> dict[str, Any]:
    """One customer: identifiers, every contact in time order, and their flags."""
    with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
        settings = report_settings(store, settings)
        key = find_customer(store, query, settings.default_region)
        contacts = _contacts(store, settings)
        me = ibis.memtable({"customer_key": [key]}, schema={"customer_key": "int64"})
        idents = with_identifiers(me, store).to_pyarrow().to_pylist()[0]["identifiers"] or []
        mine = contacts.filter(contacts.customer_key == key).order_by(["started_at", "contact_id", "content_hash"])
        rows = mine.select(
            "started_at", "channel", "direction", "category", "agent_id", "contact_id", "talk_s", "hold_s",
            "wrap_s", "resolved", "source", "line",
        ).to_pyarrow().to_pylist()
    flags = list_flags(db, settings, customer_key=key)
    for r in rows:
        r["started_at"] = _local(r["started_at"], settings)
    return {"customer_key": format_key(key), "identifiers": idents, "contacts": rows, "flags": flags}
