"""``[cases]`` and ``[routing]`` of ``recontact.toml``: SLA, resolution codes, who owns a new case.

Plain pydantic models (no database import): ``config.Settings`` carries them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from recontact.rules.spec import Duration

#: Workflow states, in the order a case normally goes through them.
STATES = ("new", "contacted", "in_progress", "resolved", "closed")

RoutingStep = Literal["last_agent", "supervisor", "account_manager", "pool"]

DEFAULT_RESOLUTION_CODES = ("root_cause_fixed", "equipment_replaced", "training", "workaround", "not_fixable",
                            "customer_unreachable", "no_action_needed", "duplicate")


def _sla_default() -> dict[str, timedelta]:
    return {"new": timedelta(days=1), "contacted": timedelta(days=3), "in_progress": timedelta(days=7),
            "resolved": timedelta(days=14)}


class CasesSettings(BaseModel):
    """``[cases]``: how cases are opened and when work on them is due."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    open_on_import: bool = Field(True, description="Every import opens cases for the new flag episodes of the "
                                                   "customers it touched (false: only `recontact cases sync`).")
    open_within: Duration = Field(timedelta(days=30),
                                  description="Cases open only for flag episodes still open at the store's "
                                              "latest contact or that crossed within this long before it "
                                              "(older episodes stay history: flags, timelines, reports); "
                                              "`recontact cases sync --since DAY` opens older ones on purpose.")
    sla: dict[str, Duration] = Field(default_factory=_sla_default,
                                     description="How long a case may stay in each state before it is overdue, "
                                                 "e.g. {new = \"1d\", contacted = \"3d\", in_progress = \"7d\", "
                                                 "resolved = \"14d\"}; a state left out has no due date.")
    resolution_codes: tuple[str, ...] = Field(DEFAULT_RESOLUTION_CODES,
                                              description="Codes a case may be resolved or closed with.")

    @field_validator("sla")
    @classmethod
    def _known_states(cls, v: dict[str, timedelta]) -> dict[str, timedelta]:
        unknown = sorted(set(v) - set(STATES[:-1]))
        if unknown:
            raise ValueError(f"no SLA for {', '.join(unknown)}: states with a due date are "
                             f"{', '.join(STATES[:-1])}")
        if any(d <= timedelta(0) for d in v.values()):
            raise ValueError("SLA durations must be positive")
        return v

    @field_validator("open_within")
    @classmethod
    def _positive(cls, v: timedelta) -> timedelta:
        if v <= timedelta(0):
            raise ValueError("open_within must be positive")
        return v

    @field_validator("resolution_codes")
    @classmethod
    def _codes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or any(not c.strip() for c in v):
            raise ValueError("resolution codes must be non-empty names")
        return tuple(c.strip() for c in v)


class PriorityWeights(BaseModel):
    """Priority = contacts * (count at the crossing / the rule's threshold) + value * (customer's
    revenue / ``value_unit``, at most 10) + recency * (1 - days from the customer's latest contact to
    the store's latest contact / the rule's window, at least 0); higher first."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    contacts: float = Field(1.0, ge=0)
    value: float = Field(1.0, ge=0)
    recency: float = Field(1.0, ge=0)
    value_unit: float = Field(100.0, gt=0, description="Revenue worth one priority point.")


class RoutingSettings(BaseModel):
    """``[routing]``: who owns a new case. The steps are tried in ``order``; the first that names an
    active user wins; none: the case stays unassigned (``routed_by`` says why)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    order: tuple[RoutingStep, ...] = Field(("last_agent", "pool"),
                                           description="Steps: last_agent (the user whose agent id handled the "
                                                       "customer's latest contact before the crossing), supervisor "
                                                       "(that agent's supervisor), account_manager (the customer's "
                                                       "account manager), pool (liaison pool, round robin among "
                                                       "those under capacity).")
    default_capacity: int = Field(25, ge=1, description="Most open cases a pool member owns at once when the "
                                                        "user sets no capacity.")
    priority: PriorityWeights = Field(default_factory=lambda: PriorityWeights())
