"""A hard limit on the wall time of one delivery attempt.

The network timeout bounds each read or write, not an attempt: an SMTP exchange is about six round
trips, and a receiver that trickles its answer resets a read timeout with every byte. A
:class:`Deadline` shuts down, when it passes, every socket the attempt registered with
:meth:`Deadline.guard`; whatever the attempt was waiting for then fails at once, and the attempt
reports :class:`~recontact.notify.channels.Transient` (tried again later).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Any

from recontact.notify.channels import Transient


class Deadline:
    """``with Deadline(seconds) as d:`` — sockets given to ``d.guard`` are shut down after ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._at = time.monotonic() + seconds
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self.expired = False
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._timer.cancel()

    def remaining(self) -> float:
        """Seconds left (0 once passed)."""
        return max(0.0, self._at - time.monotonic())

    def op_timeout(self, timeout: float) -> float:
        """The timeout of the next network operation: ``timeout``, or less when the deadline is nearer."""
        return max(0.001, min(timeout, self.remaining()))

    def guard(self, sock: Any) -> None:
        """Shut ``sock`` down when the deadline passes (at once if it has)."""
        with self._lock:
            if not self.expired:
                self._sockets.append(sock)
                return
        _shut(sock)

    def failure(self, error: Exception) -> Transient:
        """What to raise for ``error`` met during the attempt: says the deadline cut it off when it did."""
        if self.expired:
            return Transient(f"attempt cut off at its deadline of {self.seconds:g} s (half the lease): {error}")
        return error if isinstance(error, Transient) else Transient(str(error))

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            _shut(sock)


def _shut(sock: Any) -> None:
    # already closed, or detached by a TLS wrapper (which is guarded itself): nothing to shut
    with contextlib.suppress(OSError, ValueError):
        sock.shutdown(socket.SHUT_RDWR)
