"""The bytes an import reads: the file itself, or a plain UTF-8 copy of it.

DuckDB reads UTF-8 and Latin-1 files in place. Everything else is first copied, in one streaming
pass, into a temporary file beside the store (removed afterwards) that every importer then reads
as usual, with the same lines in the same order, so line numbers are the original's:

* a gzip file or a one-file ZIP archive: its contents;
* UTF-16 (with a byte-order mark): re-encoded as UTF-8;
* Windows-1252 (``cp1252``): text taken for Latin-1 whose bytes 0x80-0x9F are not Latin-1 control
  characters but the euro sign, curly quotes, dashes and the like (what Excel and Windows tools write), re-encoded as
  UTF-8; the five bytes cp1252 leaves undefined keep their Latin-1 meaning.

The ledger still hashes the original file, so the same export imported again is still recognised.
"""

from __future__ import annotations

import codecs
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from recontact.errors import InputFileError
from recontact.importers.compressed import compression, inner_name, open_bytes
from recontact.importers.text import CP1252_ERRORS, detect_encoding, encoding_notes, read_head

_C1 = re.compile(rb"[\x80-\x9f]")
CP1252_NOTE = "read as cp1252 (Windows-1252: Latin-1 with the euro sign, curly quotes and dashes in bytes 0x80-0x9F)"
_CHUNK = 1 << 24


@dataclass
class Plain:
    """What to read: ``path``, in ``encoding`` (None: detect as usual), and notes on how it was made."""

    path: Path
    encoding: str | None
    notes: list[str] = field(default_factory=list)


def has_c1_bytes(path: Path) -> bool:
    """True when the file (decompressed) has a byte 0x80-0x9F anywhere."""
    with open_bytes(path) as f:
        while chunk := f.read(_CHUNK):
            if _C1.search(chunk):
                return True
    return False


def _codec(path: Path, explicit: str | None) -> tuple[str | None, list[str]]:
    """The codec to re-encode the file from (None: DuckDB reads it as it is) and the notes to say so."""
    head = read_head(path)
    encoding = detect_encoding(head, explicit)
    if encoding == "utf-16":
        return "utf-16", ["read as utf-16"]
    if encoding == "cp1252" or (encoding == "latin-1" and not explicit and has_c1_bytes(path)):
        why = encoding_notes(head, "latin-1", explicit)[1:]
        return "cp1252", [CP1252_NOTE, *why]
    return None, []


@contextmanager
def plain_file(path: Path, folder: Path, explicit: str | None = None) -> Iterator[Plain]:
    """``path`` as DuckDB can read it (see the module docstring); a temporary copy in ``folder`` when
    it must be unpacked or re-encoded. ``explicit`` is the user's ``--encoding``."""
    kind = compression(path)
    try:
        codec, notes = _codec(path, explicit)
    except InputFileError:
        if kind is not None:
            raise
        codec, notes = None, []  # missing, empty, binary: the importer's own reading says so
    if kind is None and codec is None:
        yield Plain(path, explicit)
        return
    inner = inner_name(path)
    if kind == "zip":
        notes.insert(0, f"read {inner} from the ZIP archive")
    elif kind == "gzip":
        notes.insert(0, "read from the gzip file")
    with tempfile.TemporaryDirectory(prefix=".recontact-plain-", dir=folder) as tmp:
        copy = Path(tmp) / inner
        with open_bytes(path) as src, copy.open("wb") as dst:
            decoder = codecs.getincrementaldecoder(codec)(CP1252_ERRORS if codec == "cp1252" else "replace") \
                if codec else None
            while chunk := src.read(_CHUNK):
                dst.write(decoder.decode(chunk).encode("utf-8") if decoder else chunk)
            if decoder:
                dst.write(decoder.decode(b"", final=True).encode("utf-8"))
        yield Plain(copy, "utf-8" if codec else explicit, notes)
