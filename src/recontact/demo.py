"""The store ``recontact demo`` builds: the real "Anonymous Bank" call-centre log of February 1999
(Technion SEE Center) when the shared sample data is at hand, else a synthetic desk.

Contract:

* ``find_bank_file()`` returns ``(file, looked_at)``. ``file`` is the February 1999 log
  (``BANK_FILE`` under a data directory): under ``$RECONTACT_SAMPLE_DATA`` when that is set (a data
  directory, or the file itself; nothing else is tried then), else under ``../shared/data`` beside
  the checkout recontact runs from. ``file`` is None when it is not there; ``looked_at`` names the
  place it was looked for, for the one line saying the demo falls back to a synthetic desk.
* ``build(db, settings, contacts)`` deletes the store at ``db`` and its cases file, then imports the
  bank file through the shipped ``anonymous-bank`` profile (PHANTOM rows skipped, customer id 0 =
  an unidentified caller), or, without it, ``contacts`` synthetic contacts (``samples``; a desk of
  up to 28,000 contacts is exactly February 2026). It returns a ``DemoDesk``: the import summary,
  every month's top ``TOP_N`` callers and every flag episode, reported in the config's ``timezone``
  when it sets one, else the desk's own (Asia/Jerusalem for the bank, America/New_York for the
  synthetic desk).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recontact import desk

if TYPE_CHECKING:
    from recontact.config import Settings
    from recontact.store.load import ImportSummary

SAMPLE_DATA_ENV = "RECONTACT_SAMPLE_DATA"
BANK_FILE = Path("anonymous-bank-callcenter") / "data_anonymous_bank_february.txt"
BANK_PROFILE = "anonymous-bank"
SYNTHETIC_CONTACTS = 20_000  # the synthetic desk's default size
SYNTHETIC_SEED = 7
SYNTHETIC_START = datetime(2026, 2, 1)
SYNTHETIC_TZ = "America/New_York"
TOP_N = 10

#: Writes ``n`` synthetic contacts to a CSV file and returns how many it wrote.
WriteSynthetic = Callable[[Path, int], int]


@dataclass(frozen=True)
class DemoDesk:
    """What the demo store holds and shows. ``data`` is ``"anonymous-bank"`` or ``"synthetic"``;
    ``file`` the file imported; ``fallback`` (synthetic only) says where the bank file was looked
    for; ``top`` every month's top callers, oldest month first; ``flags`` every flag episode,
    oldest crossing first (rows as ``desk.top_callers`` and ``desk.list_flags`` give them)."""

    db: Path
    data: str
    file: Path
    summary: ImportSummary
    top: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    fallback: str | None = None


def checkout_data_dir() -> Path | None:
    """``../shared/data`` beside the checkout this package runs from (None when recontact is
    installed rather than run from a checkout)."""
    root = Path(__file__).resolve().parents[2]
    return root.parent / "shared" / "data" if (root / "pyproject.toml").is_file() else None


def find_bank_file() -> tuple[Path | None, str]:
    """(the Anonymous Bank February 1999 file or None, where it was looked for)."""
    given = os.environ.get(SAMPLE_DATA_ENV)
    if given:
        place = Path(given).expanduser()
        file = place if place.is_file() else place / BANK_FILE
        return (file if file.is_file() else None), f"${SAMPLE_DATA_ENV}={given}"
    data_dir = checkout_data_dir()
    if data_dir is None:
        return None, f"${SAMPLE_DATA_ENV} is not set and recontact does not run from a checkout"
    file = data_dir / BANK_FILE
    return (file if file.is_file() else None), str(file)


def build(db: Path, settings: Settings, contacts: int, write_synthetic: WriteSynthetic | None = None) -> DemoDesk:
    """Rebuild the demo store at ``db`` (see the module's contract)."""
    from recontact.cases.db import sqlite_path

    for stale in (db, Path(f"{db}.wal"), sqlite_path(db)):
        stale.unlink(missing_ok=True)
    bank, looked_at = find_bank_file()
    if bank is not None:
        summary = desk.import_contacts(db, _bank_request(bank, settings), settings)
        data, file, fallback = BANK_PROFILE, bank, None
    else:
        if "timezone" not in settings.model_fields_set:
            settings = settings.model_copy(update={"timezone": SYNTHETIC_TZ})
        file = db.with_suffix(".csv")
        (write_synthetic or _write_synthetic)(file, contacts)
        summary = desk.import_contacts(db, desk.ImportRequest(path=file), settings)
        data, fallback = "synthetic", f"no real sample data ({looked_at})"
    return DemoDesk(db=db, data=data, file=file, summary=summary, fallback=fallback,
                    top=desk.top_callers(db, settings, "month", TOP_N), flags=desk.list_flags(db, settings))


def _bank_request(file: Path, settings: Settings) -> desk.ImportRequest:
    """``recontact import FILE --profile anonymous-bank``, as a request."""
    from recontact.importers import profiles
    from recontact.importers.base import ImportOptions

    options = ImportOptions(tz=settings.timezone, region=settings.default_region)
    options, source, system, desk_tz = profiles.with_profile(BANK_PROFILE, options, frozenset(), None, None)
    return desk.ImportRequest(path=file, source=source, options=options, system=system, desk_timezone=desk_tz)


def _write_synthetic(path: Path, contacts: int) -> int:
    from recontact import samples

    path.parent.mkdir(parents=True, exist_ok=True)
    return samples.write_csv(path, contacts, seed=SYNTHETIC_SEED, start=SYNTHETIC_START, tz=SYNTHETIC_TZ)
