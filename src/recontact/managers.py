"""The manager report for internal desks: what ``recontact managers`` (and later the API) calls.

For each manager (an ``employee_id`` named in the employees directory's ``manager`` column): their
direct reports' inbound help-desk contacts in the period — count, handle time, resolved or not,
categories — and how many reports are far above their peers by the robust score of
``metrics/managers.py``. Employee monitoring is aggregates by default: each employee's own figures
are listed only when ``[privacy] individual_employee_rows = true``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from recontact.config import Settings
from recontact.errors import RecontactError

FIGURES = ("contacts", "handle_s", "resolved", "unresolved", "resolution_unknown")


class UnknownManagerError(RecontactError, LookupError):
    """No employee has this manager."""


def _employees(db: Path, settings: Settings, start: date | None, end: date | None
               ) -> tuple[list[dict[str, Any]], dict[str, Counter[str | None]]]:
    """Every employee of the directory with their figures and score, and their categories."""
    from recontact.desk import _countable, open_for_reading, report_settings
    from recontact.metrics.cost import directory_row_keys
    from recontact.metrics.managers import employee_categories, employee_contacts, robust_scores
    from recontact.metrics.span import within_dates

    with open_for_reading(db, settings) as store:
        settings = report_settings(store, settings)
        con = store.ibis()
        employees = con.table("directory_employees")
        keys = directory_row_keys(con.table("directory_identifiers"), con.table("identifiers"), "employees")
        contacts = within_dates(_countable(store, settings), start, end)
        per = employee_contacts(employees, keys, contacts)
        scored = robust_scores(per)
        rows = per.left_join(scored.select("employee_id", "score"), "employee_id").drop("employee_id_right")
        found = rows.order_by("line").to_pyarrow().to_pylist()
        cats = employee_categories(employees, keys, contacts).to_pyarrow().to_pylist()
    categories: dict[str, Counter[str | None]] = {}
    for c in cats:
        categories.setdefault(c["employee_id"], Counter())[c["category"]] += int(c["contacts"])
    return found, categories


def manager_report(db: Path, settings: Settings, *, manager: str | None = None, tree: bool = False,
                   start: date | None = None, end: date | None = None) -> list[dict[str, Any]]:
    """One row per manager (or just ``manager``), managers in directory order: ``reports`` (direct
    reports; with ``tree`` every employee below, at any depth, and ``depth`` under ``manager`` or
    under the top of the tree), their summed figures, ``categories`` (most contacts first),
    ``outliers`` (reports whose score exceeds the threshold), ``outlier_score`` and ``method``;
    ``employees`` (each one's figures, ``score`` and ``outlier``) only when the config allows
    individual rows. UnknownManagerError when ``manager`` manages no one."""
    from recontact.metrics.managers import METHOD

    threshold = settings.managers.outlier_score
    allowed = settings.privacy.individual_employee_rows
    employees, categories = _employees(db, settings, start, end)
    names = {e["employee_id"]: e["name"] for e in employees}
    reports: dict[str, list[dict[str, Any]]] = {}
    for e in employees:
        if e["manager"] is not None:
            reports.setdefault(e["manager"], []).append(e)
    if manager is not None and manager not in reports:
        raise UnknownManagerError(f"no employee has manager {manager!r} in the employees directory "
                                  f"(managers: {', '.join(list(reports)[:10]) or 'none'})")
    order = _tree_order(reports, manager) if tree else [(m, 0) for m in ([manager] if manager else reports)]
    out = []
    for boss, depth in order:
        team = _below(reports, boss) if tree else reports.get(boss, [])
        marked = [e for e in team if e["score"] is not None and e["score"] > threshold]
        cats: Counter[str | None] = Counter()
        for e in team:
            cats.update(categories.get(e["employee_id"], Counter()))
        row: dict[str, Any] = {
            "manager": boss, "manager_name": names.get(boss), **({"depth": depth} if tree else {}),
            "reports": len(team), **{f: _num(sum(e[f] for e in team), f) for f in FIGURES},
            "categories": [{"category": c, "contacts": n}
                           for c, n in sorted(cats.items(), key=lambda kv: (-kv[1], kv[0] or ""))],
            "outliers": len(marked), "outlier_score": threshold, "method": METHOD,
        }
        if allowed:
            row["employees"] = [{"employee_id": e["employee_id"], "name": e["name"], "manager": e["manager"],
                                 **{f: _num(e[f], f) for f in FIGURES},
                                 "score": None if e["score"] is None else float(e["score"]),
                                 "outlier": e in marked} for e in team]
        out.append(row)
    return out


def _num(value: Any, figure: str) -> int | float:
    return float(value) if figure == "handle_s" else int(value)


def _tree_order(reports: dict[str, list[dict[str, Any]]], root: str | None) -> list[tuple[str, int]]:
    """Managers depth first from ``root`` (or from every manager nobody manages), with their depth;
    a manager is visited once (a cycle in the directory stops there)."""
    managed = {e["employee_id"] for team in reports.values() for e in team}
    roots = [root] if root else [m for m in reports if m not in managed] or list(reports)[:1]
    seen: set[str] = set()
    out: list[tuple[str, int]] = []

    def visit(m: str, depth: int) -> None:
        if m in seen or m not in reports:
            return
        seen.add(m)
        out.append((m, depth))
        for e in reports[m]:
            visit(e["employee_id"], depth + 1)

    for r in roots:
        visit(r, 0)
    return out


def _below(reports: dict[str, list[dict[str, Any]]], boss: str) -> list[dict[str, Any]]:
    """Every employee below ``boss``, at any depth, once each."""
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    stack = list(reports.get(boss, []))
    while stack:
        e = stack.pop(0)
        if e["employee_id"] in seen or e["employee_id"] == boss:
            continue
        seen.add(e["employee_id"])
        out.append(e)
        stack.extend(reports.get(e["employee_id"], []))
    return out
