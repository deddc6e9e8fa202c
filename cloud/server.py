"""A waitress server on a background thread: for the demo, benchmarks and tests.

`kiosk-cloud serve` runs waitress in the foreground; this is the same server owned by
another program, with a clean `close()` (waitress itself only stops on a signal).
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import Any

from waitress import wasyncore
from waitress.server import create_server


class BackgroundServer:
    """Serve a WSGI app on host:port (port 0 picks a free one) until close()."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, threads: int = 4) -> None:
        self._server = create_server(app, host=host, port=port, threads=threads, ident="kiosk-cloud")
        self.host = host
        self.port: int = int(self._server.effective_port)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"waitress:{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _run(self) -> None:
        server = self._server
        try:
            while not self._stopping.is_set():
                wasyncore.loop(timeout=0.05, map=server._map, count=1)
        finally:
            server.task_dispatcher.shutdown()
            wasyncore.close_all(server._map)

    def close(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._thread.join(timeout=10)

    def __enter__(self) -> BackgroundServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
