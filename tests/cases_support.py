"""Helpers of the cases layer's tests (see tests/cases/conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class CasesDb:
    """Where one test's stores are: ``db`` the DuckDB store path, ``url`` the cases store's URL."""

    kind: str  # sqlite | postgresql
    db: Path
    url: str
