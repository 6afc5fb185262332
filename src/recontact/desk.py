"""The operations every interface calls: one function per CLI command / API route / page.

Each opens the store, runs the one metric or rule definition on the embedded engine, and returns
plain rows (dicts) whose shape is the CLI's JSON contract. Times come back as aware datetimes in
the configured time zone; customer keys as ``C<n>`` strings; identifiers as ``kind:value``.

Read commands open the store through ``open_for_reading`` (read-only: many readers at once, and
``store busy`` while an import runs). Modules that build Ibis expressions (metrics, rules) and the
import machinery are imported inside the functions that use them: ``customer`` and cached
``flags`` answer with plain DuckDB and must not pay for loading Ibis (see engines/compiled.py).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from recontact.cases import IMPORT_HOOK_MODULES, NEW_STORE_MODULES
from recontact.config import Settings
from recontact.engines.compiled import cached_sql, compile_with_params, fetch_dicts, iter_dicts
from recontact.engines.duckdb import set_timezone
from recontact.errors import ConfigError, Interrupted, UnknownCustomerError, interrupted
from recontact.importers.base import AsteriskDesk, ImportOptions
from recontact.rules.spec import Rule
from recontact.schema import IDENTIFIER_KINDS
from recontact.store.contacts import Store, open_store, remove_store, store_exists
from recontact.store.identities import Hygiene, current_key, ensure_resolved, key_history_rows, resolved_with

if TYPE_CHECKING:
    from recontact.metrics.callers import Period
    from recontact.store.load import ImportSummary, Progress

_KEY = re.compile(r"^[Cc](\d+)$")
TIMEZONE_META = "timezone"  # the desk's time zone, from the last import's --tz
REGION_META = "phone_region"  # the phone region the last import read national numbers in


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


def import_contacts(db: Path, request: ImportRequest, settings: Settings, progress: Progress | None = None,
                    phase: Callable[[str], None] | None = None) -> ImportSummary:
    """Import one file (format from ``request.source`` or guessed, and said in the notes); write
    every rejected row to a rejects CSV beside the store (or at ``rejects_path``). ``progress`` is
    told the percentage of the contacts' import done; ``phase`` the name of each later step
    (``"opening cases"``)."""
    from recontact import importers
    from recontact.store.load import import_file

    if request.source:
        importer = importers.get_format(request.source)
        guessed = None
    else:
        importer, why = importers.detect_format(request.path, mapped=bool(request.options.column_map),
                                                delimited=bool(request.options.delimiter))
        guessed = f"read as {importer.NAME}: {why} (say --source to choose another format)"
    created = not store_exists(db)
    landed: ImportSummary | None = None  # the import, once committed
    try:
        with open_store(db, memory_limit=settings.memory_limit) as store:
            options, read_in = configured_options(store, request, settings)
            region, region_note = import_region(store, options.tz, settings)
            options, settings = replace(options, region=region), with_region(settings, region)
            history = _history_for_cases(settings, store)
            earlier = _finish_earlier_cases(db, settings, store) if history is not None else []
            summary = import_file(store, request.path, importer, options, system=request.system,
                                  hygiene=Hygiene.from_settings(settings), progress=progress,
                                  preload=_cases_modules(created) if history is not None else (),
                                  before_commit=_cases_due(None if created else history)
                                  if history is not None else None)
            landed = summary
            summary.notes[:0] = earlier
            if read_in:
                summary.notes.append(read_in)
            if request.desk_timezone:
                remember_timezone(store, request.desk_timezone, summary)
            if store.meta(REGION_META) != region:
                store.set_meta(REGION_META, region)
            if region_note or summary.invalid_phones:
                summary.notes.append(region_note or _region_hint(region, settings))
            if history is not None and summary.import_id:
                if phase is not None:
                    phase("opening cases")
                summary.notes.extend(_open_cases(lambda: _import_hook(db, settings, created), store,
                                                 summary.import_id))
    except BaseException as e:
        if created:  # a failed first import leaves no empty store behind
            remove_store(db)
        if interrupted(e):
            raise Interrupted(_interrupted_import(request.path, landed, created)) from None
        raise
    if guessed:
        summary.notes.insert(0, guessed)
    if summary.rejects or summary.conflicted:
        target = request.rejects_path or db.parent / f"{request.path.name}.rejects.csv"
        write_rejects(target, summary)
        summary.rejects_file = str(target)
    return summary


def _interrupted_import(path: Path, landed: ImportSummary | None, created: bool) -> str:
    """What an import stopped by Ctrl-C kept."""
    if landed is None or created:
        return f"{path}: nothing of it was imported (the import was rolled back)"
    return (f"{path}: its contacts were imported (import {landed.import_id}), its cases perhaps not all; "
            "the next import, recontact cases sync or recontact worker opens any missing")


def _history_for_cases(settings: Settings, store: Store) -> int | None:
    """What opening cases after the import needs to know before it (``[cases] open_on_import``):
    the key history's length. None when cases are not opened on import. (The cases layer itself is
    loaded while DuckDB reads the file: ``IMPORT_HOOK_MODULES``.)"""
    return key_history_rows(store.con) if settings.cases.open_on_import else None


def _cases_due(history_from: int | None) -> Callable[[Any, int], None]:
    """The import's own commit records that its cases are due (``ledger.mark_cases_due``): a kill
    after it and before its cases are open leaves them to the next write, never lost."""
    from recontact.store.ledger import mark_cases_due

    return lambda con, import_id: mark_cases_due(con, import_id, history_from)


def _finish_earlier_cases(db: Path, settings: Settings, store: Store) -> list[str]:
    """Before an import: open the cases of earlier imports that were stopped (kill -9, power
    loss) after their commit and before their cases were open; a note when there were any."""
    from recontact.store.ledger import cases_due

    if not cases_due(store.con):  # the usual case: one query, no cases layer loaded
        return []
    return _open_cases(lambda: _PendingCases(db, settings), store, 0)


class _PendingCases:
    """``_open_cases`` hook: the cases of every import whose cases are due."""

    def __init__(self, db: Path, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.notes: list[str] = []

    def after(self, store: Store, import_id: int) -> Any:
        from recontact.cases.service import finish_pending
        from recontact.store.ledger import clear_cases_due
        from recontact.wording import plural

        summary, finished = finish_pending(store, self.db, self.settings)
        clear_cases_due(store.con, finished)
        self.notes.append(f"first the cases of {plural(len(finished), 'earlier import')} "
                          f"({', '.join(map(str, finished))}) stopped before they were open:")
        return summary


def _cases_modules(created: bool) -> tuple[str, ...]:
    """The modules opening cases after this import will load (Alembic only for a new store)."""
    return (*IMPORT_HOOK_MODULES, *NEW_STORE_MODULES) if created else IMPORT_HOOK_MODULES


def _import_hook(db: Path, settings: Settings, created: bool) -> Any:
    from recontact.cases.service import ImportHook

    return ImportHook(db, settings, created)


def _open_cases(make_hook: Callable[[], Any], store: Store, import_id: int) -> list[str]:
    """Open cases for the new flag episodes of the customers import ``import_id`` touched (the hook
    ``make_hook`` makes decides which); notes saying what happened. The import is committed already:
    when the cases store fails, the note says so and ``recontact cases sync`` catches up later."""
    try:
        hook = make_hook()
        store.release_memory()  # the import's cached blocks: the cases work should not add to them
        done = hook.after(store, import_id)
    except Exception as e:  # the contacts are in whatever happens to the cases store or a listener
        if interrupted(e):  # Ctrl-C: the caller says what was kept
            raise
        first = (str(e).splitlines() or [type(e).__name__])[0]
        return [f"cases NOT opened ({first}); the next import, recontact cases sync or recontact worker opens them "
                "once the cases store works"]
    from recontact.wording import plural

    who = "every customer" if done.customers is None else plural(done.customers, "customer")
    history = (f"; {plural(done.history, 'older episode')} kept as history ([cases] open_within; "
               "recontact cases sync --since DAY opens them)" if done.history else "")
    closed = f"; {plural(done.closed, 'case')} of customers with no contact left closed" if done.closed else ""
    if done.reopened:
        closed += f"; {plural(done.reopened, 'case')} of customers whose contacts came back reopened"
    return [*hook.notes, f"cases: {done.opened:,} opened, {plural(done.attached, 'flag episode')} attached to open "
            f"cases ({plural(done.episodes, 'episode')} of {who} evaluated){history}{closed}"]


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


def import_region(store: Store, tz: str, settings: Settings) -> tuple[str, str | None]:
    """The phone region national numbers (no country code) are read in, and a note when it was
    not configured: ``default_region`` when recontact.toml sets it; else the country owning the
    zone naive times are read in (``zone.tab``: Europe/London -> GB); else the region the store's
    last import used; else the default (US)."""
    if "default_region" in settings.model_fields_set:
        return settings.default_region, None
    import phonenumbers

    from recontact.identity.zones import country_of_zone

    country = country_of_zone(tz)
    if country and country in phonenumbers.SUPPORTED_REGIONS:
        return country, (f"phone numbers without a country code read as {country} numbers: the country of "
                         f"the time zone {tz} (set default_region in recontact.toml to choose another)")
    return store.meta(REGION_META) or settings.default_region, None


def _region_hint(region: str, settings: Settings) -> str:
    """What to do about invalid phone numbers read in a region nobody chose."""
    if "default_region" in settings.model_fields_set:
        return f"phone numbers without a country code read as {region} numbers (default_region)"
    return (f"phone numbers without a country code read as {region} numbers, the default: no --tz of one "
            "country says otherwise; if they are another country's national numbers, set default_region "
            "in recontact.toml (e.g. default_region = \"GB\") or import with --tz of that country")


def with_region(settings: Settings, region: str) -> Settings:
    """``settings`` with ``default_region`` = ``region`` (unchanged when it is already)."""
    return settings if settings.default_region == region else settings.model_copy(update={"default_region": region})


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
    one, else the desk time zone the store remembers from an import's ``--tz``, else UTC; and the
    phone region lookups use: the config's ``default_region``, else the one the store's last import
    read national numbers in (``import_region``)."""
    if "default_region" not in settings.model_fields_set:
        settings = with_region(settings, store.meta(REGION_META) or settings.default_region)
    if "timezone" in settings.model_fields_set:
        return settings
    tz = store.meta(TIMEZONE_META)
    return settings.model_copy(update={"timezone": tz}) if tz else settings


