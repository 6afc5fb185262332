"""One typed settings object, read from a TOML file (``recontact.toml``) with sane defaults.

Lookup order: ``--config PATH``, then ``$RECONTACT_CONFIG``, then ``./recontact.toml``;
when none exists the defaults below apply. Secrets never live here (environment only).
"""

from __future__ import annotations

import os
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from recontact.cases.settings import CasesSettings, RoutingSettings
from recontact.errors import ConfigError
from recontact.notify.settings import NotifySettings
from recontact.rules.spec import DEFAULT_RULES, Duration, Rule

CONFIG_ENV = "RECONTACT_CONFIG"
CONFIG_FILE = "recontact.toml"


def check_timezone(name: str) -> str:
    """``name`` if it is an IANA time zone; ValueError with a hint otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use an IANA name such as 'Europe/London')") from None
    return name


class AsteriskSettings(BaseModel):
    """``[asterisk]``: what in an Asterisk CDR is the desk's own. A call from one of the desk's
    extensions (or, failing a known extension on either side, from one of its contexts) is outbound
    with ``dst`` the customer; a call to one of its extensions or queues is inbound with ``src`` the
    caller. Nothing set: every call is inbound."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    desk_extensions: tuple[str, ...] = Field((), description="The desk's own phones: src / dst values or "
                                                             "channel endpoints such as 6001 or PJSIP/6001.")
    desk_queues: tuple[str, ...] = Field((), description="Numbers or queues callers dial to reach the desk "
                                                         "(dst, or the queue of a Queue() call).")
    desk_contexts: tuple[str, ...] = Field((), description="Dialplan contexts of the desk's own phones: a call "
                                                           "in one of them was placed by the desk.")

    @field_validator("desk_extensions", "desk_queues", "desk_contexts")
    @classmethod
    def _no_blanks(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        values = tuple(x.strip() for x in v)
        if any(not x for x in values):
            raise ValueError("empty names are not allowed")
        return values


class CostSettings(BaseModel):
    """``[costs]``: the rates cost to serve is computed with (currency units of the desk's choice).
    Every cost output names the rates it used."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labour_per_hour: float = Field(36.0, ge=0, description="Loaded labour cost per handle hour of an agent "
                                                           "without an hourly cost in the agents directory.")
    truck_roll: float = Field(150.0, ge=0, description="Cost of one truck roll (a contact with truck_roll true).")
    per_minute: dict[str, float] = Field(default_factory=lambda: {"phone": 0.02},
                                         description="Telephony cost per billed minute (talk + hold, rounded up "
                                                     "to whole minutes, per contact), by channel.")
    per_contact: dict[str, float] = Field(default_factory=lambda: {"phone": 0.50, "email": 0.20},
                                          description="Fixed cost of one contact, by channel.")

    @field_validator("per_minute", "per_contact")
    @classmethod
    def _channels(cls, v: dict[str, float]) -> dict[str, float]:
        from recontact.schema import CHANNELS

        unknown = sorted(set(v) - set(CHANNELS))
        if unknown:
            raise ValueError(f"unknown channel {', '.join(unknown)} (channels: {', '.join(CHANNELS)})")
        if any(rate < 0 for rate in v.values()):
            raise ValueError("rates must be 0 or more")
        return dict(sorted(v.items()))


class PrivacySettings(BaseModel):
    """``[privacy]``: what reports may show about individual employees."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    individual_employee_rows: bool = Field(False, description="Manager reports list each employee's own "
                                                              "figures (default: aggregates per manager only).")


