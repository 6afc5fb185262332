"""Real receivers on loopback for the outbox tests: an HTTP webhook receiver (the standard library's
``http.server`` in a thread) and an SMTP server (aiosmtpd). No mocks: the worker talks to them
over TCP exactly as it talks to Slack or a mail relay.

Both de-duplicate by idempotency key, as the docs ask real receivers to: the first copy of a
key that the receiver answers with success is **accepted**; a later copy of an accepted key is
answered with success too but counted as a **duplicate**. Tests then assert that every
notification was accepted exactly once.

A *script* says how the receiver answers the n-th request for one key: a list of behaviours
for attempts 1, 2, …; attempts beyond the list are answered ``ok``. Behaviours:

* ``ok``: accept and answer success;
* ``fail``: answer HTTP 500 / SMTP 451 (try later), accept nothing;
* ``refuse``: answer HTTP 404 / SMTP 550 (never), accept nothing;
* ``busy``: HTTP 503 with ``Retry-After: 1`` (the seconds the receiver asks for);
* ``hang``: accept nothing and answer nothing until the test ends (the client times out);
* ``slow_ok``: accept, then answer only after the client gave up (its reply is lost, so the
  worker tries again and the receiver sees a duplicate);
* ``block``: accept, tell the test (``blocked`` event), and answer only when the test sets
  ``release`` — the window in which the test kills the worker.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import socket
import threading
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

GATE_TIMEOUT = 60.0  # longest any behaviour holds a request, so a broken test cannot hang forever


@dataclass
class Received:
    key: str
    attempt: int
    behaviour: str
    worker: str | None
    body: Any


@dataclass
class Ledger:
    """What a receiver saw, by idempotency key. Thread-safe."""

    script: list[str] = field(default_factory=list)
    block_first: bool = False  # "block" the very first request, whatever its key
    wait_for_workers: int = 0  # hold every request until this many distinct workers have sent one
    received: list[Received] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)
    duplicates: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    blocked: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    workers_seen: set[str] = field(default_factory=set)
    enough_workers: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def arrive(self, key: str, worker: str | None, body: Any) -> str:
        """Record one request; return its behaviour."""
        with self.lock:
            attempt = sum(1 for r in self.received if r.key == key) + 1
            if self.block_first and not self.received:
                behaviour = "block"
            else:
                behaviour = self.script[attempt - 1] if attempt <= len(self.script) else "ok"
            self.received.append(Received(key, attempt, behaviour, worker, body))
            if worker:
                self.workers_seen.add(worker)
                if len(self.workers_seen) >= self.wait_for_workers:
                    self.enough_workers.set()
            if behaviour in ("ok", "slow_ok", "block"):
                if self.accepted[key]:
                    self.duplicates[key] += 1
                else:
                    self.accepted[key] += 1
        if self.wait_for_workers and not self.enough_workers.wait(GATE_TIMEOUT):
            self.problems.append(f"only {len(self.workers_seen)} worker(s) ever sent")
        return behaviour

    def hold(self, behaviour: str) -> None:
        """Block the calling request as its behaviour says."""
        if behaviour == "block":
            self.blocked.set()
            self.release.wait(GATE_TIMEOUT)
        elif behaviour in ("hang", "slow_ok"):
            self.release.wait(GATE_TIMEOUT)

    def requests_for(self, key: str) -> int:
        return sum(1 for r in self.received if r.key == key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class HttpReceiver:
    """A webhook receiver on ``http://127.0.0.1:PORT/hook/SECRET``."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    body = json.loads(raw)
                except ValueError:
                    outer.ledger.problems.append(f"not JSON: {raw[:100]!r}")
                    self._answer(400)
                    return
                key = self.headers.get("Idempotency-Key", "")
                if not key or body.get("id") != key or body.get("idempotency_key") != key:
                    outer.ledger.problems.append(f"key header {key!r} and body {body.get('id')!r} differ")
                    self._answer(400)
                    return
                if self.path != "/hook/s3cret":
                    outer.ledger.problems.append(f"posted to {self.path}")
                behaviour = outer.ledger.arrive(key, self.headers.get("X-Recontact-Worker"), body)
                outer.ledger.hold(behaviour)
                status = {"ok": 200, "slow_ok": 200, "block": 200, "fail": 500, "refuse": 404, "busy": 503,
                          "hang": 500}[behaviour]
                self._answer(status, {"Retry-After": "1"} if behaviour == "busy" else {})

            def _answer(self, status: int, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    for k, v in (headers or {}).items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:  # the client gave up (timeout) or was killed
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook/s3cret"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HttpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.ledger.release.set()
        self.server.shutdown()
        self.server.server_close()


class _SmtpHandler:
    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.messages: dict[str, email.message.EmailMessage] = {}

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        key = str(msg.get("Idempotency-Key", ""))
        if not key or msg.get("Message-ID") != f"<{key}@recontact>":
            self.ledger.problems.append(f"Message-ID {msg.get('Message-ID')!r} does not carry key {key!r}")
            return "554 5.6.0 no idempotency key"
        behaviour = self.ledger.arrive(key, None, {"to": envelope.rcpt_tos, "subject": str(msg["Subject"]),
                                                   "text": msg.get_content() if not msg.is_multipart() else ""})
        await asyncio.get_running_loop().run_in_executor(None, self.ledger.hold, behaviour)
        if behaviour in ("ok", "slow_ok", "block"):
            self.messages.setdefault(key, msg)  # type: ignore[arg-type]
            return "250 2.0.0 OK"
        return {"fail": "451 4.3.0 try again later", "refuse": "550 5.1.1 no such user",
                "busy": "421 4.3.2 busy", "hang": "451 4.4.2 too late"}[behaviour]


class SmtpReceiver:
    """An SMTP server on ``smtp://127.0.0.1:PORT``."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.handler = _SmtpHandler(ledger)
        self.port = free_port()
        self.url = f"smtp://127.0.0.1:{self.port}"
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def messages(self) -> dict[str, email.message.EmailMessage]:
        return self.handler.messages

    def __enter__(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.ledger.release.set()
        self.controller.stop()
