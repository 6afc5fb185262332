"""Reading directory files: customers, agents, employees, and the orders history.

A directory is a small CSV (thousands of rows, not millions), read row by row with Python's
``csv`` module so that every row keeps its line number. Each row becomes a dict of typed values
plus the ``kind:value`` identifiers it carries (phones to E.164, e-mails case-folded, through the
same rules as contacts); a row that cannot be used is a :class:`Reject` with its line and reason;
an identifier that identifies no one (an invalid number, a placeholder) is dropped from its row
with a warning, the rest of the row kept.

Columns are matched ignoring case, spaces, hyphens and underscores, with the aliases below;
unknown columns are named in a note and not kept.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

from recontact.errors import InputFileError
from recontact.importers.base import Reject

Kind = Literal["customers", "agents", "employees", "orders"]
KINDS: tuple[Kind, ...] = ("customers", "agents", "employees", "orders")
#: Identifier columns (kind of identifier they hold); several values in one cell are split on ``;``.
IDENTIFIER_COLUMNS = {"phone": "phone", "email": "email", "account_id": "account", "employee_id": "employee"}

#: Column -> accepted header spellings (folded: lower case, no spaces, hyphens or underscores).
ALIASES: dict[str, tuple[str, ...]] = {
    "phone": ("phone", "phonenumber", "telephone", "tel", "mobile"),
    "email": ("email", "mail", "emailaddress"),
    "account_id": ("accountid", "account", "accountnumber"),
    "employee_id": ("employeeid", "employee", "staffid"),
    "identifiers": ("identifiers", "identifier", "ids"),
    "name": ("name", "fullname", "customername", "agentname", "employeename"),
    "segment": ("segment", "tier"),
    "account_manager": ("accountmanager", "manageraccount", "am"),
    "monthly_revenue": ("monthlyrevenue", "mrr", "revenuepermonth", "revenue"),
    "agent_id": ("agentid", "agent"),
    "team": ("team",),
    "supervisor": ("supervisor", "supervisorid", "teamlead"),
    "hourly_cost": ("hourlycost", "loadedhourlycost", "loadedrate", "costperhour", "hourlyrate", "rate"),
    "manager": ("manager", "managerid"),
    "customer": ("customer", "customerid", "customeridentifier"),
    "ordered_on": ("date", "orderdate", "orderedon", "ordered"),
    "amount": ("amount", "total", "value", "ordertotal"),
    "order_id": ("orderid", "order"),
}

#: Per directory: its columns, and those it cannot do without.
COLUMNS: dict[Kind, tuple[str, ...]] = {
    "customers": ("identifiers", "phone", "email", "account_id", "employee_id", "name", "segment",
                  "account_manager", "monthly_revenue"),
    "agents": ("agent_id", "name", "team", "supervisor", "hourly_cost"),
    "employees": ("employee_id", "name", "email", "phone", "manager"),
    "orders": ("customer", "phone", "email", "account_id", "ordered_on", "amount", "order_id"),
}
REQUIRED: dict[Kind, tuple[str, ...]] = {
    "customers": (), "agents": ("agent_id",), "employees": ("employee_id",), "orders": ("ordered_on", "amount"),
}
#: The column that must be unique within one file (a later row with the same value is rejected).
UNIQUE: dict[Kind, str | None] = {"customers": None, "agents": "agent_id", "employees": "employee_id",
                                  "orders": "order_id"}


@dataclass
class DirectoryRows:
    """One directory file read: the usable rows (each with ``line`` and ``identifiers``), the
    rejected ones, warnings about dropped identifiers, and notes (ignored columns…)."""

    file: str
    kind: Kind
    read: int = 0
    rows: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)
    warnings: list[Reject] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Bad(ValueError):
    """A row's reason for being rejected."""


def _fold(name: str) -> str:
    return re.sub(r"[\s_\-.]", "", name.strip().lower())