class ManagerSettings(BaseModel):
    """``[managers]``: the manager report's outlier mark."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    outlier_score: float = Field(3.5, gt=0, description="An employee is far above their peers when their "
                                                        "robust score (MAD-based modified z-score of contacts) "
                                                        "exceeds this.")


class Settings(BaseModel):
    """Everything recontact can be told; every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = Field("UTC", description="Reporting time zone: week/month boundaries, printed times, "
                                             "and the zone of naive timestamps when an import gives no --tz.")
    default_region: str = Field("US", description="ISO 3166 region of phone numbers written without a "
                                                  "country code.")
    repeat_window: Duration = Field("7d", description="Repeat-contact window W: an inbound contact less than W "
                                                      "after the previous one of the same customer and "
                                                      "category is a repeat (FCR, repeat drivers).",
                                    validate_default=True)
    transfer_gap: Duration = Field("0s", description="A contact less than this after the previous one of the "
                                                     "same customer and category is a transfer, neither a "
                                                     "repeat nor a new issue (0: off).",
                                   validate_default=True)
    service_level_seconds: float = Field(20.0, ge=0, description="Service level: the share of offered calls "
                                                                 "answered within this many seconds.")
    deny_list: tuple[str, ...] = Field((), description="Identifiers that never identify anyone (switchboards, "
                                                       "reception, a shared mailbox): 'phone:…', 'email:…', "
                                                       "'account:…', 'extension:…', 'employee:…'; a bare value "
                                                       "is an e-mail (with @) or a caller id. A change "
                                                       "re-resolves identities on the next command.")
    placeholders: tuple[str, ...] = Field((), description="Values that identify no one, added to the built-in "
                                                          "list (private, anonymous, unknown, N/A, TBD, 0, …); "
                                                          "compared ignoring case, spaces and punctuation.")
    max_links: int = Field(5, ge=1, description="An identifier that would join more than this many otherwise "
                                                "separate people (a switchboard, a shared mailbox) is a hub "
                                                "and joins no one.")
    rules: tuple[Rule, ...] = Field(DEFAULT_RULES, description="Chronic-caller rules.")
    # 1GB: measured (bench/bench.py) to keep a 10M-contact import at about 1.5 GB peak RSS and flags
    # well below it; DuckDB's own default (80% of RAM) let the same import peak at 4.5 GB.
    memory_limit: str | None = Field("1GB", pattern=r"^\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$",
                                     description="Most memory the engine may use, e.g. '4GB' (default: 1GB); "
                                                 "beyond it, work spills to disk beside the store.")

    asterisk: AsteriskSettings = Field(default_factory=lambda: AsteriskSettings(),
                                       description="The desk's own Asterisk extensions, queues and contexts "
                                                   "([asterisk] table): they decide a call's direction.")
    cases: CasesSettings = Field(default_factory=lambda: CasesSettings(),
                                 description="[cases]: opening cases on import, SLA per state, resolution codes.")
    routing: RoutingSettings = Field(default_factory=lambda: RoutingSettings(),
                                     description="[routing]: who owns a new case, pool capacity, priority weights.")
    notifications: NotifySettings = Field(default_factory=lambda: NotifySettings(),
                                          description="The outbox: e-mail, webhooks, retries, telling customers "
                                                      "([notifications] table).")

    costs: CostSettings = Field(default_factory=lambda: CostSettings(),
                                description="Cost-to-serve rates ([costs] table; see docs/configuration.md).")
    privacy: PrivacySettings = Field(default_factory=lambda: PrivacySettings(),
                                     description="What reports show about individual employees ([privacy]).")
    managers: ManagerSettings = Field(default_factory=lambda: ManagerSettings(),
                                      description="Manager report settings ([managers]).")

    @field_validator("repeat_window")
    @classmethod
    def _positive_window(cls, v: timedelta) -> timedelta:
        if v <= timedelta(0):
            raise ValueError("repeat_window must be positive")
        return v

    @field_validator("transfer_gap")
    @classmethod
    def _non_negative_gap(cls, v: timedelta) -> timedelta:
        if v < timedelta(0):
            raise ValueError("transfer_gap cannot be negative")
        return v

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        return check_timezone(v)

    @field_validator("default_region")
    @classmethod
    def _region(cls, v: str) -> str:
        import phonenumbers

        v = v.upper()
        if v not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"unknown phone region {v!r} (use an ISO 3166 code such as 'US' or 'GB')")
        return v

    @model_validator(mode="after")
    def _unique_rule_names(self) -> Settings:
        names = [r.name for r in self.rules]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(dupes)}")
        unknown = sorted(set(self.notifications.tell_customer.rules) - set(names))
        if unknown:
            raise ValueError(f"notifications.tell_customer.rules names no rule: {', '.join(unknown)} "
                             f"(rules: {', '.join(names)})")
        return self


def find_config(explicit: Path | None = None) -> Path | None:
    """The config file in force, or None for built-in defaults."""
    if explicit is not None:
        return explicit
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    local = Path(CONFIG_FILE)
    return local if local.exists() else None


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate settings; raise ConfigError naming the file and the bad key."""
    found = find_config(path)
    if found is None:
        return Settings()
    try:
        data = tomllib.loads(found.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{found}: config file not found") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{found}: not a TOML text file (byte {e.start}: not UTF-8)") from None
    except OSError as e:
        raise ConfigError(f"{found}: cannot read the config file: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{found}: not valid TOML: {e}") from None
    try:
        return Settings.model_validate(data)
    except ValidationError as e:
        problems = "; ".join(_problem(err) for err in e.errors())
        raise ConfigError(f"{found}: {problems}") from None


def _problem(err: Any) -> str:
    """One validation error as the key, and what is wrong with it in the user's words: an unknown
    key names the keys allowed in its table, instead of pydantic's "Extra inputs are not permitted"."""
    loc = [str(p) for p in err["loc"]]
    key = ".".join(loc) or "(top)"
    if err["type"] == "extra_forbidden":
        allowed = _keys_of(loc[:-1])
        where = f"[{'.'.join(loc[:-1])}]" if loc[:-1] else "the top level"
        return f"{key}: unknown key" + (f" (allowed in {where}: {', '.join(allowed)})" if allowed else "")
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"{key}: {msg}"


def _keys_of(path: list[str]) -> list[str]:
    """The keys the settings table at ``path`` (e.g. ``["costs"]``) allows; empty when unknown."""
    model: Any = Settings
    for part in path:
        field = getattr(model, "model_fields", {}).get(part)
        model = field.annotation if field is not None else None
        if model is None:
            return []
    return sorted(getattr(model, "model_fields", {}))
