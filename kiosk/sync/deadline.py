"""A total deadline per HTTP request, which requests does not have.

requests' read timeout is per socket read: a reply trickled a byte a second never trips it and holds the
sync worker for as long as the sender likes. This adapter notes the connection each request of the
current thread uses; when the request's deadline passes, a timer shuts that socket down, so the blocked
read returns at once and the request fails like a reset connection (the caller then says why).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class Deadline:
    """The connections one request used, and whether its time ran out."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connections: list[Any] = []
        self.expired = False

    def watch(self, connection: Any) -> None:
        with self._lock:
            self._connections.append(connection)
            expired = self.expired
        if expired:
            self._cut(connection)

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            connections = list(self._connections)
        for connection in connections:
            self._cut(connection)

    @staticmethod
    def _cut(connection: Any) -> None:
        sock = getattr(connection, "sock", None)
        if sock is None:
            return
        try:
            # The plain socket's shutdown even for TLS: SSLSocket.shutdown would drop its SSL object under
            # the reading thread's feet; shutting the descriptor makes that read return with an error.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # already closed: nothing left to cut


class DeadlineAdapter(HTTPAdapter):
    """Mount on a session; wrap each request in :meth:`deadline`."""

    def __init__(self) -> None:
        self._local = threading.local()
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _watched(HTTPConnectionPool, self._watch),
            "https": _watched(HTTPSConnectionPool, self._watch),
        }

    def _watch(self, connection: Any) -> None:
        deadline: Deadline | None = getattr(self._local, "deadline", None)
        if deadline is not None:
            deadline.watch(connection)

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[Deadline]:
        """Requests made by this thread inside the block are cut off ``seconds`` after it starts."""
        deadline = Deadline()
        self._local.deadline = deadline
        timer = threading.Timer(seconds, deadline.expire)
        timer.daemon = True
        timer.start()
        try:
            yield deadline
        finally:
            timer.cancel()
            self._local.deadline = None


def _watched(base: type[HTTPConnectionPool], watch: Any) -> type[HTTPConnectionPool]:
    class WatchedPool(base):  # type: ignore[valid-type, misc]
        def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
            watch(conn)
            return super()._make_request(conn, *args, **kwargs)

    WatchedPool.__name__ = f"Watched{base.__name__}"
    return WatchedPool
