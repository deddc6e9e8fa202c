"""A tiny sd_notify client: tells systemd the service is ready, alive or stopping.

systemd passes the socket in NOTIFY_SOCKET (a path, or '@name' for the Linux abstract
namespace) and the watchdog period in WATCHDOG_USEC/WATCHDOG_PID. Outside systemd
(a developer's shell, the tests) NOTIFY_SOCKET is unset and every call is a no-op that
returns False, so the service code can call it unconditionally.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Mapping
from types import TracebackType

from kiosk.errors import KioskError


class NotifyError(KioskError):
    """NOTIFY_SOCKET holds something that is not a usable socket address."""


def socket_address(notify_socket: str) -> str | bytes:
    """The address to send to, from NOTIFY_SOCKET ('@' means the abstract namespace)."""
    if notify_socket.startswith("@"):
        return b"\0" + notify_socket[1:].encode()
    if notify_socket.startswith("/"):
        return notify_socket
    raise NotifyError(
        f"NOTIFY_SOCKET={notify_socket!r} is neither an absolute path nor '@abstract'; "
        "unset it when not running under systemd"
    )


def watchdog_interval_s(environ: Mapping[str, str], pid: int | None = None) -> float | None:
    """Seconds between WATCHDOG=1 pings (half the systemd timeout), or None if no watchdog.

    WATCHDOG_PID, when set, names the process the watchdog is meant for; a child that
    inherited the environment must not ping on its parent's behalf.
    """
    usec = environ.get("WATCHDOG_USEC", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    target = environ.get("WATCHDOG_PID", "")
    if target and target.isdigit() and int(target) != (os.getpid() if pid is None else pid):
        return None
    return int(usec) / 1_000_000 / 2


class SystemdNotifier:
    """A datagram sender to systemd's notify socket; a no-op when there is none."""

    def __init__(self, notify_socket: str | None) -> None:
        self._address = socket_address(notify_socket) if notify_socket else None
        self._sock: socket.socket | None = None
        if self._address is not None:
            self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> "SystemdNotifier":
        return cls(environ.get("NOTIFY_SOCKET") or None)

    @property
    def enabled(self) -> bool:
        return self._sock is not None

    def notify(self, **fields: str | int) -> bool:
        """Send KEY=value lines, e.g. notify(READY=1, STATUS="reading cards")."""
        if self._sock is None or self._address is None:
            return False
        message = "\n".join(f"{key}={_one_line(value)}" for key, value in fields.items())
        try:
            self._sock.sendto(message.encode(), self._address)
        except OSError:
            # systemd gone or the socket full: a missed ping is what the watchdog is for.
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        if status is None:
            return self.notify(READY=1)
        return self.notify(READY=1, STATUS=status)

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG=1)

    def status(self, text: str) -> bool:
        return self.notify(STATUS=text)

    def stopping(self) -> bool:
        return self.notify(STOPPING=1)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "SystemdNotifier":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _one_line(value: str | int) -> str:
    # A newline inside a value would start a new (forged) assignment.
    return str(value).replace("\n", " ")
