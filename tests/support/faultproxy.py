"""A fault-injecting HTTP proxy on loopback, for proving the sync path loses nothing.

It sits between the kiosk and the cloud and does to each request what the test has
planned: pass it on, answer 500 or 503 with Retry-After itself, reset the
connection, hang past the client's read timeout, forward it and then lose the reply
(the cloud committed, the kiosk does not know), deliver it twice, or hold it and
deliver it later, after newer requests (reordering). And answers that are not protocol answers, as a
captive portal or a broken proxy gives them: the reply cut short, an HTML page, JSON of the wrong
shape, a redirect, results without event ids or with a status the protocol lacks or in another order,
and a reply trickled a few bytes at a time.

Ships in the package (like the reader emulators) so a developer can run the same
faults against a demo: ``python -m tests.support.faultproxy --upstream URL --port N`` then
type fault names on stdin.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import struct
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import urlsplit

PASS = "pass"
RESET = "reset"
HANG = "hang"
LOSE_REPLY = "lose_reply"
DUPLICATE = "duplicate"
HOLD = "hold"
RELEASE = "release"
TRUNCATED = "truncated"          # the cloud's reply, cut in half (Content-Length says so: no read error)
HTML = "html"                    # 200 text/html, a captive portal's login page; the cloud never sees it
WRONG_SHAPE = "wrong_shape"      # 200 application/json, but a list where an object belongs
REDIRECT = "redirect"            # 302 to a portal; the cloud never sees it
NO_EVENT_IDS = "no_event_ids"    # the cloud's reply with every result's event_id removed
UNKNOWN_STATUS = "unknown_status"  # the cloud's reply with every result's status set to "pending"
REVERSED = "reversed"            # the cloud's reply with its results in reverse order (ids intact)
TRICKLE = "trickle"              # the cloud's reply, headers and all, a few bytes every trickle_interval
NONSENSE = frozenset({TRUNCATED, HTML, WRONG_SHAPE, REDIRECT, NO_EVENT_IDS, UNKNOWN_STATUS, TRICKLE})
FAULTS = frozenset({PASS, RESET, HANG, LOSE_REPLY, DUPLICATE, HOLD, RELEASE, REVERSED}) | NONSENSE
PORTAL_PAGE = b"<!DOCTYPE html><html><head><title>Wi-Fi login</title></head><body>Accept the terms</body></html>"

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
               "proxy-authorization", "proxy-authenticate", "content-length", "host"}


@dataclass(frozen=True)
class Fault:
    """What to do with one request.

    kind: one of FAULTS, or "status" with `status` (and optional `retry_after`).
    A HOLD request is kept and the client sees a reset; a RELEASE request is passed
    on and then every held request is delivered to the cloud (after it: reordered).
    """

    kind: str
    status: int = 0
    retry_after: str | None = None

    def __post_init__(self) -> None:
        if self.kind != "status" and self.kind not in FAULTS:
            raise ValueError(f"unknown fault {self.kind!r}; use one of {sorted(FAULTS)} or status")


def status(code: int, retry_after: str | int | None = None) -> Fault:
    return Fault("status", code, None if retry_after is None else str(retry_after))


@dataclass(frozen=True)
class Seen:
    """One request as the proxy saw it, and what it did."""

    method: str
    path: str
    fault: str
    upstream_status: int | None
    body_bytes: int = 0


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes


class FaultProxy:
    """Proxy 127.0.0.1:port -> upstream, applying planned faults to matching requests.

    Only requests whose path contains `match` consume the plan (by default the event
    batches), so config pulls and look-ups pass untouched unless a test asks.
    """

    def __init__(self, upstream: str, *, host: str = "127.0.0.1", port: int = 0,
                 match: str = "/events", hang_limit: float = 30.0,
                 tls: tuple[str, str] | None = None, trickle_interval: float = 0.05) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://host:port, got {upstream!r}")
        self.upstream_host, self.upstream_port = parts.hostname, parts.port
        self.match = match
        self.hang_limit = hang_limit
        self.trickle_interval = trickle_interval
        self._plan: deque[Fault] = deque()
        self._held: list[_Request] = []
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self.seen: list[Seen] = []
        self._server = ThreadingHTTPServer((host, port), self._handler_class())
        self._server.daemon_threads = True
        self.scheme = "http"
        if tls is not None:
            # Serve HTTPS with (certfile, keyfile): lets tests check the kiosk's TLS verification.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"faultproxy:{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def plan(self, *faults: Fault | str) -> None:
        """Queue faults for the next matching requests (then everything passes)."""
        with self._lock:
            self._plan.extend(f if isinstance(f, Fault) else Fault(f) for f in faults)

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._plan)

    def held(self) -> int:
        with self._lock:
            return len(self._held)

    def faults_applied(self) -> list[str]:
        with self._lock:
            return [s.fault for s in self.seen if s.fault != PASS]

    def close(self) -> None:
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # -- internals --------------------------------------------------------------------

    def _next_fault(self, path: str) -> Fault:
        with self._lock:
            if self.match in path and self._plan:
                return self._plan.popleft()
        return Fault(PASS)

    def _record(self, request: _Request, fault: Fault, upstream_status: int | None) -> None:
        name = fault.kind if fault.kind != "status" else f"status {fault.status}"
        with self._lock:
            self.seen.append(Seen(request.method, request.path, name, upstream_status, len(request.body)))

    def _forward(self, request: _Request) -> tuple[int, str, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream_host, self.upstream_port, timeout=30)
        try:
            headers = {k: v for k, v in request.headers if k.lower() not in _HOP_BY_HOP}
            connection.request(request.method, request.path, body=request.body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass  # tests read `proxy.seen`; stderr noise helps nobody

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = _Request(self.command, self.path, list(self.headers.items()), self.rfile.read(length))
                fault = proxy._next_fault(request.path)
                kind = fault.kind
                if kind == "status":
                    proxy._record(request, fault, None)
                    extra = [("Retry-After", fault.retry_after)] if fault.retry_after else []
                    self._reply(fault.status, "Injected", extra, b'{"error":"injected","message":"fault proxy"}')
                elif kind in (RESET, HOLD):
                    if kind == HOLD:
                        with proxy._lock:
                            proxy._held.append(request)
                    proxy._record(request, fault, None)
                    self._reset()
                elif kind == HANG:
                    proxy._record(request, fault, None)
                    proxy._closing.wait(proxy.hang_limit)
                    self._reset()
                elif kind in (HTML, REDIRECT, WRONG_SHAPE):
                    proxy._record(request, fault, None)
                    if kind == HTML:
                        self._reply(200, "OK", [("Content-Type", "text/html; charset=utf-8")], PORTAL_PAGE)
                    elif kind == REDIRECT:
                        self._reply(302, "Found", [("Location", "http://portal.example/login")], b"")
                    else:
                        self._reply(200, "OK", [("Content-Type", "application/json")], b'["ok"]')
                elif kind in (TRUNCATED, NO_EVENT_IDS, UNKNOWN_STATUS, REVERSED, TRICKLE):
                    code, reason, headers, body = proxy._forward(request)
                    proxy._record(request, fault, code)
                    if kind == TRICKLE:
                        self._trickle(code, reason, headers, body)
                    else:
                        self._reply(code, reason, headers, _mangle(kind, body))
                elif kind == LOSE_REPLY:
                    upstream_status = proxy._forward(request)[0]
                    proxy._record(request, fault, upstream_status)
                    self._reset()
                else:
                    reply = proxy._forward(request)
                    if kind == DUPLICATE:
                        reply = proxy._forward(request)
                    if kind == RELEASE:
                        # Late copies land after this request, before its reply: the cloud
                        # sees them out of order and the test sees a settled cloud.
                        with proxy._lock:
                            held, proxy._held = proxy._held, []
                        for late in held:
                            proxy._forward(late)
                    proxy._record(request, fault, reply[0])
                    self._reply(reply[0], reply[1], reply[2], reply[3])

            def _reply(self, code: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
                self.send_response_only(code, reason)
                for name, value in headers:
                    if name.lower() not in _HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def _trickle(self, code: int, reason: str, headers: list[tuple[str, str]], body: bytes) -> None:
                lines = [f"HTTP/1.1 {code} {reason}"]
                lines += [f"{k}: {v}" for k, v in headers if k.lower() not in _HOP_BY_HOP]
                lines += [f"Content-Length: {len(body)}", "", ""]
                raw = "\r\n".join(lines).encode("latin-1") + body
                try:
                    for i in range(0, len(raw), 4):
                        if proxy._closing.wait(proxy.trickle_interval):
                            break
                        self.wfile.write(raw[i:i + 4])
                        self.wfile.flush()
                except OSError:
                    pass  # the client gave up (its deadline): what a trickle is for
                self.close_connection = True

            def _reset(self) -> None:
                # SO_LINGER 0: close() sends RST, as a dropped NAT entry or crashed peer would.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                self.connection.close()

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler


def _mangle(kind: str, body: bytes) -> bytes:
    if kind == TRUNCATED:
        return body[: len(body) // 2]
    reply = json.loads(body)
    results = reply.get("results") if isinstance(reply, dict) else None
    if isinstance(results, list):
        if kind == REVERSED:
            results.reverse()
        for result in results:
            if kind == NO_EVENT_IDS:
                result.pop("event_id", None)
            elif kind == UNKNOWN_STATUS:
                result["status"] = "pending"
    return json.dumps(reply).encode()


def main() -> None:  # pragma: no cover - manual tool
    import argparse
    import sys

    parser = argparse.ArgumentParser(description="Fault-injecting HTTP proxy (loopback only).")
    parser.add_argument("--upstream", required=True, help="http://127.0.0.1:PORT of the cloud")
    parser.add_argument("--port", type=int, default=8701)
    args = parser.parse_args()
    with FaultProxy(args.upstream, port=args.port) as proxy:
        print(f"proxy on {proxy.url}; type a fault per line ({', '.join(sorted(FAULTS))}, 500, 503)")
        for line in sys.stdin:
            word = line.strip()
            if word.isdigit():
                proxy.plan(status(int(word), 5 if word == "503" else None))
            elif word:
                proxy.plan(word)


if __name__ == "__main__":  # pragma: no cover
    main()
