"""A Unix-socket control server so another process can tap a running demo's emulated readers.

Line protocol, one request per line, UTF-8::

    TAP <kind> <data>\\n   ->  OK\\n  |  ERR <reason>\\n
    PING\\n                ->  OK\\n

``<data>`` is the rest of the line (a card id, or for other kinds whatever that
device presents) and is handed to ``emulators[kind].tap(data)``.

From a shell at a running demo: ``kioskctl tap 0A00B1C2D3 [--kind rdm6300]``.
"""
from __future__ import annotations

import logging
import os
import socket
import socketserver
import stat
import threading
from pathlib import Path
from typing import Mapping, Protocol

from drivers.errors import DriverError, EmulatorControlError



class Tappable(Protocol):
    """An emulated reader another process can tap: a PtyEmulator, or an NFC/Wiegand tap adapter."""

    kind: str

    def tap(self, data: str) -> None: ...

log = logging.getLogger(__name__)

_MAX_LINE = 4096
_CLIENT_TIMEOUT_S = 5.0


def handle_request(line: str, emulators: Mapping[str, Tappable]) -> str:
    """Answer one protocol line (without its newline); never raises."""
    verb, _, rest = line.strip("\r\n").partition(" ")
    if verb == "PING" and not rest:
        return "OK"
    if verb != "TAP":
        return "ERR unknown command; send 'TAP <kind> <data>' or 'PING'"
    kind, _, data = rest.partition(" ")
    emulator = emulators.get(kind)
    if emulator is None:
        running = ", ".join(sorted(emulators)) or "none"
        return f"ERR no emulated reader of kind {kind!r} in this demo (running: {running})"
    if not data:
        return "ERR nothing to tap: send 'TAP <kind> <data>'"
    try:
        emulator.tap(data)
    except DriverError as error:
        return f"ERR {error}"
    except OSError as error:
        return f"ERR the emulated {kind} reader could not send: {error.strerror or error}"
    return "OK"


class TapControlServer:
    """Serves the tap protocol on ``socket_path`` (mode 0600) until ``close()``."""

    def __init__(self, emulators: Mapping[str, Tappable], socket_path: Path) -> None:
        self.emulators = emulators
        self.socket_path = Path(socket_path)
        self._server: socketserver.ThreadingUnixStreamServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> "TapControlServer":
        self._remove_stale_socket()
        emulators = self.emulators

        class Handler(socketserver.StreamRequestHandler):
            timeout = _CLIENT_TIMEOUT_S

            def handle(self) -> None:
                try:
                    while True:
                        raw = self.rfile.readline(_MAX_LINE)
                        if not raw:
                            return
                        answer = handle_request(raw.decode("utf-8", "replace"), emulators)
                        self.wfile.write(answer.encode("utf-8") + b"\n")
                except OSError:
                    return  # the client went away or timed out; nothing to answer

        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        server = socketserver.ThreadingUnixStreamServer(str(self.socket_path), Handler)
        server.daemon_threads = True
        # A tap is as good as presenting a card: only the demo's own user may send one.
        os.chmod(self.socket_path, 0o600)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="tap-control", daemon=True
        )
        self._thread.start()
        log.info("tap control listening on %s", self.socket_path)
        return self

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
            self.socket_path.unlink(missing_ok=True)
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None

    def __enter__(self) -> "TapControlServer":
        return self.start() if self._server is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _remove_stale_socket(self) -> None:
        path = self.socket_path
        try:
            mode = path.lstat().st_mode
        except FileNotFoundError:
            return
        if not stat.S_ISSOCK(mode):
            raise EmulatorControlError(
                f"{path} exists and is not a socket; choose another tap control socket path"
            )
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink(missing_ok=True)  # left behind by a demo that crashed
            return
        finally:
            probe.close()
        raise EmulatorControlError(f"another demo is already listening on {path}; stop it or use another path")


def send_tap(socket_path: Path, uid: str, kind: str = "rdm6300", *, timeout_s: float = 5.0) -> None:
    """Tap card ``uid`` on the running demo's emulated ``kind`` reader."""
    if "\n" in uid or "\r" in uid or " " in kind or not kind:
        raise EmulatorControlError("a tap is one line: the data must not contain a newline, the kind no space")
    answer = _request(Path(socket_path), f"TAP {kind} {uid}", timeout_s)
    if answer != "OK":
        raise EmulatorControlError(
            f"the demo refused the tap: {answer.removeprefix('ERR ').strip() or 'no answer'}"
        )


def _request(path: Path, line: str, timeout_s: float) -> str:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout_s)
    try:
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as error:
            raise EmulatorControlError(
                f"no demo is running with a tap control socket at {path} ({error.strerror}); "
                "start the demo first, or pass the socket path it printed"
            ) from error
        except OSError as error:
            raise EmulatorControlError(f"cannot reach the tap control socket {path}: {error}") from error
        try:
            sock.sendall(line.encode("utf-8") + b"\n")
            with sock.makefile("rb") as reply:
                return reply.readline(_MAX_LINE).decode("utf-8", "replace").strip()
        except OSError as error:
            raise EmulatorControlError(f"the demo at {path} did not answer the tap: {error}") from error
    finally:
        sock.close()
