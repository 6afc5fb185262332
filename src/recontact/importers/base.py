"""What every importer shares: options, the scan it hands to the store, and rejected rows.

An importer does not build Python objects per row: it describes, as DuckDB SQL, how to read its
file as canonical columns (all text) in file order. The store validates and types those columns,
resolves identities and inserts, so 10 million rows never pass through Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from recontact.errors import InputFileError
from recontact.schema import CONTACT_FIELDS


@dataclass(frozen=True)
class AsteriskDesk:
    """Which Asterisk extensions, queues and dialplan contexts are the desk's own (config
    ``[asterisk]``): they tell a call into the desk (inbound, ``src`` the caller) from a call the
    desk places (outbound, ``dst`` the customer). Empty: every call is inbound."""

    extensions: tuple[str, ...] = ()
    queues: tuple[str, ...] = ()
    contexts: tuple[str, ...] = ()

    def configured(self) -> bool:
        return bool(self.extensions or self.queues or self.contexts)


@dataclass(frozen=True)
class Outcome:
    """A column of outcome codes: ``answered`` codes make a contact answered, ``abandoned`` codes
    abandoned; any other code (or none) leaves both unknown."""

    column: str
    answered: tuple[str, ...] = ()
    abandoned: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportOptions:
    """How to read a file. ``tz`` is the IANA zone of timestamps written without an offset."""

    tz: str = "UTC"
    region: str = "US"
    column_map: dict[str, str] = field(default_factory=dict)  # source header -> canonical field
    encoding: str | None = None  # None: detect (UTF-8 with or without BOM, else Latin-1)
    delimiter: str | None = None  # None: detect (comma, semicolon, tab, pipe)
    time_format: str | None = None  # strptime format for non-ISO timestamps, e.g. "%d/%m/%Y %H:%M"
    asterisk: AsteriskDesk = field(default_factory=AsteriskDesk)  # the desk's own lines in Asterisk CDRs
    #: Event log (``--events``): the source column whose rows are one contact each (see EventLog),
    #: and the columns that order a contact's rows (the last row wins; default: file order).
    events: str | None = None
    events_order: tuple[str, ...] = ()
    # What a mapping profile adds (importers/profiles; read by the generic CSV importer):
    combine: dict[str, tuple[str, ...]] = field(default_factory=dict)  # field -> columns joined by a space
    outcome: Outcome | None = None  # outcome codes -> answered / abandoned
    skip: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> values marking rows to skip
    placeholders: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> values read as missing
    constants: dict[str, str] = field(default_factory=dict)  # field -> the value of every row
    profile: str | None = None  # the mapping profile these options come from (its name), for notes

    def profile_parts(self) -> dict[str, object]:
        """The profile-made reading rules that are set, as plain data (for the ledger and saving)."""
        parts: dict[str, object] = {
            "combine": {k: list(v) for k, v in self.combine.items()},
            "skip": {k: list(v) for k, v in self.skip.items()},
            "placeholders": {k: list(v) for k, v in self.placeholders.items()},
            "constants": dict(self.constants),
        }
        if self.outcome is not None:
            parts["outcome"] = {"column": self.outcome.column, "answered": list(self.outcome.answered),
                                "abandoned": list(self.outcome.abandoned)}
        return {k: v for k, v in parts.items() if v}


@dataclass(frozen=True)
class Reject:
    """One row that was not imported: where it is and why."""

    file: str
    line: int | None
    reason: str
    raw: str = ""
    unit: str = "line"  # what ``line`` counts: lines of the file, or records (Zendesk JSON over many lines)

    def where(self) -> str:
        """``line 5`` or ``record 5``."""
        return f"{self.unit} {self.line}"


@dataclass(frozen=True)
class EventLog:
    """How an event log folds into contacts: rows sharing an id (one row per update of a ticket)
    are one contact, at the earliest ``started_at`` of its rows; every other field comes from its
    latest row, the last by ``order`` (then file order).

    ``scan.sql`` selects the id as ``_event_id`` (text; NULL: the row is a contact of its own) and
    each ordering value as ``_event_order_1``, ``_event_order_2``… (any type that sorts; NULL sorts
    first), ``len(order)`` of them; ``order`` says what they are, for notes. The rows folded into
    another are counted in the summary's ``folded``. Without an id column of its own, the contact
    takes the event id as ``contact_id``.

    ``legs``: the rows are legs of one call (Asterisk CDRs sharing a ``linkedid``), not versions:
    the contact is answered if any leg was, abandoned if none was and one was, its talk is the sum
    of the legs' talk and its wait runs from the first leg's start to the first answer (else to the
    last leg's end); a leg repeated verbatim is a duplicate of the call, not another leg."""

    id_column: str
    order: tuple[str, ...] = ()
    legs: bool = False


@dataclass
class Scan:
    """An importer's reading of one file.

    ``sql`` selects, in file order, any of the canonical fields as VARCHAR plus ``_extra`` (a JSON
    object of the columns recontact does not know, or NULL) and ``_reject`` (a format-level reason
    the row cannot be used, or NULL). ``rejects_table`` names the DuckDB ``store_rejects`` table the
    scan fills with rows the CSV reader could not split. ``header_lines`` is how many lines come
    before the first record, for line numbers; a scan that knows each record's line exactly selects
    it as ``_line`` and sets ``own_lines``.
    """

    sql: str
    header_lines: int = 0
    own_lines: bool = False
    #: For CSV-shaped scans: the ``read_csv(...)`` call, its text columns and encoding, so the store
    #: can count line breaks inside quoted fields when the file has more lines than records.
    source_sql: str | None = None
    source_columns: tuple[str, ...] = ()
    encoding: str = "utf-8"
    rejects_table: str | None = None
    #: Reasons to give for the reader's own error types (``INVALID ENCODING``…) where the generic
    #: one would mislead, e.g. a JSON line split at a control character.
    reader_reasons: dict[str, str] = field(default_factory=dict)
    time_format: str | None = None
    notes: list[str] = field(default_factory=list)
    fields: tuple[str, ...] = tuple(CONTACT_FIELDS)
    #: What ``_line`` numbers: ``"line"``, or ``"record"`` for a file whose records are not lines
    #: (said in rejects and conflicts as ``record 5``).
    unit: str = "line"
    skips: bool = False
    events: EventLog | None = None
    #: The scan selects ``_no_caller_id`` (boolean): rows whose source record has no caller id at
    #: all (a Zendesk Talk call, a ticket), so an empty phone on them is not a withheld caller id.
    no_caller_id: bool = False


class Importer(Protocol):
    """The signature every module in ``recontact.importers`` provides."""

    NAME: str
    DESCRIPTION: str

    def sniff(self, path: Path, head: str) -> str | None:
        """Why ``head`` (the file's first MiB, decoded) looks like this format, e.g. ``"header has
        From, To, Direction, Status"``; None when it does not."""
        ...

    def scan(self, con: object, path: Path, options: ImportOptions) -> Scan:
        """Describe how to read ``path``; raise InputFileError when it cannot be read at all."""
        ...


def check_map_targets(column_map: dict[str, str]) -> None:
    """InputFileError naming every ``--map`` target that is no canonical field, listing the fields."""
    unknown = [target for target in dict.fromkeys(column_map.values()) if target not in CONTACT_FIELDS]
    if unknown:
        bad = ", ".join(repr(t) for t in unknown)
        raise InputFileError(f"--map names unknown field(s) {bad}; fields are: {', '.join(CONTACT_FIELDS)}")


def sql_str(value: str) -> str:
    """An SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def sql_ident(name: str) -> str:
    """An SQL quoted identifier."""
    return '"' + name.replace('"', '""') + '"'
