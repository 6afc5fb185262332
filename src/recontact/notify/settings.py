"""``[notifications]``: how the outbox delivers, how often it retries, and whether customers are told.

Secrets never live in the config file: the SMTP server (with its password) comes from
``$RECONTACT_SMTP_URL``; a webhook or SMS-gateway URL (which often carries a token) may be set in
the file or, preferably, in ``$RECONTACT_WEBHOOK_URL`` / ``$RECONTACT_SMS_GATEWAY_URL``, which win.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from recontact.errors import ConfigError
from recontact.rules.spec import Duration

SMTP_URL_ENV = "RECONTACT_SMTP_URL"
WEBHOOK_URL_ENV = "RECONTACT_WEBHOOK_URL"
SMS_GATEWAY_URL_ENV = "RECONTACT_SMS_GATEWAY_URL"
#: Set to 1 to let the worker log in to an SMTP server without TLS (the password would cross the
#: network in clear text).
SMTP_ALLOW_PLAIN_ENV = "RECONTACT_SMTP_ALLOW_PLAIN"
#: How chat text escapes what it quotes: ``slack`` (``&``, ``<``, ``>`` as entities, so
#: ``<!channel>`` or ``<http://x|y>`` in a customer's data is shown, not obeyed) or ``markdown``
#: (Microsoft Teams, Mattermost, Rocket.Chat: Markdown and HTML punctuation backslash-escaped).
CHAT_FORMATS = ("slack", "markdown")
_TRUE = {"1", "true", "yes", "on"}


def _http_url(v: str | None) -> str | None:
    """``v`` stripped, or ValueError saying why it is not an http(s) URL with a host."""
    if v is None:
        return None
    v = v.strip()
    if not v.lower().startswith(("http://", "https://")):
        raise ValueError(f"{v!r} is not an http:// or https:// URL")
    try:
        parts = urlsplit(v)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError as e:
        raise ValueError(f"{v!r} is not a valid URL ({e})") from None
    if not parts.hostname or any(c.isspace() for c in v):
        raise ValueError(f"{v!r} is not a valid URL (no host, or a space in it)")
    return v


def _env_http_url(name: str) -> str | None:
    """The http(s) URL in environment variable ``name`` (None when unset or empty), checked as the
    config file's are: ConfigError naming the variable otherwise."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return _http_url(raw)
    except ValueError as e:
        raise ConfigError(f"${name}: {e}") from None


@dataclass(frozen=True)
class SmtpServer:
    """The mail server of ``$RECONTACT_SMTP_URL``. ``security``: plain, starttls or tls."""

    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer:
    """The server named by an ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URL; ConfigError
    saying why for anything else, and for a login (user and password) over a connection without
    TLS unless ``$RECONTACT_SMTP_ALLOW_PLAIN=1``."""
    try:
        parts = urlsplit(url.strip())
        query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
        hostname = parts.hostname
    except ValueError as e:
        raise ConfigError(f"${SMTP_URL_ENV}: not a valid URL ({e})") from None
    try:
        port_given = parts.port
    except ValueError:
        raise ConfigError(f"${SMTP_URL_ENV}: the port is not a number") from None
    scheme = parts.scheme.lower()
    if scheme == "smtps":
        security, default_port = "tls", 465
    elif scheme == "smtp+starttls" or (scheme == "smtp" and query.get("starttls", "") in _TRUE):
        security, default_port = "starttls", 587
    elif scheme == "smtp":
        security, default_port = "plain", 25
    else:
        raise ConfigError(f"${SMTP_URL_ENV}: {scheme or 'no'} scheme; use smtp://, smtp+starttls:// or smtps://")
    if not hostname:
        raise ConfigError(f"${SMTP_URL_ENV}: no host in the URL")
    server = SmtpServer(hostname, port_given or default_port, security,
                        unquote(parts.username) if parts.username else None,
                        unquote(parts.password) if parts.password else None)
    allow_plain = os.environ.get(SMTP_ALLOW_PLAIN_ENV, "").strip().lower() in _TRUE
    if server.username and security == "plain" and not allow_plain:
        raise ConfigError(f"${SMTP_URL_ENV}: a login without TLS would send the password in clear text; use "
                          f"smtps:// or smtp+starttls:// (or set {SMTP_ALLOW_PLAIN_ENV}=1)")
    return server


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
        """The gateway URL in force: the environment's (checked: ConfigError), else the file's, else None."""
        return _env_http_url(SMS_GATEWAY_URL_ENV) or self.gateway_url


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
                                                              "(a worker killed mid-delivery). A delivery "
                                                              "attempt is cut off after half of it.")
    chat_format: Literal["slack", "markdown"] = Field(
        "slack", description="How chat text escapes customer data: slack (Slack and Slack-compatible "
                             "webhooks: &, <, > as entities) or markdown (Microsoft Teams, Mattermost, "
                             "Rocket.Chat: Markdown and HTML punctuation backslash-escaped).")
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
        """The webhook URL in force: the environment's (checked as the file's: ConfigError), else
        the file's, else None."""
        return _env_http_url(WEBHOOK_URL_ENV) or self.webhook_url

    def attempt_deadline(self) -> timedelta:
        """The hard limit on one delivery attempt's wall time: half the lease, so that the attempt
        and the recording of its outcome end before another worker may take the notification over."""
        return self.lease / 2

    def delay_after(self, attempts: int, draw: float = 1.0) -> timedelta:
        """Wait before the next attempt after ``attempts`` failed ones (1, 2, …): ``backoff`` x
        2^(attempts-1), at most ``backoff_max``, times ``0.5 + draw / 2`` — the worker draws
        ``draw`` uniformly in [0, 1), so that notifications that failed together (a receiver down)
        do not all come back at the same instant; ``draw = 1`` gives the schedule's upper bound."""
        factor = 2 ** min(max(attempts - 1, 0), 40)
        wait: timedelta = min(self.backoff * factor, self.backoff_max)
        return wait * (0.5 + min(max(draw, 0.0), 1.0) / 2)


def smtp_url() -> str | None:
    """``$RECONTACT_SMTP_URL``, checked (ConfigError saying why it cannot be used), or None when
    e-mail is not configured."""
    url = os.environ.get(SMTP_URL_ENV, "").strip()
    if not url:
        return None
    parse_smtp_url(url)
    return url
