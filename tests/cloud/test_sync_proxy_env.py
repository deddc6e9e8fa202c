"""The kiosk's cloud client reads the environment's proxy settings once, when it is made, and still obeys them."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import pytest

from kiosk.sync.client import CloudClient

KEY = "ab" * 32


class OneAnswerServer:
    """A loopback HTTP server (port 0) that records the request lines it gets and answers each 404 unknown_member,
    as the cloud does for a card it does not know."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.05)  # accept() wakes to see close() (closing alone does not wake it)
        self.closed = threading.Event()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.lines: list[str] = []
        self.heads: list[str] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(5)
            with conn:
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    head += chunk
                self.lines.append(head.split(b"\r\n", 1)[0].decode())
                self.heads.append(head.decode())
                body = json.dumps({"error": "unknown_member", "message": "no such card"}).encode()
                conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nConnection: close\r\n"
                             b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self) -> None:
        self.closed.set()
        self.thread.join(timeout=5)
        self.sock.close()


@pytest.fixture
def servers() -> Iterator[tuple[OneAnswerServer, OneAnswerServer]]:
    cloud, proxy = OneAnswerServer(), OneAnswerServer()
    yield cloud, proxy
    cloud.close()
    proxy.close()


def test_a_proxy_in_the_environment_carries_the_kiosks_requests(servers, monkeypatch):
    cloud, proxy = servers
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with CloudClient(cloud.url, device_id="d-1", device_key=KEY) as client:
        monkeypatch.delenv("http_proxy")  # read when the client was made, not at each call
        assert client.lookup(card_ref="cd" * 32) is None
        assert client.clone().lookup(card_ref="cd" * 32) is None
    assert cloud.lines == []  # the clone too, made after the variable went, goes through the client's proxy
    assert proxy.lines == [f"GET {cloud.url}/v1/members/lookup?card_ref={'cd' * 32} HTTP/1.1"] * 2


def test_no_proxy_for_the_clouds_host_sends_it_straight_to_the_cloud(servers, monkeypatch):
    cloud, proxy = servers
    monkeypatch.setenv("http_proxy", proxy.url)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    with CloudClient(cloud.url, device_id="d-1", device_key=KEY) as client:
        assert client.lookup(card_ref="cd" * 32) is None
    assert len(cloud.lines) == 1 and proxy.lines == []


def test_a_proxy_login_in_its_url_is_sent_to_the_proxy_and_never_to_the_cloud(servers, monkeypatch):
    cloud, proxy = servers
    monkeypatch.setenv("http_proxy", proxy.url.replace("http://", "http://shop:s%40cret@"))
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    with CloudClient(cloud.url, device_id="d-1", device_key=KEY) as client:
        assert client.lookup(card_ref="cd" * 32) is None
    # Basic auth of "shop:s@cret": the URL's percent-escape undone, as requests does.
    fields = dict(line.split(": ", 1) for line in proxy.heads[0].split("\r\n")[1:] if line)
    assert {name.lower(): value for name, value in fields.items()}.get("proxy-authorization") == \
        "Basic c2hvcDpzQGNyZXQ="
    assert cloud.lines == [] and proxy.lines == [f"GET {cloud.url}/v1/members/lookup?card_ref={'cd' * 32} HTTP/1.1"]
