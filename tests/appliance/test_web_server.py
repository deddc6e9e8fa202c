"""A kiosk that closes takes its web server with it: the loop thread and every worker are gone when
close() returns, even with a page's long-poll request waiting, and reopening on the same port works."""
from __future__ import annotations

import json
import threading
import urllib.request

from appliance.runtime import Runtime

SERVER_THREADS = ("web", "waitress")


def server_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(SERVER_THREADS)}


def engine_session(url: str) -> str:
    """An Engine.IO polling handshake, as the page's first request makes it."""
    with urllib.request.urlopen(url + "socket.io/?EIO=4&transport=polling", timeout=5) as reply:
        body = reply.read().decode()
    return json.loads(body[1:])["sid"]


def test_closing_a_kiosk_joins_its_server_threads_even_with_a_long_poll_waiting(settings, secrets):
    before = server_threads()  # another test's leak is that test's failure, not this one's
    for _ in range(5):
        with Runtime(settings, secrets, port=0) as rt:
            url = rt.url
            with urllib.request.urlopen(url + "healthz", timeout=5) as reply:
                assert json.loads(reply.read())["status"] == "ok"
            sid = engine_session(url)
            answered = threading.Event()

            def long_poll() -> None:
                try:
                    urllib.request.urlopen(url + f"socket.io/?EIO=4&transport=polling&sid={sid}", timeout=30).read()
                except OSError:
                    pass  # the server went away mid-request: also an answer
                answered.set()

            poller = threading.Thread(target=long_poll, name="test-long-poll")
            poller.start()
        assert answered.wait(10), "the waiting long-poll request was not released by close()"
        poller.join(5)
        assert server_threads() - before == set()


def test_a_kiosk_can_reopen_on_the_port_it_just_closed(settings, secrets):
    with Runtime(settings, secrets, port=0) as rt:
        port = int(rt.url.rsplit(":", 1)[1].strip("/"))
    with Runtime(settings, secrets, port=port) as again:
        with urllib.request.urlopen(again.url + "healthz", timeout=5) as reply:
            assert reply.status == 200
