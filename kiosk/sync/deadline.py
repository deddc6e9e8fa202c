"""A total deadline per HTTP request, which urllib3 does not have.

urllib3's read timeout is per socket read: a reply trickled a byte a second never trips it and holds the
sync worker for as long as the sender likes. These pools note the connection each request of the
current thread uses; when the request's deadline passes, a watcher shuts that socket down, so the blocked
read returns at once and the request fails like a reset connection (the caller then says why).

One watcher thread serves all of the pools' requests, not a timer thread each: a probe against a loopback
server in the same process took 4.3-5.3 ms a call (p50) with a timer thread started and cancelled per request
and 2.3 ms with the watcher. It runs while requests are in flight and a moment after (a burst, such as an
outbox drain, shares it), so an idle kiosk has none.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import urllib3
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


class DeadlineWatch:
    """Expires each deadline `seconds` after it was opened, from one thread.

    Every deadline lasts the same `seconds`, so they fall due in the order they were opened and the
    watcher only ever waits for the oldest one still open; a request that finishes drops its own.
    """

    def __init__(self, seconds: float, *, linger_s: float = 1.0) -> None:
        self.seconds = seconds
        self.linger_s = linger_s
        self._cond = threading.Condition()
        self._open: OrderedDict[int, tuple[float, Deadline]] = OrderedDict()
        self._thread: threading.Thread | None = None
        self._last_closed = time.monotonic()
        self._stopping = False

    @contextmanager
    def opened(self) -> Iterator[Deadline]:
        deadline = Deadline()
        key = id(deadline)
        with self._cond:
            self._open[key] = (time.monotonic() + self.seconds, deadline)
            self._ensure_watcher()
        try:
            yield deadline
        finally:
            with self._cond:
                self._open.pop(key, None)
                self._last_closed = time.monotonic()
                if not self._open:
                    self._cond.notify()  # the watcher waits for this deadline's moment: from now, the linger

    def close(self) -> None:
        """Stop the watcher now instead of after its linger (a deadline opened later starts a new one)."""
        with self._cond:
            thread, self._stopping = self._thread, True
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        with self._cond:
            self._stopping = False
            if self._open:  # opened by another thread while this one stopped the watcher
                self._ensure_watcher()

    def _ensure_watcher(self) -> None:
        if self._thread is None and not self._stopping:
            self._thread = threading.Thread(target=self._run, name="http-deadlines", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                while self._open and next(iter(self._open.values()))[0] <= now:
                    self._open.popitem(last=False)[1][1].expire()
                if self._open:
                    wait = next(iter(self._open.values()))[0] - now
                elif now - self._last_closed >= self.linger_s:
                    break
                else:
                    wait = self.linger_s - (now - self._last_closed)
                # A deadline opened meanwhile needs no notify: it falls due after every one already open, and
                # after the linger the loop looks again.
                self._cond.wait(wait)
            self._thread = None


class DeadlinePools:
    """A urllib3 pool manager (through `proxy_url` when given) whose requests are each wrapped in :meth:`deadline`.

    `pool_settings` go to every pool: TLS (cert_reqs, ca_certs) and the like.
    """

    def __init__(self, seconds: float, *, proxy_url: str | None = None, **pool_settings: Any) -> None:
        self._local = threading.local()
        self._deadlines = DeadlineWatch(seconds)
        self.manager: urllib3.PoolManager = (urllib3.ProxyManager(proxy_url, **pool_settings) if proxy_url
                                             else urllib3.PoolManager(**pool_settings))
        self.manager.pool_classes_by_scheme = {
            "http": _watched(HTTPConnectionPool, self._watch),
            "https": _watched(HTTPSConnectionPool, self._watch),
        }

    def _watch(self, connection: Any) -> None:
        deadline: Deadline | None = getattr(self._local, "deadline", None)
        if deadline is not None:
            deadline.watch(connection)

    @contextmanager
    def deadline(self) -> Iterator[Deadline]:
        """Requests made by this thread inside the block are cut off the pools' seconds after it starts."""
        with self._deadlines.opened() as deadline:
            self._local.deadline = deadline
            try:
                yield deadline
            finally:
                self._local.deadline = None

    def close(self) -> None:
        self.manager.clear()
        self._deadlines.close()


def _watched(base: type[HTTPConnectionPool], watch: Any) -> type[HTTPConnectionPool]:
    class WatchedPool(base):  # type: ignore[valid-type, misc]
        def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
            watch(conn)
            return super()._make_request(conn, *args, **kwargs)

    WatchedPool.__name__ = f"Watched{base.__name__}"
    return WatchedPool
