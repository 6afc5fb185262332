"""E-mail over SMTP (the standard library's ``smtplib``), to the server in ``$RECONTACT_SMTP_URL``.

URL forms: ``smtp://host:25`` (plain), ``smtp://host:587?starttls=true`` or ``smtp+starttls://host``
(STARTTLS, port 587 by default), ``smtps://host`` (TLS from the start, port 465); a user and
password as ``smtp://user:password@host`` (percent-encode special characters) log in first.

Every message carries its notification's key twice: ``Message-ID: <KEY@recontact>`` and an
``Idempotency-Key: KEY`` header, so a mail system (or a person) can drop a second copy that a
retry after a lost answer would send.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import NoReturn
from urllib.parse import parse_qs, unquote, urlsplit

from recontact import __version__
from recontact.errors import ConfigError
from recontact.notify.channels import Permanent, Transient
from recontact.notify.models import Notification
from recontact.notify.settings import SMTP_URL_ENV

_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    security: str  # plain | starttls | tls
    username: str | None = None
    password: str | None = None


def parse_smtp_url(url: str) -> SmtpServer:
    """The server named by an ``smtp://``, ``smtp+starttls://`` or ``smtps://`` URL."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    query = {k.lower(): v[-1].lower() for k, v in parse_qs(parts.query).items()}
    if scheme == "smtps":
        security, default_port = "tls", 465
    elif scheme == "smtp+starttls" or (scheme == "smtp" and query.get("starttls", "") in _TRUE):
        security, default_port = "starttls", 587
    elif scheme == "smtp":
        security, default_port = "plain", 25
    else:
        raise ConfigError(f"${SMTP_URL_ENV}: {scheme or 'no'} scheme; use smtp://, smtp+starttls:// or smtps://")
    if not parts.hostname:
        raise ConfigError(f"${SMTP_URL_ENV}: no host in the URL")
    try:
        port = parts.port or default_port
    except ValueError:
        raise ConfigError(f"${SMTP_URL_ENV}: the port is not a number") from None
    return SmtpServer(parts.hostname, port, security, unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None)


def message_for(n: Notification, from_address: str) -> EmailMessage:
    """The e-mail of one notification: its subject and body, and its key as Message-ID and
    ``Idempotency-Key``."""
    msg = EmailMessage()
    msg["From"] = formataddr(("recontact", from_address))
    msg["To"] = n.recipient
    msg["Subject"] = n.subject
    msg["Date"] = format_datetime(n.created_at)
    msg["Message-ID"] = f"<{n.key}@recontact>"
    msg["Idempotency-Key"] = n.key
    msg["X-Recontact-Notification"] = f"{n.id} {n.event}"
    if n.audience == "customer":  # no auto-replies back to the desk's robot
        msg["Auto-Submitted"] = "auto-generated"
    msg["User-Agent"] = f"recontact/{__version__}"
    msg.set_content(n.body + "\n")
    return msg


def send(server: SmtpServer, msg: EmailMessage, timeout: float) -> None:
    """Hand ``msg`` to the server; return once it accepted it for every recipient."""
    try:
        client: smtplib.SMTP
        if server.security == "tls":
            client = smtplib.SMTP_SSL(server.host, server.port, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(server.host, server.port, timeout=timeout)
        with client:
            client.ehlo()
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if server.username:
                client.login(server.username, server.password or "")
            refused = client.send_message(msg)
    except smtplib.SMTPRecipientsRefused as e:
        _raise_for(min(code for code, _ in e.recipients.values()), f"recipients refused: {e.recipients}")
    except smtplib.SMTPAuthenticationError as e:  # fix the credentials, then it goes through
        raise Transient(f"SMTP login refused: {e.smtp_code} {_text(e.smtp_error)}") from None
    except smtplib.SMTPResponseException as e:
        _raise_for(e.smtp_code, f"SMTP {e.smtp_code} {_text(e.smtp_error)}")
    except (smtplib.SMTPException, OSError) as e:  # connection refused or lost, timeout, TLS failure
        raise Transient(f"SMTP {server.host}:{server.port}: {type(e).__name__}: {e}") from None
    if refused:
        _raise_for(min(code for code, _ in refused.values()), f"recipients refused: {refused}")


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _raise_for(code: int, what: str) -> NoReturn:
    """SMTP says 4xx for "try later", 5xx for "never"."""
    if 500 <= code < 600:
        raise Permanent(what)
    raise Transient(what)
