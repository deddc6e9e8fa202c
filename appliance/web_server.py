"""A WSGI server (waitress) on a thread of its own, stopped without racing its event loop: the kiosk's
web server, and the cloud's when another program owns it (the demo, benchmarks, tests; `kiosk-cloud
serve` runs waitress in the foreground instead).

waitress runs an asyncore loop over its sockets; closing them from another thread while that loop
polls them is what made a shutdown raise ``OSError: [Errno 9] Bad file descriptor`` (and once let a
dead kiosk's worker write into a file that had been given its old descriptor number). So the
sockets are closed on the loop's own thread, through waitress's trigger, and the loop thread and the
worker threads are joined before close() returns.
"""
from __future__ import annotations

import logging
import threading
from typing import Any

from flask_socketio import SocketIO
from waitress import trigger, wasyncore
from waitress.server import create_server

log = logging.getLogger(__name__)

JOIN_TIMEOUT_S = 10.0


class WebServer:
    """Serves ``app`` on ``host:port`` (0 picks a free port, read back from :attr:`port`)."""

    def __init__(self, app: Any, socketio: SocketIO | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 threads: int = 8, ident: str = "kiosk") -> None:
        self._socketio = socketio
        self.host = host
        # One socket map of our own, with a trigger in it that runs a function on the loop's thread.
        self._map: dict[int, Any] = {}
        self._trigger = trigger.trigger(self._map)
        # Bound here, so the port is known (and owned) before anyone is told the URL.
        self._server = create_server(app, host=host, port=port, threads=threads, ident=ident, map=self._map)
        self._thread = threading.Thread(target=self._server.run, name="web", daemon=True)
        self._closed = False

    @property
    def port(self) -> int:
        listening = getattr(self._server, "effective_listen", None)  # several sockets (e.g. "localhost")
        return listening[0][1] if listening else self._server.effective_port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> "WebServer":
        """Serve from now on; a server already started (then entered with `with`) is left as it is."""
        if not self._thread.is_alive() and not self._closed:
            self._thread.start()
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._socketio is not None:
            # A page's long-poll request waits in a worker thread; ending the sessions lets it return now.
            # (wait=False: a page that has gone away would never drain its queue.)
            engine = self._socketio.server.eio
            for client in list(engine.sockets.values()):
                client.close(wait=False)
            engine.sockets = {}
            engine.shutdown()
        server_map = self._map
        if self._thread.is_alive():
            self._trigger.pull_trigger(lambda: wasyncore.close_all(server_map))
            self._thread.join(JOIN_TIMEOUT_S)
            if self._thread.is_alive():
                log.warning("the web server's loop did not stop within %.0f s", JOIN_TIMEOUT_S)
        else:
            wasyncore.close_all(server_map)
        self._server.task_dispatcher.shutdown(timeout=JOIN_TIMEOUT_S)

    def __enter__(self) -> "WebServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
