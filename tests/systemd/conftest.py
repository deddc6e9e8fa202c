"""Fixtures for the systemd tests: a real AF_UNIX datagram socket standing in for systemd."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest


class NotifySocket:
    """The receiving end systemd would own: a bound datagram socket we can read from."""

    def __init__(self, sock: socket.socket, env_value: str) -> None:
        self.sock = sock
        self.env_value = env_value

    def receive(self, timeout_s: float = 1.0) -> dict[str, str]:
        self.sock.settimeout(timeout_s)
        data = self.sock.recv(4096).decode()
        return dict(line.split("=", 1) for line in data.split("\n"))

    def nothing_waiting(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recv(4096)
        except BlockingIOError:
            return True
        return False


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifySocket]:
    path = tmp_path / "notify"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    yield NotifySocket(sock, str(path))
    sock.close()


@pytest.fixture
def abstract_notify_socket() -> Iterator[NotifySocket]:
    name = f"kiosk-test-notify-{os.getpid()}-{id(object())}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(b"\0" + name.encode())
    yield NotifySocket(sock, "@" + name)
    sock.close()
