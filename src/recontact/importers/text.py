"""Reading the start of a text file: encoding, delimiter, header line."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from recontact.errors import InputFileError

SNIFF_BYTES = 1 << 20
DELIMITERS = ",;\t|"
#: DuckDB's names for the encodings it reads natively.
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "latin-1": "latin-1",
             "latin1": "latin-1", "iso-8859-1": "latin-1", "cp1252": "latin-1", "utf-16": "utf-16"}


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The file's first ``size`` bytes; InputFileError if it is missing or empty."""
    try:
        with path.open("rb") as f:
            head = f.read(size)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputFileError(f"{path}: permission denied") from None
    if not head.strip():
        raise InputFileError(f"{path}: the file is empty")
    if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputFileError(f"{path}: looks binary (NUL bytes), not a text export")
    return head


def detect_encoding(head: bytes, explicit: str | None = None) -> str:
    """``utf-8`` (with or without BOM), ``utf-16`` (BOM), else ``latin-1``; or the explicit one."""
    if explicit:
        key = explicit.lower()
        if key not in ENCODINGS:
            raise InputFileError(f"unsupported encoding {explicit!r}; use one of utf-8, latin-1, utf-16")
        return ENCODINGS[key]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not merely a character cut by the sample's end
            return "latin-1"
    return "utf-8"


def decode_head(head: bytes, encoding: str) -> str:
    """The sample as text, BOM removed, a cut last character tolerated."""
    codec = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "utf-16": "utf-16"}[encoding]
    return head.decode(codec, errors="ignore")


def first_lines(text: str, n: int = 50) -> list[str]:
    return text.splitlines()[:n]


def detect_delimiter(text: str, explicit: str | None = None) -> str:
    """The field separator: explicit (``\\t`` accepted), else csv.Sniffer, else the most common."""
    if explicit:
        return "\t" if explicit in ("\\t", "tab") else explicit
    sample = "\n".join(first_lines(text, 50))
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        header = first_lines(text, 1)[0] if text else ""
        return max(DELIMITERS, key=header.count)


def parse_header(text: str, delimiter: str) -> list[str]:
    """The first record's fields (quotes handled by the csv module)."""
    row = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    return [c.strip() for c in row]


def dedupe_names(names: list[str]) -> list[str]:
    """Make header names unique (``Variant``, ``Variant`` -> ``Variant``, ``Variant_2``) and
    name empty ones ``column_N``."""
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(names, 1):
        base = name or f"column_{i}"
        n = seen.get(base.lower(), 0) + 1
        seen[base.lower()] = n
        out.append(base if n == 1 else f"{base}_{n}")
    return out
