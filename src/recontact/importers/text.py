"""Reading the start of a text file: encoding, delimiter, header line."""

from __future__ import annotations

import codecs
import csv
import io
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.compressed import open_bytes

SNIFF_BYTES = 1 << 20
DELIMITERS = ",;\t|"
#: Accepted ``--encoding`` spellings -> the encoding's name here: DuckDB's for the encodings it reads
#: natively (utf-8, latin-1, utf-16); cp1252 is re-encoded first (importers/plain.py).
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8", "latin-1": "latin-1",
             "latin1": "latin-1", "iso-8859-1": "latin-1", "cp1252": "cp1252", "windows-1252": "cp1252",
             "utf-16": "utf-16"}

#: Decoding error handler for cp1252: a byte it leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D) is
#: read as Latin-1 reads it (as the WHATWG "windows-1252" decoder does).
CP1252_ERRORS = "recontact-latin1"


def _c1_as_latin1(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    return chr(error.object[error.start]), error.start + 1


codecs.register_error(CP1252_ERRORS, _c1_as_latin1)


def read_head(path: Path, size: int = SNIFF_BYTES) -> bytes:
    """The file's first ``size`` bytes (of its contents when it is compressed); InputFileError if it
    is missing or empty."""
    try:
        with open_bytes(path) as f:
            head = f.read(size)
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, not a file") from None
    except PermissionError:
        raise InputFileError(f"{path}: permission denied") from None
    if not head.strip():
        raise InputFileError(f"{path}: the file is empty")
    if looks_binary(head):
        raise InputFileError(f"{path}: looks binary (NUL bytes), not a text export")
    return head


#: Bytes no text export contains, unless by accident in a row: control characters other than tab,
#: line feed, vertical tab, form feed, carriage return and escape.
_CONTROL = bytes([*range(0, 9), *range(14, 27), *range(28, 32)])


def looks_binary(head: bytes) -> bool:
    """True for a binary file: NUL bytes, and a NUL in the first line or control bytes on most
    lines. A text export with a stray NUL or control byte in some row is text (those rows are
    rejected, the others imported)."""
    if b"\0" not in head or head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    lines = [line for line in head.split(b"\n") if line.strip()]
    if b"\0" in lines[0]:
        return True
    dirty = sum(1 for line in lines if len(line.translate(None, _CONTROL)) < len(line))
    return dirty * 2 > len(lines)


def mixed_line_ends(path: Path, *, head_only: bool = False) -> bool:
    """True when the file (or its first MiB) ends some lines with CRLF and others with a bare LF.
    UTF-16 files are never taken for mixed (their line ends are two-byte); nor is a file that
    cannot be opened (reading it says why)."""
    crlf = lf = 0
    try:
        f = path.open("rb")
    except OSError:
        return False
    with f:
        chunk = f.read(SNIFF_BYTES)
        if chunk.startswith((b"\xff\xfe", b"\xfe\xff")):
            return False
        while chunk:
            # A CR ending the chunk may pair with an LF starting the next: read one byte more.
            if chunk.endswith(b"\r"):
                chunk += f.read(1)
            pairs = chunk.count(b"\r\n")
            crlf, lf = crlf + pairs, lf + chunk.count(b"\n") - pairs
            if (crlf and lf) or head_only:
                break
            chunk = f.read(1 << 24)
    return bool(crlf and lf)


@contextmanager
def lf_copy(path: Path, folder: Path) -> Iterator[Path]:
    """A temporary copy of ``path`` in ``folder`` with every CRLF line end made LF: the same lines,
    in the same order (a CR not followed by LF is kept). Removed on leaving the block."""
    with tempfile.TemporaryDirectory(prefix=".recontact-lf-", dir=folder) as tmp:
        copy = Path(tmp) / path.name
        with path.open("rb") as src, copy.open("wb") as dst:
            carry = b""
            while chunk := src.read(1 << 24):
                chunk = carry + chunk
                carry = b"\r" if chunk.endswith(b"\r") else b""
                dst.write(chunk[: len(chunk) - len(carry)].replace(b"\r\n", b"\n"))
            dst.write(carry)
        yield copy


def detect_encoding(head: bytes, explicit: str | None = None) -> str:
    """``utf-8`` (with or without BOM), ``utf-16`` (BOM), else ``latin-1``; or the explicit one."""
    if explicit:
        key = explicit.lower()
        if key not in ENCODINGS:
            raise InputFileError(f"unsupported encoding {explicit!r}; use one of utf-8, latin-1, cp1252, utf-16")
        return ENCODINGS[key]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    multibyte, invalid = utf8_census(head)
    # A few bad bytes among real UTF-8 text are broken rows (rejected one by one); bad bytes in a
    # file with no UTF-8 characters at all are another single-byte encoding.
    return "latin-1" if invalid > multibyte else "utf-8"


def encoding_notes(head: bytes, encoding: str, explicit: str | None) -> list[str]:
    """Notes on how the file was decoded: the encoding when not UTF-8, and for a file taken for
    Latin-1 by detection, the first line whose bytes are not UTF-8."""
    if encoding == "utf-8":
        return []
    notes = [f"read as {encoding}"]
    if encoding == "latin-1" and not explicit:
        try:
            head.decode("utf-8")
        except UnicodeDecodeError as e:
            line = head.count(b"\n", 0, e.start) + 1
            notes.append(f"line {line} has bytes that are not UTF-8 and the file shows no UTF-8 characters, so "
                         "every row was read as Latin-1; give --encoding utf-8 to reject such rows instead")
    return notes


def utf8_census(head: bytes) -> tuple[int, int]:
    """(valid multi-byte UTF-8 characters, invalid byte sequences) in a sample; a character cut by
    the sample's end is neither."""
    if head.isascii():
        return 0, 0
    text = head.decode("utf-8", errors="replace")
    if text.endswith("\ufffd") and len(head) >= 4 and not head[-4:].isascii():
        text = head[: len(head) - 4 + _last_complete(head[-4:])].decode("utf-8", errors="replace")
    replaced = text.count("\ufffd")
    invalid = replaced - head.count("\ufffd".encode())
    # characters above U+007F, counted without a Python step per character (1 MiB sample: 0.1 s)
    multibyte = len(text) - len(text.encode("ascii", errors="ignore")) - replaced
    return multibyte, invalid


def _last_complete(tail: bytes) -> int:
    """How many bytes of the 4-byte ``tail`` come before a multi-byte character it cuts."""
    for i in range(len(tail) - 1, -1, -1):
        if tail[i] & 0xC0 == 0xC0:  # a lead byte: the cut character starts here
            return i
    return len(tail)


def decode_head(head: bytes, encoding: str) -> str:
    """The sample as text, BOM removed, a cut last character tolerated."""
    codec = {"utf-8": "utf-8-sig", "latin-1": "latin-1", "cp1252": "cp1252", "utf-16": "utf-16"}[encoding]
    if codec == "cp1252":
        return head.decode(codec, errors=CP1252_ERRORS)
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
