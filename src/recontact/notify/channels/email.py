"""E-mail over SMTP (the standard library's ``smtplib``), to the server in ``$RECONTACT_SMTP_URL``.

URL forms: ``smtp://host:25`` (plain), ``smtp://host:587?starttls=true`` or ``smtp+starttls://host``
(STARTTLS, port 587 by default), ``smtps://host`` (TLS from the start, port 465); a user and
password as ``smtp://user:password@host`` (percent-encode special characters) log in first —
only over TLS (``smtps://`` or STARTTLS) unless ``$RECONTACT_SMTP_ALLOW_PLAIN=1``.

Every message carries its notification's key twice: ``Message-ID: <KEY@recontact>`` and an
``Idempotency-Key: KEY`` header, so a mail system (or a person) can drop a second copy that a
retry after a lost answer would send.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any, NoReturn

from recontact import __version__
from recontact.notify.channels import Permanent, Transient, Unbuildable
from recontact.notify.channels.deadline import Deadline
from recontact.notify.models import Notification
from recontact.notify.settings import SmtpServer, parse_smtp_url

__all__ = ["SmtpServer", "message_for", "parse_smtp_url", "send"]


def message_for(n: Notification, from_address: str) -> EmailMessage:
    """The e-mail of one notification: its subject and body, and its key as Message-ID and
    ``Idempotency-Key``. :class:`Unbuildable` when it cannot be one (a header value with a line
    break, such as an address with CR/LF in it)."""
    try:
        return _message(n, from_address)
    except (ValueError, TypeError, IndexError) as e:  # what the email package raises on a bad header
        raise Unbuildable(f"cannot build the e-mail to {n.recipient!r}: {e}") from None


def _message(n: Notification, from_address: str) -> EmailMessage:
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
    # Serialise once here: the email package checks header values (line breaks) only then.
    msg.as_bytes()
    return msg


def send(server: SmtpServer, msg: EmailMessage, timeout: float, deadline: Deadline | None = None) -> None:
    """Hand ``msg`` to the server; return once it accepted it for every recipient. Each operation
    is bounded by ``timeout``; the whole exchange by ``deadline``, when given."""
    deadline = deadline or Deadline(float("inf"))
    try:
        client: smtplib.SMTP
        if server.security == "tls":
            client = _guarded(smtplib.SMTP_SSL, deadline)(server.host, server.port,
                                                          timeout=deadline.op_timeout(timeout),
                                                          context=ssl.create_default_context())
        else:
            client = _guarded(smtplib.SMTP, deadline)(server.host, server.port, timeout=deadline.op_timeout(timeout))
        with client:
            client.ehlo()
            if server.security == "starttls":
                client.starttls(context=ssl.create_default_context())
                deadline.guard(client.sock)  # the TLS socket that replaced the plain one
                client.ehlo()
            if server.username:
                client.login(server.username, server.password or "")
            refused = client.send_message(msg)
    except smtplib.SMTPRecipientsRefused as e:
        _raise_for(min(code for code, _ in e.recipients.values()), f"recipients refused: {e.recipients}")
    except smtplib.SMTPAuthenticationError as e:  # fix the credentials, then it goes through
        raise Transient(f"SMTP login refused: {e.smtp_code} {_text(e.smtp_error)}") from None
    except smtplib.SMTPResponseException as e:
        if deadline.expired:
            raise deadline.failure(e) from None
        _raise_for(e.smtp_code, f"SMTP {e.smtp_code} {_text(e.smtp_error)}")
    except (smtplib.SMTPException, OSError) as e:  # connection refused or lost, timeout, TLS failure
        raise deadline.failure(Transient(f"SMTP {server.host}:{server.port}: {type(e).__name__}: {e}")) from None
    if refused:
        _raise_for(min(code for code, _ in refused.values()), f"recipients refused: {refused}")


def _guarded(cls: type[smtplib.SMTP], deadline: Deadline) -> Any:
    """``cls`` whose socket is guarded by ``deadline`` from its creation (the constructor connects
    and reads the greeting: a server trickling its greeting is cut off too)."""

    class Guarded(cls):  # type: ignore[valid-type,misc]
        def _get_socket(self, host: str, port: int, timeout: float) -> Any:
            sock = super()._get_socket(host, port, timeout)
            deadline.guard(sock)
            return sock

    return Guarded


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _raise_for(code: int, what: str) -> NoReturn:
    """SMTP says 4xx for "try later", 5xx for "never"."""
    if 500 <= code < 600:
        raise Permanent(what)
    raise Transient(what)
