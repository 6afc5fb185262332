"""Compressed exports: a ``.gz`` file or a ``.zip`` archive holding one export, read as its contents.

The kind is told by the file's first bytes (its magic number), not by its name: ``calls.csv.gz``
renamed ``calls.csv`` still reads. A ZIP archive must hold exactly one file (folders and macOS
``__MACOSX/`` / ``.DS_Store`` entries do not count); with several, the error lists them so the user
can unpack it and import each.
"""

from __future__ import annotations

import gzip
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from recontact.errors import InputFileError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first; an empty archive
#: What reading a broken archive raises (a cut gzip stream, a bad CRC, a damaged ZIP directory).
ARCHIVE_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error, zipfile.BadZipFile)


def compression(path: Path) -> str | None:
    """``"gzip"``, ``"zip"`` or None, from the file's first bytes (None also when it cannot be
    opened: reading it says why)."""
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError:
        return None
    if magic.startswith(GZIP_MAGIC):
        return "gzip"
    if magic in ZIP_MAGIC:
        return "zip"
    return None


def _ignored(name: str) -> bool:
    base = name.rsplit("/", 1)[-1]
    return name.endswith("/") or name.startswith("__MACOSX/") or base in (".DS_Store", "Thumbs.db")


def zip_member(path: Path, archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The one export inside a ZIP archive; InputFileError when it holds none or several."""
    members = [m for m in archive.infolist() if not _ignored(m.filename)]
    if len(members) == 1:
        return members[0]
    if not members:
        raise InputFileError(f"{path}: the ZIP archive holds no file")
    names = ", ".join(m.filename for m in members[:10]) + (" …" if len(members) > 10 else "")
    raise InputFileError(f"{path}: the ZIP archive holds {len(members)} files ({names}); recontact reads an "
                         "archive of one export: unpack it and import each file")


def inner_name(path: Path) -> str:
    """The name of what a compressed file holds: the ZIP member, or the name without ``.gz``."""
    kind = compression(path)
    if kind == "zip":
        with zipfile.ZipFile(path) as archive:
            return zip_member(path, archive).filename.rsplit("/", 1)[-1]
    if kind == "gzip" and path.suffix.lower() in (".gz", ".gzip"):
        return path.stem
    return path.name


@contextmanager
def open_bytes(path: Path) -> Iterator[BinaryIO]:
    """The file's bytes, decompressed when it is gzip or a one-file ZIP archive."""
    kind = compression(path)
    try:
        if kind == "gzip":
            with gzip.open(path, "rb") as f:
                yield f  # type: ignore[misc]
        elif kind == "zip":
            with zipfile.ZipFile(path) as archive, archive.open(zip_member(path, archive)) as f:
                yield f  # type: ignore[misc]
        else:
            with path.open("rb") as f:
                yield f
    except ARCHIVE_ERRORS as e:
        if kind is None:
            raise
        raise InputFileError(f"{path}: the {kind} file is damaged or cut short ({e})") from None