def report_timezone(db: Path, settings: Settings) -> str:
    """The time zone reports on the store at ``db`` are cut and printed in (see report_settings)."""
    with open_for_reading(db, settings) as store:
        return report_settings(store, settings).timezone


def write_rejects(target: Path, summary: ImportSummary) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["file", "line", "reason", "raw"])
        for r in sorted([*summary.rejects, *summary.conflicted], key=lambda r: r.line or 0):
            w.writerow([r.file, r.line if r.unit == "line" else r.where(), _inert(r.reason), _inert(r.raw)])


def _inert(text: str) -> str:
    """Text a spreadsheet will not run as a formula (OWASP CSV injection: a leading quote)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def list_imports(db: Path, settings: Settings) -> list[dict[str, Any]]:
    """The import ledger, oldest first: file, size, SHA-256, system, format, options, counts, when."""
    from recontact.store import ledger

    with open_for_reading(db, settings) as store:
        rows = ledger.list_imports(store.con)
        settings = report_settings(store, settings)
    for r in rows:
        r["imported_at"] = _local(r["imported_at"], settings)
    return rows


def remove_import(db: Path, settings: Settings, import_id: int) -> dict[str, Any]:
    """Take import ``import_id`` out of the store, in one transaction: the contacts it added and its
    ledger row go, and the customers it touched are re-resolved from the contacts left, so flags
    and top callers are as they were before it. Returns the removed ledger row."""
    from recontact.store import ledger

    with open_store(db, create=False, memory_limit=settings.memory_limit) as store:
        store.con.execute("BEGIN TRANSACTION")
        try:
            row = ledger.remove_import_rows(store.con, import_id,
                                              Hygiene.from_settings(report_settings(store, settings)))
            store.con.execute("COMMIT")
        except BaseException:
            store.con.execute("ROLLBACK")
            raise
        if settings.cases.open_on_import and _has_cases(db):
            # cases keep the episodes the removed contacts made, marked no longer live; the cases
            # of customers left with no contact close; pending imports' cases open
            _open_cases(lambda: _CasesResync(db, settings), store, import_id)
    row["imported_at"] = _local(row["imported_at"], settings)
    return row


def _has_cases(db: Path) -> bool:
    """Whether a cases store may hold cases for ``db`` (a server by URL, or the SQLite file beside it)."""
    import os

    from recontact.cases.db import DATABASE_URL_ENV, sqlite_path

    return bool(os.environ.get(DATABASE_URL_ENV)) or sqlite_path(db).exists()


class _CasesResync:
    """After an import's removal: every customer's cases brought up to date (``_open_cases`` hook)."""

    def __init__(self, db: Path, settings: Settings) -> None:
        self.db, self.settings = db, settings
        self.notes: list[str] = []

    def after(self, store: Store, import_id: int) -> Any:
        from recontact.cases.service import sync_store
        from recontact.store.ledger import cases_due, clear_cases_due

        due = sorted(cases_due(store.con))
        reason = f"import {import_id} was removed: customer {{key}} has no contact left"
        done = sync_store(store, self.db, self.settings, None, gone_reason=reason)
        clear_cases_due(store.con, due)
        return done


def open_for_reading(db: Path, settings: Settings) -> Store:
    """The store at ``db``, opened read-only for a read command, the session in the reporting time
    zone (``report_settings``).

    The one place read commands open the store: StoreError when it does not exist, and
    ``store busy: an import is running (…)`` while an import holds it. Identities are resolved
    again first (a brief read-write open) when the identity settings changed since the last time."""
    store = open_store(db, read_only=True, memory_limit=settings.memory_limit)
    in_force = report_settings(store, settings)
    if not resolved_with(store, in_force):  # rare: one more open, to resolve, then read again
        store.close()
        ensure_resolved(db, in_force)
        store = open_store(db, read_only=True, memory_limit=settings.memory_limit)
    try:
        set_timezone(store.con, report_settings(store, settings).timezone)
    except BaseException:
        store.close()
        raise
    return store


def _contacts(store: Store, settings: Settings) -> Any:
    con = store.ibis()
    set_timezone(store.con, settings.timezone)  # after Ibis, which sets the session to UTC on connect
    return con.table("contacts")


def _countable(store: Store, settings: Settings) -> Any:
    """The contacts flags and rankings count (identities resolved with the settings in force)."""
    from recontact.metrics.contacts import countable_inbound

    return countable_inbound(_contacts(store, settings))


def with_identifiers(rows: Any, store: Store) -> Any:
    """``rows`` (an Ibis table with ``customer_key``) plus ``identifiers``: every ``kind:value`` of
    the customer, phones first, then extensions, e-mails, accounts, employee ids."""
    import ibis

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


def _flags_expr(store: Store, settings: Settings, rules: Sequence[Rule], customer: Any = None, *,
                identifiers: bool = True) -> Any:
    """The Ibis expression of every flag episode of ``rules`` (with the customer's ``identifiers``
    when asked), ordered by crossing time, rule, customer, category; ``customer`` (a key or an Ibis
    parameter) narrows to one customer (episodes still close against the whole store's latest contact)."""
    from recontact.rules.batch import flags as flags_expr
    from recontact.rules.batch import latest_contact

    contacts = _countable(store, settings)
    if customer is not None:
        contacts = contacts.filter(contacts.customer_key == customer)
    flagged = flags_expr(contacts, rules, latest_contact(_contacts(store, settings)))
    if identifiers:
        flagged = with_identifiers(flagged, store)
    return flagged.order_by(FLAG_ORDER)


#: The order flags are listed in.
FLAG_ORDER = ["crossed_at", "rule", "customer_key", "category"]


def _flag_row(r: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """One flag as the JSON contract has it."""
    return {
        "customer_key": format_key(r["customer_key"]),
        "identifiers": list(r["identifiers"] or []),
        "rule": r["rule"],
        "crossed_at": _local(r["crossed_at"], settings),
        "count": int(r["count"]),
        "contact_id": r["contact_id"],
        "category": r["category"],
        "closed_at": _local(r["closed_at"], settings) if r["closed_at"] is not None else None,
    }


def _compiled_flags(store: Store, settings: Settings, rules: Sequence[Rule], name: str, *,
                    one_customer: bool) -> str:
    """The SQL of ``_flags_expr`` from the compiled-SQL cache (compiled by Ibis on a miss);
    ``one_customer`` leaves out the identifiers and adds the parameter ``$customer_key``."""
    inputs = f"{settings.model_dump_json()}|{[r.name for r in rules]}"

    def build() -> str:
        if not one_customer:
            return str(store.ibis().compile(_flags_expr(store, settings, rules)))
        import ibis

        key = ibis.param("int64")
        mine = _flags_expr(store, settings, rules, key, identifiers=False)
        return compile_with_params(store.ibis(), mine, {"customer_key": key})

    sql = cached_sql(name, inputs, build)
    set_timezone(store.con, settings.timezone)  # building made an Ibis backend, which sets UTC
    return sql


def iter_flags(db: Path, settings: Settings, *, rules: Sequence[str] = (), since: date | None = None,
               open_only: bool = False) -> Iterator[dict[str, Any]]:
    """Every flag episode: rule, customer, category, crossing contact and time, count, and when it
    closed (``closed_at``; None while open at the latest contact in the store); oldest crossing
    first, streamed (the store stays open, read-only, until the last row is read).

    ``rules`` narrows to some rules by name; ``since`` keeps flags crossed on or after that local
    date (the configured time zone); ``open_only`` keeps the open ones. Times are aware datetimes in
    the configured zone. The query runs before this returns: errors are raised here."""
    chosen = select_rules(settings, rules)
    store = open_for_reading(db, settings)
    try:
        settings = report_settings(store, settings)
        sql = _compiled_flags(store, settings, chosen, "flags", one_customer=False)
        params: dict[str, Any] = {}
        where = []
        if since is not None:
            where.append("crossed_at >= $since")
            params["since"] = datetime.combine(since, time(0), ZoneInfo(settings.timezone))
        if open_only:
            where.append("closed_at IS NULL")
        if where:
            sql = f"SELECT * FROM ({sql}) WHERE {' AND '.join(where)} ORDER BY {', '.join(FLAG_ORDER)}"
        rows = iter_dicts(store.con, sql, params)
    except BaseException:
        store.close()
        raise
    return _closing(store, (_flag_row(r, settings) for r in rows))


def _closing(store: Store, rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """``rows``, closing ``store`` once they are read (or the reader stops)."""
    try:
        yield from rows
    finally:
        store.close()


def list_flags(db: Path, settings: Settings, *, rules: Sequence[str] = (), since: date | None = None,
               customer_key: int | None = None, open_only: bool = False) -> list[dict[str, Any]]:
    """Every flag episode, as ``iter_flags`` streams them, in a list.

    ``customer_key`` computes one customer's flags only, straight through Ibis (no compiled-SQL
    cache): the reference the cached ``customer_flags`` is tested against."""
    if customer_key is None:
        return list(iter_flags(db, settings, rules=rules, since=since, open_only=open_only))
    chosen = select_rules(settings, rules)
    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        flagged = _flags_expr(store, settings, chosen, customer_key)
        if since is not None:
            start = datetime.combine(since, time(0), ZoneInfo(settings.timezone))
            flagged = flagged.filter(flagged.crossed_at >= start)
        if open_only:
            flagged = flagged.filter(flagged.closed_at.isnull())
        rows = flagged.order_by(FLAG_ORDER).to_pyarrow().to_pylist()
    return [_flag_row(r, settings) for r in rows]


def customer_flags(store: Store, settings: Settings, key: int, identifiers: list[str]) -> list[dict[str, Any]]:
    """One customer's flag episodes under every configured rule, oldest first: the same definition
    as ``list_flags``, run as cached compiled SQL with the customer key as a parameter.
    ``settings`` are the reporting ones (``report_settings``); ``identifiers`` are the customer's
    (``identifiers_of``), copied into each flag."""
    sql = _compiled_flags(store, settings, settings.rules, "customer-flags", one_customer=True)
    rows = fetch_dicts(store.con, sql, {"customer_key": key})
    return [_flag_row({**r, "identifiers": identifiers}, settings) for r in rows]


def period_label(start: date, period: Period) -> str:
    """``2026-01-15`` (day), ``2026-W03`` (ISO week) or ``2026-01`` (calendar month)."""
    if period == "day":
        return start.isoformat()
    if period == "week":
        year, week, _ = start.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{start.year}-{start.month:02d}"


def top_callers(db: Path, settings: Settings, period: Period = "week", n: int = 5) -> list[dict[str, Any]]:
    """The top ``n`` callers of each ISO week or calendar month, in the configured time zone."""
    from recontact.metrics.callers import top_callers as top_callers_expr

    with open_for_reading(db, settings) as store:
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
    """The customer key for ``C<n>`` (a key lost in a merge answers with the key it lives on as),
    a phone number in any format, an e-mail, an account or employee id, or an extension;
    UnknownCustomerError when none matches or the identifier identifies no one."""
    key = parse_key(query)
    if key is not None:
        now = current_key(store, key)
        if now is not None:
            return now
    from recontact.identity.phone import classify_caller_id  # phonenumbers loads in ~0.05 s: only when needed

    text = query.strip()
    kind, _, value = text.partition(":")
    candidates = [text] if kind in IDENTIFIER_KINDS and value else []
    cid = classify_caller_id(text, region)
    if cid.identifier:
        candidates.append(cid.identifier)
    candidates += [f"email:{text.casefold()}", f"account:{text}", f"employee:{text}"]
    for ident in candidates:
        rows = store.con.execute("SELECT customer_key, role, people FROM identifiers WHERE ident = ?",
                                 [ident]).fetchall()
        if rows and rows[0][0] is not None:
            return int(rows[0][0])
        if rows:
            touches = f", touching {rows[0][2]} people" if rows[0][2] else ""
            raise UnknownCustomerError(f"{ident} identifies no one: it is {rows[0][1]}{touches} "
                                       "(see recontact identities --shared)")
    raise UnknownCustomerError(f"no customer matches {query!r} (try a key like C12, a phone number or an e-mail)")


def identifiers_of(store: Store, key: int) -> list[str]:
    """Every ``kind:value`` of customer ``key``: phones first, then extensions, e-mails, accounts,
    employee ids (the order of ``IDENTIFIER_KINDS``), each kind in text order."""
    rank = {kind: i for i, kind in enumerate(IDENTIFIER_KINDS)}
    idents = [r[0] for r in store.con.execute("SELECT ident FROM identifiers WHERE customer_key = ?",
                                              [key]).fetchall()]
    return sorted(idents, key=lambda i: (rank.get(i.partition(":")[0], len(rank)), i))


#: Columns of each contact in ``customer_timeline`` (the JSON contract).
TIMELINE_COLUMNS = ("started_at", "channel", "direction", "category", "agent_id", "contact_id", "talk_s",
                    "hold_s", "wrap_s", "resolved", "source", "line")


def customer_timeline(db: Path, settings: Settings, query: str) -> dict[str, Any]:
    """One customer: identifiers, every contact in time order, and their flags. A key lost in a
    merge shows the customer it was merged into, with ``requested_key`` and ``merged_into``.

    Point lookups in plain SQL on a read-only store; the flags through ``customer_flags``."""
    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        key = find_customer(store, query, settings.default_region)
        idents = identifiers_of(store, key)
        rows = fetch_dicts(store.con, f"SELECT {', '.join(TIMELINE_COLUMNS)} FROM contacts "
                                      "WHERE customer_key = $key ORDER BY started_at, contact_id, content_hash",
                           {"key": key})
        flags = customer_flags(store, settings, key, idents)
    for r in rows:
        r["started_at"] = _local(r["started_at"], settings)
    out: dict[str, Any] = {"customer_key": format_key(key), "identifiers": idents, "contacts": rows, "flags": flags}
    asked = parse_key(query)
    if asked is not None and asked != key:
        out |= {"requested_key": format_key(asked), "merged_into": format_key(key)}
    return out


def identities(db: Path, settings: Settings, *, shared_only: bool = False) -> dict[str, Any]:
    """Who is who in the store, with the hygiene settings in force: people, identifiers by kind,
    hubs (people touched, contacts), placeholders and deny-listed identifiers with contact counts,
    invalid phone numbers. ``shared_only``: only the identifiers that identify no one."""
    with open_for_reading(db, settings) as store:
        con = store.con
        people = int(con.execute("SELECT count(DISTINCT customer_key) FROM identifiers").fetchall()[0][0])
        kinds = con.execute("""
            SELECT split_part(ident, ':', 1) AS kind, count(*) FILTER (WHERE customer_key IS NOT NULL),
                   count(*) FILTER (WHERE customer_key IS NULL)
            FROM identifiers GROUP BY 1 ORDER BY 1""").fetchall()

        def listed(role: str) -> list[dict[str, Any]]:
            rows = con.execute("SELECT ident, people, contacts FROM identifiers WHERE role = ? "
                               "ORDER BY contacts DESC, ident", [role]).fetchall()
            return [{"identifier": i, **({"people": int(p or 0)} if role == "hub" else {}), "contacts": int(n)}
                    for i, p, n in rows]

        withheld = con.execute("""
            SELECT phone_raw, count(*) FROM contacts WHERE withheld AND phone_raw IS NOT NULL
            GROUP BY 1 ORDER BY 2 DESC, 1""").fetchall()
        invalid = con.execute("""
            SELECT count(*), count(DISTINCT phone_raw) FROM contacts
            WHERE phone_raw IS NOT NULL AND phone IS NULL AND extension IS NULL AND NOT withheld""").fetchall()[0]
        unidentified = int(con.execute("SELECT count(*) FROM contacts WHERE customer_key IS NULL").fetchall()[0][0])
        placeholders = listed("placeholder") + [{"identifier": f"phone:{raw}", "contacts": int(n)}
                                                for raw, n in withheld]
        placeholders.sort(key=lambda r: (-r["contacts"], r["identifier"]))
        out: dict[str, Any] = {
            "hubs": listed("hub"),
            "deny_listed": listed("denied"),
            "placeholders": placeholders,
            "invalid_phones": {"contacts": int(invalid[0]), "distinct": int(invalid[1])},
            "invalid_emails": listed("invalid"),
        }
    if shared_only:
        return out
    return {"people": people, "unidentified_contacts": unidentified, "max_links": settings.max_links,
            "identifiers": [{"kind": k, "identifying": int(a), "identifying_no_one": int(b)} for k, a, b in kinds],
            **out}
