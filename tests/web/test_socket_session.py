"""Nobody but the kiosk page's own session hears the screen's events.

An outsider speaks the public Socket.IO protocol with python-socketio's own client: without the token
the page got with its HTML, bound to that page's session, and from a same-origin page, it is refused and
hears nothing, not a shopper's name and not a staff token. The real page in Chromium still works.
"""
from __future__ import annotations

import re
from typing import Any

import pytest
import requests
import socketio

from tests.conftest import wait_until
from tests.web.conftest import SARA, STAFF_CARD, ready
from web.flows import flows
from web.screen import PAGE_NONCE, admits_socket

pytestmark = pytest.mark.browser

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def page_load(url: str) -> tuple[requests.Session, str, str]:
    """What a page load gives: the session cookie, the socket token and the CSRF token."""
    http = requests.Session()
    html = http.get(url).text
    socket_token = re.search(r'data-socket-token="([^"]+)"', html).group(1)
    csrf = re.search(r'data-csrf="([^"]+)"', html).group(1)
    return http, socket_token, csrf


class Outsider:
    """A Socket.IO client that records every event it is sent."""

    def __init__(self, http: requests.Session | None = None) -> None:
        self.heard: list[tuple[str, Any]] = []
        self.client = socketio.Client(reconnection=False, http_session=http)
        self.client.on("*", lambda event, data=None: self.heard.append((event, data)))

    def connect(self, url: str, **kwargs: Any) -> bool:
        try:
            self.client.connect(url, transports=["polling"], wait_timeout=5, **kwargs)
        except socketio.exceptions.ConnectionError:
            return False
        return True

    def close(self) -> None:
        self.client.disconnect()


def attempts(url: str) -> dict[str, tuple[requests.Session | None, dict[str, Any]]]:
    mine, token, _ = page_load(url)
    other, _, _ = page_load(url)
    return {
        "no session, no token, no Origin": (None, {}),
        "a session but a forged token": (mine, {"auth": {"token": "forged"}, "headers": SAME_ORIGIN}),
        "a token copied into another session": (other, {"auth": {"token": token}, "headers": SAME_ORIGIN}),
        "the right session and token from another origin": (
            mine, {"auth": {"token": token}, "headers": {"Origin": "http://evil.example"}}),
        "the right session and token but no browser page": (mine, {"auth": {"token": token}}),
    }


def test_a_socket_client_without_the_pages_own_session_is_refused_and_hears_nothing(shop, page):
    ready(page, shop.url, "en")
    outsiders = []
    for name, (http, kwargs) in attempts(shop.url).items():
        outsider = Outsider(http)
        assert not outsider.connect(shop.url, **kwargs), f"admitted: {name}"
        outsiders.append(outsider)
    shop.tap(SARA)
    page.locator("#stage .balance").wait_for()
    assert page.locator("[data-field=first_name]").inner_text() == "Sara"
    page.locator("[data-action=done]").first.click()
    for outsider in outsiders:
        assert outsider.heard == []
        outsider.close()


def test_the_pages_own_token_and_session_are_admitted(shop):
    http, token, _ = page_load(shop.url)
    insider = Outsider(http)
    assert insider.connect(shop.url, auth={"token": token}, headers=SAME_ORIGIN)
    insider.close()


def test_a_staff_card_sends_no_token_over_the_socket_and_the_page_fetches_it_once(shop, page):
    ready(page, shop.url, "en")
    page.evaluate("window.Kiosk.socket.on('staff_enter', function (d) { window.__staffEnter = d; })")
    shop.tap(STAFF_CARD)
    page.locator("#stage .status").wait_for()
    assert page.evaluate("window.__staffEnter") == {}
    wait_until(lambda: page.locator("[data-field=device_id]").inner_text() == "test-kiosk", what="staff status")
    # The tap's token went to the page that asked first; another session asking afterwards gets nothing.
    http, _, csrf = page_load(shop.url)
    late = http.post(shop.url + "staff/api/card", json={}, headers={"X-CSRFToken": csrf})
    assert late.status_code == 401 and late.json()["error"] == "no_staff_card"
    page.locator("[data-action=staff-leave]").click()


def test_from_the_network_only_the_till_api_answers(shop):
    client = shop.rt.app.test_client()
    remote = {"REMOTE_ADDR": "192.0.2.10"}
    for path in ("/", "/healthz"):
        refused = client.get(path, environ_base=remote)
        assert refused.status_code == 403 and refused.json["error"] == "local_only"
    assert client.post("/api/reset", json={}, environ_base=remote).status_code == 403
    assert client.post("/staff/api/card", json={}, environ_base=remote).status_code == 403
    till = client.get("/pos/v1/purchases/r-1", environ_base=remote)
    assert till.status_code == 401  # the till API itself, asking for its bearer token


@pytest.mark.parametrize(("address", "admitted"), [("127.0.0.1", True), ("192.0.2.10", False)])
def test_a_socket_is_admitted_only_from_the_kiosk_itself(shop, address, admitted):
    app = shop.rt.app
    with app.test_request_context("/socket.io/", environ_base={"REMOTE_ADDR": address}, headers=SAME_ORIGIN):
        from flask import session

        session[PAGE_NONCE] = "this-page"
        token = flows().tokens.seal("socket", "this-page")
        assert admits_socket({"token": token}) is admitted
