"""Importers: one module per source format, each with the same ``sniff`` / ``scan`` signature."""

from __future__ import annotations

import importlib
from functools import cache
from pathlib import Path
from types import ModuleType

from recontact.errors import InputFileError
from recontact.importers.text import decode_head, detect_encoding, read_head

#: The format modules, in the order vendor formats are asked about a file. The generic ones
#: (``GENERIC``) are tried, in this order, only when no vendor format claims a file.
_MODULES = ("asterisk_cdr", "twilio", "freeswitch", "zendesk", "freshdesk", "servicenow", "jsonl", "generic_csv")
GENERIC = ("jsonl", "csv")


@cache
def formats() -> dict[str, ModuleType]:
    """Format name -> module. Built-in formats register exactly as an outside one would: add a
    module to ``_MODULES``. Imported on first use: read commands (``customer``, ``flags``) import
    the package for ``ImportOptions`` and need no importer."""
    modules = [importlib.import_module(f"recontact.importers.{name}") for name in _MODULES]
    return {m.NAME: m for m in modules}


def __getattr__(name: str) -> dict[str, ModuleType]:
    """``FORMATS``: :func:`formats`, made on first use."""
    if name == "FORMATS":
        return formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_format(name: str) -> ModuleType:
    """The importer called ``name``; InputFileError listing the known ones otherwise."""
    try:
        return formats()[name]
    except KeyError:
        raise InputFileError(f"unknown --source {name!r}; known: {', '.join(formats())}") from None


def _why(module: ModuleType, path: Path, text: str) -> str | None:
    """Why ``module`` claims the file (its ``sniff`` answer), or None. A sniff answering a bare
    True is given a generic reason."""
    answer = module.sniff(path, text)
    if answer is True:
        return "its first record has this format's layout"
    return answer or None


def detect_format(path: Path, *, mapped: bool = False, delimited: bool = False) -> tuple[ModuleType, str]:
    """The importer for ``path`` and why, from its header or first record (of its contents when it
    is compressed). Exactly one vendor format must claim the file, else the generic ones are tried;
    ``mapped`` (``--map`` given) or ``delimited`` (``--delimiter`` given) makes an unclaimed file
    generic CSV. InputFileError, listing the formats, when two vendor formats claim it or none does."""
    head = read_head(path)
    text = decode_head(head, detect_encoding(head))
    known_formats = formats()
    claims = [(m, why) for name, m in known_formats.items() if name not in GENERIC and (why := _why(m, path, text))]
    if len(claims) > 1:
        said = "; ".join(f"{m.NAME} ({why})" for m, why in claims)
        raise InputFileError(f"{path}: could be any of: {said}; say which with --source "
                             f"{'|'.join(m.NAME for m, _ in claims)}")
    if claims:
        return claims[0]
    for name in GENERIC:
        if why := _why(known_formats[name], path, text):
            return known_formats[name], why
    if mapped or delimited:
        return known_formats["csv"], "--map names its columns" if mapped else "--delimiter given"
    first = text.splitlines()[0][:80] if text.strip() else ""
    known = "; ".join(f"{m.NAME}: {m.DESCRIPTION}" for m in known_formats.values())
    raise InputFileError(f"{path}: not a format recontact recognises (first line: {first!r}); say which with "
                         f"--source, or map its columns with --map \"COLUMN=started_at\". Formats: {known}")


def guess_format(path: Path) -> ModuleType:
    """The importer ``detect_format`` picks for ``path``."""
    return detect_format(path)[0]
