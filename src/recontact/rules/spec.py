"""A rule: "at least N inbound contacts within W", with optional narrowing filters."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from recontact.schema import CHANNEL_SYNONYMS

_SHORT_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(value: Any) -> Any:
    """Accept ``30d`` / ``12h`` / ``2w`` / ``90m`` / ``45s`` besides what pydantic takes
    (ISO 8601 ``P30D``, seconds as a number, a ``timedelta``)."""
    if isinstance(value, str):
        m = _SHORT_DURATION.match(value)
        if m:
            seconds = float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()]
            if abs(seconds) > MAX_DURATION.total_seconds():
                raise ValueError(f"{value!r} is longer than the longest duration, {MAX_DURATION.days:,}d (100 years)")
            return timedelta(seconds=seconds)
    return value


def _bounded(value: timedelta) -> timedelta:
    if abs(value) > MAX_DURATION:
        raise ValueError(f"{value} is longer than the longest duration, {MAX_DURATION.days:,}d (100 years)")
    return value


#: the longest window, gap or wait a setting takes: beyond it dates overflow (Python, DuckDB)
MAX_DURATION = timedelta(days=36_500)
Duration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_bounded)]


def format_duration(d: timedelta) -> str:
    """The shortest ``30d`` / ``12h`` / ``90m`` / ``45s`` spelling of a duration."""
    seconds = d.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds % _UNIT_SECONDS[unit] == 0:
            return f"{int(seconds // _UNIT_SECONDS[unit])}{unit}"
    return f"{seconds:g}s"


class Rule(BaseModel):
    """At least ``min_contacts`` inbound contacts by one customer within the trailing, half-open
    window ``(t - window, t]`` on the contacts' own timestamps.

    Narrowing options: ``same_category`` counts each category separately; ``channel`` counts only
    one channel; ``unresolved_only`` counts only contacts not marked resolved.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    min_contacts: int = Field(ge=2)
    window: Duration
    same_category: bool = False
    channel: str | None = None
    unresolved_only: bool = False
    description: str = ""

    @field_validator("window")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v <= timedelta(0):
            raise ValueError("window must be positive")
        return v

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str | None) -> str | None:
        """Spelled as imports store channels: lower case, synonyms folded (``Call`` -> ``phone``)."""
        if v is None:
            return None
        low = v.strip().lower()
        return CHANNEL_SYNONYMS.get(low, low)

    def summary(self) -> str:
        """One line a person reads, e.g. ``≥ 3 inbound contacts in the same category within 7d``."""
        parts = [f"≥ {self.min_contacts} inbound contacts"]
        if self.channel:
            parts.append(f"by {self.channel}")
        if self.unresolved_only:
            parts.append("left unresolved")
        if self.same_category:
            parts.append("in the same category")
        parts.append(f"within {format_duration(self.window)}")
        return " ".join(parts)


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(name="repeat-30d", min_contacts=5, window=timedelta(days=30),
         description="The same customer keeps coming back."),
    Rule(name="same-issue-7d", min_contacts=3, window=timedelta(days=7), same_category=True,
         description="The same problem, again and again, within a week."),
)
