"""Mapping profiles: how to read one kind of export, saved as TOML and applied with ``--profile``.

A profile names the columns (``[columns]``), builds fields from several columns (``[combine]``:
date and time, a contact id made of three columns), reads outcome codes (``[outcome]``), fixes a
field for every row (``[constants]``), says which values identify no one (``[placeholders]``) and
which rows to skip (``[skip]``, counted as ``skipped``), and how the file is written (delimiter,
encoding, time format, time zone, event log). It is validated with pydantic; an error names the
file and the key.

Where profiles are found, for ``--profile NAME``: a path (``…/x.toml``, or any existing file);
else ``NAME.toml`` among the saved profiles (``profile_dir()``); else a profile shipped in this
package (``anonymous-bank``, ``italian-helpdesk``, ``bpi2016``).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from recontact.config import check_timezone
from recontact.errors import InputFileError
from recontact.importers.base import ImportOptions, Outcome
from recontact.importers.text import ENCODINGS
from recontact.schema import CONTACT_FIELDS

PROFILE_DIR_ENV = "RECONTACT_PROFILE_DIR"
#: Options a profile sets that only the generic CSV importer reads.
CSV_ONLY = ("combine", "outcome", "skip", "placeholders", "constants")


def _field(name: str) -> str:
    if name not in CONTACT_FIELDS:
        raise ValueError(f"{name!r} is no canonical field; fields are: {', '.join(CONTACT_FIELDS)}")
    return name


class OutcomeCodes(BaseModel):
    """``[outcome]``: the column of outcome codes and the codes meaning answered / abandoned."""

    model_config = ConfigDict(extra="forbid")
    column: str = Field(min_length=1)
    answered: list[str] = []
    abandoned: list[str] = []

    @model_validator(mode="after")
    def _disjoint(self) -> OutcomeCodes:
        both = sorted(set(self.answered) & set(self.abandoned))
        if both:
            raise ValueError(f"codes both answered and abandoned: {', '.join(both)}")
        if not (self.answered or self.abandoned):
            raise ValueError("give answered and/or abandoned codes")
        return self


class Profile(BaseModel):
    """One mapping profile (the TOML file's keys). Every key is optional."""

    model_config = ConfigDict(extra="forbid")
    description: str | None = None
    source_url: str | None = None  # where the export comes from (documentation only)
    licence: str | None = None  # the data's licence (documentation only)
    source: str = "csv"  # the importer (--source) the profile drives
    system: str | None = None  # --system: the system the contacts come from
    delimiter: str | None = None
    encoding: str | None = None
    time_zone: str | None = None
    time_format: str | None = None
    events: str | None = None  # event log: the ticket id column (--events)
    events_order: list[str] = []
    columns: dict[str, str] = {}  # source column -> canonical field
    combine: dict[str, list[str]] = {}  # canonical field -> source columns joined by a space
    outcome: OutcomeCodes | None = None
    skip: dict[str, list[str]] = {}  # source column -> values marking a row to skip
    placeholders: dict[str, list[str]] = {}  # source column -> values read as missing
    constants: dict[str, str] = {}  # canonical field -> value for every row

    @field_validator("columns")
    @classmethod
    def _targets(cls, v: dict[str, str]) -> dict[str, str]:
        for target in v.values():
            _field(target)
        return v

    @field_validator("combine", "constants")
    @classmethod
    def _made(cls, v: dict[str, Any]) -> dict[str, Any]:
        for target, parts in v.items():
            _field(target)
            if isinstance(parts, list) and not parts:
                raise ValueError(f"{target}: name at least one column")
        return v

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, v: str | None) -> str | None:
        if v is not None and len(v) != 1 and v not in ("\\t", "tab"):
            raise ValueError(f"{v!r} is not one character (write a tab as \"\\t\")")
        return v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str | None) -> str | None:
        if v is not None and v.lower() not in ENCODINGS:
            raise ValueError(f"{v!r} is not one of {', '.join(sorted(ENCODINGS))}")
        return v

    @field_validator("time_zone")
    @classmethod
    def _zone(cls, v: str | None) -> str | None:
        return check_timezone(v) if v is not None else None

    @field_validator("source")
    @classmethod
    def _source(cls, v: str) -> str:
        from recontact.importers import formats

        if v not in formats():
            raise ValueError(f"unknown source {v!r}; known: {', '.join(formats())}")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Profile:
        if self.source != "csv":
            used = [k for k in CSV_ONLY if getattr(self, k)]
            if used:
                raise ValueError(f"{', '.join(used)} only apply to source \"csv\" (this profile's source is "
                                 f"{self.source!r})")
        made = [*self.combine, *self.constants, *(("answered", "abandoned") if self.outcome else ())]
        twice = sorted({f for f in made if made.count(f) > 1} | (set(made) & set(self.columns.values())))
        if twice:
            raise ValueError(f"field(s) made twice (columns, combine, constants, outcome): {', '.join(twice)}")
        if self.events_order and not self.events:
            raise ValueError("events_order needs events (the ticket id column)")
        return self

    def options(self, base: ImportOptions, given: frozenset[str] = frozenset(), name: str | None = None
                ) -> ImportOptions:
        """``base`` with this profile's reading filled in, except the options in ``given`` (named as
        ImportOptions fields: what the user said explicitly wins). ``column_map``: the profile's
        columns, then ``base``'s entries on top."""
        values: dict[str, Any] = {
            "tz": self.time_zone, "encoding": self.encoding, "delimiter": self.delimiter,
            "time_format": self.time_format, "events": self.events, "events_order": tuple(self.events_order),
        }
        updates = {k: v for k, v in values.items() if k not in given and v not in (None, ())}
        outcome = (Outcome(self.outcome.column, tuple(self.outcome.answered), tuple(self.outcome.abandoned))
                   if self.outcome else None)
        return replace(
            base, **updates, column_map={**self.columns, **base.column_map},
            combine={k: tuple(v) for k, v in self.combine.items()}, outcome=outcome,
            skip={k: tuple(v) for k, v in self.skip.items()},
            placeholders={k: tuple(v) for k, v in self.placeholders.items()},
            constants=dict(self.constants), profile=name,
        )


