"""``[notifications]``: how the outbox delivers, how often it retries, and whether customers are told.

Secrets never live in the config file: the SMTP server (with its password) comes from
``$RECONTACT_SMTP_URL``; a webhook or SMS-gateway URL (which often carries a token) may be set in
the file or, preferably, in ``$RECONTACT_WEBHOOK_URL`` / ``$RECONTACT_SMS_GATEWAY_URL``, which win.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recontact.rules.spec import Duration

SMTP_URL_ENV = "RECONTACT_SMTP_URL"
WEBHOOK_URL_ENV = "RECONTACT_WEBHOOK_URL"
SMS_GATEWAY_URL_ENV = "RECONTACT_SMS_GATEWAY_URL"


def _http_url(v: str | None) -> str | None:
    if v is None:
        return None
    v = v.strip()
    if not v.lower().startswith(("http://", "https://")):
        raise ValueError(f"{v!r} is not an http:// or https:// URL")
    return v


class TellCustomerSettings(BaseModel):
    """``[notifications.tell_customer]``: opening a case under one of ``rules`` sends the customer a
    templated message (e-mail to the customer's e-mail identifier; an SMS or call task to the
    gateway, when one is configured, for the customer's phone). Off by default: no rule listed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[str, ...] = Field((), description="Names of the rules whose new cases tell the customer.")
    email: bool = Field(True, description="Send the customer an e-mail when they have an e-mail identifier.")
    gateway_url: str | None = Field(None, description="SMS / call gateway taking JSON by POST "
                                                      f"(${SMS_GATEWAY_URL_ENV} wins).")
    gateway_task: Literal["sms", "call"] = Field("sms", description="What the gateway is asked to do: send an "
                                                                    "SMS, or place a (voice) call task.")

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, v: str | None) -> str | None:
        return _http_url(v)

    def gateway(self) -> str | None:
        """The gateway URL in force: the environment's, else the file's, else None."""
        return os.environ.get(SMS_GATEWAY_URL_ENV) or self.gateway_url


class NotifySettings(BaseModel):
    """``[notifications]``: channels, retry schedule and templates of the durable outbox."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    from_address: str = Field("recontact@localhost", description="The From: of every e-mail.")
    desk_name: str = Field("the support desk", description="How messages name the desk.")
    webhook_url: str | None = Field(None, description="Chat tool incoming-webhook URL (Slack, Teams, Mattermost…) "
                                                      f"told of case changes (${WEBHOOK_URL_ENV} wins).")
    max_attempts: int = Field(8, ge=1, description="Delivery attempts before a notification is dead-lettered.")
    backoff: Duration = Field(timedelta(seconds=30), description="Wait after the first failed attempt; doubled "
                                                                 "after each further failure.")
    backoff_max: Duration = Field(timedelta(hours=1), description="Longest wait between two attempts.")
    timeout: Duration = Field(timedelta(seconds=10), description="Network timeout of one SMTP or HTTP operation.")
    lease: Duration = Field(timedelta(minutes=5), description="How long a worker owns a notification it is "
                                                              "sending; after it, another worker may retry it "
                                                              "(a worker killed mid-delivery).")
    templates_dir: Path | None = Field(None, description="A folder of Jinja2 templates overriding the shipped "
                                                         "ones by file name.")
    tell_customer: TellCustomerSettings = Field(default_factory=lambda: TellCustomerSettings(),
                                                description="Tell the customer when a case opens (off by default).")

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, v: str | None) -> str | None:
        return _http_url(v)

    @field_validator("backoff", "backoff_max", "timeout", "lease")
    @classmethod
    def _not_negative(cls, v: timedelta) -> timedelta:
        if v < timedelta(0):
            raise ValueError("must not be negative")
        return v

    @model_validator(mode="after")
    def _lease_outlasts_a_delivery(self) -> NotifySettings:
        # One delivery is a few network operations, each bounded by `timeout`: a lease shorter than
        # that could expire while the first worker is still sending, and a second one would send too.
        if self.lease < 3 * self.timeout:
            raise ValueError(f"lease ({self.lease}) must be at least 3 x timeout ({self.timeout})")
        return self

    def webhook(self) -> str | None:
        """The webhook URL in force: the environment's, else the file's, else None."""
        return os.environ.get(WEBHOOK_URL_ENV) or self.webhook_url

    def delay_after(self, attempts: int) -> timedelta:
        """Wait before the next attempt after ``attempts`` failed ones (1, 2, …): ``backoff`` x
        2^(attempts-1), at most ``backoff_max``."""
        factor = 2 ** min(max(attempts - 1, 0), 40)
        wait: timedelta = min(self.backoff * factor, self.backoff_max)
        return wait


def smtp_url() -> str | None:
    """``$RECONTACT_SMTP_URL``, or None when e-mail is not configured."""
    return os.environ.get(SMTP_URL_ENV) or None
