"""Importers: one module per source format, each with the same ``sniff`` / ``scan`` signature.

Built-in formats register exactly as an outside one would: add a module to ``FORMATS``.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from recontact.errors import InputFileError
from recontact.importers import asterisk_cdr, generic_csv, jsonl
from recontact.importers.text import decode_head, detect_encoding, read_head

#: Format name -> module. Order matters for guessing: the most specific first.
FORMATS: dict[str, ModuleType] = {
    jsonl.NAME: jsonl,
    asterisk_cdr.NAME: asterisk_cdr,
    generic_csv.NAME: generic_csv,
}


def get_format(name: str) -> ModuleType:
    """The importer called ``name``; InputFileError listing the known ones otherwise."""
    try:
        return FORMATS[name]
    except KeyError:
        raise InputFileError(f"unknown --source {name!r}; known: {', '.join(FORMATS)}") from None


def guess_format(path: Path) -> ModuleType:
    """The first importer whose ``sniff`` accepts the file's head; generic CSV otherwise."""
    head = read_head(path)
    text = decode_head(head, detect_encoding(head))
    for module in FORMATS.values():
        if module.sniff(path, text):
            return module
    return generic_csv