def with_profile(name: str | None, options: ImportOptions, given: frozenset[str], source: str | None,
                 system: str | None) -> tuple[ImportOptions, str | None, str | None, str | None]:
    """What ``recontact import`` reads with under ``--profile name`` (None: no profile): the options
    (explicit ones, named in ``given``, win), the source, the system and the desk time zone to
    remember (the profile's, unless ``tz`` was given)."""
    if name is None:
        return options, source, system, options.tz if "tz" in given else None
    name, profile = load(name)
    desk_tz = options.tz if "tz" in given else profile.time_zone
    return profile.options(options, given, name), source or profile.source, system or profile.system, desk_tz


def profile_dir() -> Path:
    """Where saved profiles live: ``$RECONTACT_PROFILE_DIR``, else
    ``$XDG_CONFIG_HOME/recontact/profiles`` (``~/.config/recontact/profiles``)."""
    if os.environ.get(PROFILE_DIR_ENV):
        return Path(os.environ[PROFILE_DIR_ENV])
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "recontact" / "profiles"


def shipped() -> list[str]:
    """The names of the profiles shipped with recontact."""
    return sorted(p.name.removesuffix(".toml") for p in resources.files(__name__).iterdir()
                  if p.name.endswith(".toml"))


def find(name: str) -> tuple[str, Path | None, str]:
    """(name, file or None for a shipped one, TOML text) of the profile ``--profile name`` means."""
    path = Path(name).expanduser()
    if name.endswith(".toml") or os.sep in name or path.is_file():
        if not path.is_file():
            raise InputFileError(f"--profile {name}: no such file")
        return path.stem, path, path.read_text(encoding="utf-8")
    saved = profile_dir() / f"{name}.toml"
    if saved.is_file():
        return name, saved, saved.read_text(encoding="utf-8")
    if name in shipped():
        return name, None, (resources.files(__name__) / f"{name}.toml").read_text(encoding="utf-8")
    saved_names = sorted(p.stem for p in profile_dir().glob("*.toml")) if profile_dir().is_dir() else []
    raise InputFileError(f"--profile {name}: no such profile; shipped: {', '.join(shipped())}"
                         + (f"; saved in {profile_dir()}: {', '.join(saved_names)}" if saved_names else
                            f"; none saved in {profile_dir()}"))


def load(name: str) -> tuple[str, Profile]:
    """The profile ``--profile name`` means, validated: (its name, the profile). InputFileError
    naming the file and the key otherwise."""
    name, path, text = find(name)
    where = str(path) if path else f"shipped profile {name}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise InputFileError(f"{where}: not valid TOML: {e}") from None
    try:
        return name, Profile.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc']) or 'profile'}: "
                             f"{err['msg'].removeprefix('Value error, ')}" for err in e.errors())
        raise InputFileError(f"{where}: {problems}") from None


def from_options(options: ImportOptions, source: str, system: str | None) -> Profile:
    """The profile that reads a file as ``options`` (and ``source``, ``system``) did."""
    outcome = options.outcome
    return Profile(
        source=source, system=system, delimiter=options.delimiter, encoding=options.encoding,
        time_zone=options.tz, time_format=options.time_format, events=options.events,
        events_order=list(options.events_order), columns=dict(options.column_map),
        combine={k: list(v) for k, v in options.combine.items()},
        outcome=OutcomeCodes(column=outcome.column, answered=list(outcome.answered),
                             abandoned=list(outcome.abandoned)) if outcome else None,
        skip={k: list(v) for k, v in options.skip.items()},
        placeholders={k: list(v) for k, v in options.placeholders.items()}, constants=dict(options.constants),
    )


def save(name: str, profile: Profile, folder: Path | None = None) -> Path:
    """Write ``profile`` as ``NAME.toml`` in ``folder`` (default: profile_dir()); returns the file."""
    import tomli_w

    if not name or name != Path(name).name or name.startswith(".") or name.endswith(".toml"):
        raise InputFileError(f"--save-profile {name!r}: give a plain name (letters, digits, -), not a path")
    target = (folder or profile_dir()) / f"{name}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    data = profile.model_dump(exclude_defaults=True, exclude_none=True)
    data.setdefault("source", profile.source)
    target.write_text(tomli_w.dumps(data), encoding="utf-8")
    return target