def _decode(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputFileError(f"{path}: cannot read: {e.strerror or e}") from None
    for encoding in ("utf-8-sig", "latin-1"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _header_map(file: str, kind: Kind, header: list[str], notes: list[str]) -> dict[str, int]:
    """Column -> position in the file; InputFileError when a required column is missing."""
    wanted = {alias: col for col in COLUMNS[kind] for alias in ALIASES[col]}
    found: dict[str, int] = {}
    ignored = []
    for i, name in enumerate(header):
        col = wanted.get(_fold(name))
        if col is None or col in found:
            ignored.append(name)
        else:
            found[col] = i
    missing = [c for c in REQUIRED[kind] if c not in found]
    if kind in ("customers", "orders") and not found.keys() & {"identifiers", "customer", *IDENTIFIER_COLUMNS}:
        missing.append("an identifier column (phone, email, account_id, employee_id or identifiers)"
                       if kind == "customers" else "customer (or phone, email, account_id)")
    if missing:
        raise InputFileError(f"{file}: line 1: the header has no {', no '.join(missing)} column "
                             f"(columns of a {kind} directory: {', '.join(COLUMNS[kind])})")
    if ignored:
        notes.append(f"columns not used: {', '.join(ignored)}")
    return found


def read_directory(path: Path, kind: Kind, *, region: str = "US", placeholders: tuple[str, ...] = ()) -> DirectoryRows:
    """Read a directory (or orders) CSV; see the module docstring. InputFileError when the file
    cannot be read at all or has no header."""
    file = str(path)
    text = _decode(path)
    if not text.strip():
        raise InputFileError(f"{file}: the file is empty (a directory needs a header row)")
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t", "|"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    out = DirectoryRows(file, kind)
    header = next(reader)
    columns = _header_map(file, kind, header, out.notes)
    parse = _ROW_PARSERS[kind]
    unique = UNIQUE[kind]
    seen: dict[str, int] = {}
    line = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            out.read += 1
            out.rejects.append(Reject(file, line, f"unreadable CSV: {e}"))
            line = reader.line_num + 1
            continue
        start, line = line, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue  # a blank line is no row
        out.read += 1
        raw = delimiter.join(cells)
        if len(cells) != len(header):
            out.rejects.append(Reject(file, start, f"{len(cells)} fields, the header has {len(header)}", raw))
            continue
        values = {col: (cells[i].strip() or None) for col, i in columns.items()}
        warnings: list[str] = []
        try:
            row = parse(values, region, placeholders, warnings)
            if kind in ("customers", "orders") and not row["identifiers"]:
                why = f" ({'; '.join(warnings)})" if warnings else ""
                raise _Bad(f"no identifier that identifies anyone{why}")
            key = row.get(unique) if unique else None
            if key is not None and key in seen:
                raise _Bad(f"{unique} {key!r} is already on line {seen[key]}")
        except _Bad as e:
            out.rejects.append(Reject(file, start, str(e), raw))
            continue
        if key is not None:
            seen[key] = start
        out.warnings.extend(Reject(file, start, w, raw) for w in warnings)
        out.rows.append({"line": start, **row})
    return out


# -- identifiers --------------------------------------------------------------------------------

def identifier_of(kind: str, value: str, region: str, placeholders: tuple[str, ...]) -> tuple[str | None, str]:
    """(``kind:value`` or None, why not): one directory value as the identifier contacts would
    give it. ``kind`` is phone, email, account, employee, or ``any`` (``kind:value`` or a bare
    e-mail / phone number)."""
    from recontact.identity.email import is_valid_email, normalize_email
    from recontact.identity.phone import classify_caller_id
    from recontact.identity.placeholders import is_placeholder

    if kind == "any":
        head, sep, rest = value.partition(":")
        if sep and head.strip().lower() in ("phone", "email", "account", "employee", "extension"):
            kind, value = head.strip().lower(), rest.strip()
        else:
            kind = "email" if "@" in value else "phone"
    if kind in ("phone", "extension"):
        cid = classify_caller_id(value, region, placeholders)
        if cid.kind == "withheld":
            return None, f"{kind} {value!r} is a placeholder"
        if cid.kind == "invalid":
            return None, f"phone {value!r} is not a valid number"
        return cid.identifier, ""
    if is_placeholder(value, placeholders):
        return None, f"{kind} {value!r} is a placeholder"
    if kind == "email":
        email = normalize_email(value)
        if not email or not is_valid_email(email):
            return None, f"email {value!r} is not a valid address"
        return f"email:{email}", ""
    return f"{kind}:{value}", ""


def _identifiers(values: dict[str, Any], columns: dict[str, str], region: str, placeholders: tuple[str, ...],
                 warnings: list[str]) -> list[str]:
    out: list[str] = []
    for col, kind in columns.items():
        for part in (values.get(col) or "").split(";"):
            if not part.strip():
                continue
            ident, why = identifier_of(kind, part.strip(), region, placeholders)
            if ident is None:
                warnings.append(f"{why}: ignored")
            elif ident not in out:
                out.append(ident)
    return out


def _money(values: dict[str, Any], col: str, *, required: bool = False, negative: bool = False) -> float | None:
    text = values.get(col)
    if text is None:
        if required:
            raise _Bad(f"no {col}")
        return None
    cleaned = re.sub(r"^(-?)[$€£]\s*", r"\1", text)  # a currency sign before the number
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+(\.\d+)?", cleaned):  # thousands separators
        cleaned = cleaned.replace(",", "")
    try:
        number = float(cleaned)
    except ValueError:
        raise _Bad(f"{col} {text!r} is not a number") from None
    if not math.isfinite(number) or (number < 0 and not negative):
        raise _Bad(f"{col} {text!r} must be a finite number, 0 or more")
    return number


def _customer(values: dict[str, Any], region: str, placeholders: tuple[str, ...],
              warnings: list[str]) -> dict[str, Any]:
    idents = _identifiers(values, {"identifiers": "any", **IDENTIFIER_COLUMNS}, region, placeholders, warnings)
    return {"identifiers": idents, "name": values.get("name"), "segment": values.get("segment"),
            "account_manager": values.get("account_manager"),
            "monthly_revenue": _money(values, "monthly_revenue")}


def _agent(values: dict[str, Any], region: str, placeholders: tuple[str, ...], warnings: list[str]) -> dict[str, Any]:
    if not values.get("agent_id"):
        raise _Bad("no agent_id")
    return {"identifiers": [], "agent_id": values["agent_id"], "name": values.get("name"),
            "team": values.get("team"), "supervisor": values.get("supervisor"),
            "hourly_cost": _money(values, "hourly_cost")}


def _employee(values: dict[str, Any], region: str, placeholders: tuple[str, ...],
              warnings: list[str]) -> dict[str, Any]:
    from recontact.identity.placeholders import is_placeholder

    employee = values.get("employee_id")
    if not employee or is_placeholder(employee, placeholders):
        raise _Bad(f"employee_id {employee!r} is empty or a placeholder" if employee else "no employee_id")
    idents = [f"employee:{employee}", *_identifiers(values, {"email": "email", "phone": "phone"}, region,
                                                    placeholders, warnings)]
    return {"identifiers": idents, "employee_id": employee, "name": values.get("name"),
            "email": values.get("email"), "phone": values.get("phone"), "manager": values.get("manager")}


_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%d.%m.%Y", "%Y%m%d")


def _date(text: str | None) -> date:
    if text is None:
        raise _Bad("no date")
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text[:10] if fmt == "%Y-%m-%d" else text, fmt).date()
        except ValueError:
            continue
    raise _Bad(f"date {text!r} is not a date (write it as YYYY-MM-DD)")


def _order(values: dict[str, Any], region: str, placeholders: tuple[str, ...], warnings: list[str]) -> dict[str, Any]:
    idents = _identifiers(values, {"customer": "any", "phone": "phone", "email": "email", "account_id": "account"},
                          region, placeholders, warnings)
    amount = _money(values, "amount", required=True, negative=True)
    return {"identifiers": idents, "ordered_on": _date(values.get("ordered_on")), "amount": amount,
            "order_id": values.get("order_id")}


_ROW_PARSERS: dict[Kind, Callable[[dict[str, Any], str, tuple[str, ...], list[str]], dict[str, Any]]] = {
    "customers": _customer, "agents": _agent, "employees": _employee, "orders": _order,
}
