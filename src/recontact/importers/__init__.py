"""Importers: one module per source format, each with the same ``sniff`` / ``scan`` signature.

Built-in formats register exactly as an outside one would: add a module to ``FORMATS``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from recontact.errors import InputFileError
from recontact.importers import (
    asterisk_cdr,
    freeswitch,
    freshdesk,
    generic_csv,
    jsonl,
    servicenow,
    twilio,
    zendesk,
)
from recontact.importers.text import decode_head, detect_encoding, read_head

#: Format name -> module. Vendor formats are told apart by their own header or record; the
#: generic ones (``GENERIC``) are tried, in this order, only when no vendor format claims a file.
FORMATS: dict[str, ModuleType] = {
    asterisk_cdr.NAME: asterisk_cdr,
    twilio.NAME: twilio,
    freeswitch.NAME: freeswitch,
    zendesk.NAME: zendesk,
    freshdesk.NAME: freshdesk,
    servicenow.NAME: servicenow,
    jsonl.NAME: jsonl,
    generic_csv.NAME: generic_csv,
}
GENERIC = (jsonl.NAME, generic_csv.NAME)


def get_format(name: str) -> ModuleType:
    """The importer called ``name``; InputFileError listing the known ones otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise InputFileError(f"unknown --source {name!r}; known: {', '.join(FORMATS)}") from None


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
    claims = [(m, why) for name, m in FORMATS.items() if name not in GENERIC and (why := _why(m, path, text))]
    if len(claims) > 1:
        said = "; ".join(f"{m.NAME} ({why})" for m, why in claims)
        raise InputFileError(f"{path}: could be any of: {said}; say which with --source "
                             f"{'|'.join(m.NAME for m, _ in claims)}")
    if claims:
        return claims[0]
    for name in GENERIC:
        if why := _why(FORMATS[name], path, text):
            return FORMATS[name], why
    if mapped or delimited:
        return generic_csv, "--map names its columns" if mapped else "--delimiter given"
    first = text.splitlines()[0][:80] if text.strip() else ""
    known = "; ".join(f"{m.NAME}: {m.DESCRIPTION}" for m in FORMATS.values())
    raise InputFileError(f"{path}: not a format recontact recognises (first line: {first!r}); say which with "
                         f"--source, or map its columns with --map \"COLUMN=started_at\". Formats: {known}")


def guess_format(path: Path) -> ModuleType:
    """The importer ``detect_format`` picks for ``path``."""
    return detect_format(path)[0]
