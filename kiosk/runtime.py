"""Composition of a running kiosk: store, service, readers, web server; used by `kiosk`, the demo and tests."""
from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, Callable

from waitress.server import create_server

from kiosk.config import Secrets, Settings
from kiosk.service import KioskService
from kiosk.store import Store, utcnow

log = logging.getLogger(__name__)


class Runtime:
    """Everything a kiosk runs, started in dependency order and closed in reverse."""

    def __init__(
        self,
        settings: Settings,
        secrets: Secrets,
        *,
        clock: Callable[[], datetime] = utcnow,
        open_reader: Callable[..., Any] | None = None,
        port: int | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self._clock = clock
        if open_reader is None:
            from drivers.registry import open_reader as default_open_reader

            open_reader = default_open_reader
        self._open_reader = open_reader
        self._port = settings.web.port if port is None else port
        self.store: Store | None = None
        self.service: KioskService | None = None
        self.readers: list[Any] = []
        self.tap_server: Any = None
        self._server: Any = None
        self._server_thread: threading.Thread | None = None
        self._closers: list[Callable[[], None]] = []

    @property
    def url(self) -> str:
        return f"http://{self.settings.web.host}:{self._server.effective_port}/"

    @property
    def emulators(self) -> dict[str, Any]:
        """Emulated devices by reader id, for the demo's `kioskctl tap` and for tests."""
        return {r.reader_id: r.emulator for r in self.readers if getattr(r, "emulator", None) is not None}

    def start(self) -> "Runtime":
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def _start(self) -> None:
        from web import create_app

        s = self.settings
        s.device.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = Store(s.database_path, device_id=s.device.id, clock=self._clock)
        self._closers.append(self.store.close)
        self.service = KioskService(self.store, s, self.secrets, clock=self._clock).start()
        self._closers.append(self.service.close)
        for reader_settings in s.readers:
            reader = self._open_reader(
                reader_settings.uri, self.service.put, reader_id=reader_settings.id, debounce_s=reader_settings.debounce_s
            )
            self.readers.append(reader)
            self._closers.append(reader.close)
            reader.start()
        if self.emulators:
            from drivers.emulate import TapControlServer

            by_kind = {getattr(e, "kind", rid): e for rid, e in self.emulators.items()}
            self.tap_server = TapControlServer(by_kind, s.control_socket)
            self.tap_server.start()
            self._closers.append(self.tap_server.close)
        app, self.socketio = create_app(self.service, s)
        self.app = app
        self._server = create_server(app, host=s.web.host, port=self._port, threads=8, ident="kiosk")
        self._closers.append(self._server.close)
        self._server_thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._server_thread.start()
        log.info("kiosk %s serving on %s", s.device.id, self.url)

    def close(self) -> None:
        while self._closers:
            closer = self._closers.pop()
            try:
                closer()
            except Exception:  # keep closing the rest
                log.exception("error while closing %r", closer)

    def __enter__(self) -> "Runtime":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
