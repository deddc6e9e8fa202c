"""What a tap's reconcile learns shows on that tap's screen, end to end: a real cloud on loopback (both engines),
two kiosks, and branch B's kiosk page served on a loopback port, heard by a Socket.IO client holding the page's
own session and token, as the page's browser does.

The reconcile runs on the sync worker after the balance was painted; when it changed the member here (the chain's
credit, another branch's profile edit), the balance still on screen is sent again, read afresh, marked
``refresh``. Nothing is sent when nothing changed, nor for a member no longer on screen."""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
import socketio

from appliance.web_server import WebServer
from drivers.events import CardRead
from kiosk import protocol
from tests.conftest import kioskctl, wait_until
from web import create_app

from .test_wallet_across_branches import CONFIG, UID, Branch, branches, sara_at  # noqa: F401 (a fixture)

SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


class Page:
    """B's kiosk page as its browser holds it: the session cookie and socket token of one page load."""

    def __init__(self, kiosk: Branch) -> None:
        app, sio = create_app(kiosk.flows, kiosk.service.settings)
        self.server = WebServer(app, sio, host="127.0.0.1", port=0).start()
        self.url = f"http://127.0.0.1:{self.server.port}/"
        self.http = requests.Session()
        html = self.http.get(self.url).text
        self.csrf = re.search(r'data-csrf="([^"]+)"', html).group(1)
        self.heard: list[dict[str, Any]] = []
        self.client = socketio.Client(reconnection=False, http_session=self.http)
        self.client.on("member", self.heard.append)
        self.client.connect(self.url, transports=["polling"], wait_timeout=5, headers=SAME_ORIGIN,
                            auth={"token": re.search(r'data-socket-token="([^"]+)"', html).group(1)})

    def members(self, n: int) -> list[dict[str, Any]]:
        """The first ``n`` member payloads this page received (waits for them)."""
        wait_until(lambda: len(self.heard) >= n, what=f"{n} member events on the page")
        return self.heard[:n]

    def close(self) -> None:
        self.client.disconnect()
        self.http.close()
        self.server.close()


@pytest.fixture
def page_of() -> Iterator[Any]:
    opened: list[Page] = []

    def open_page(kiosk: Branch) -> Page:
        kiosk.worker.after_reconcile.append(kiosk.flows.on_screen.reconciled)  # as appliance/runtime.py wires it
        opened.append(Page(kiosk))
        return opened[-1]

    yield open_page
    for page in opened:
        page.close()


def refreshes(kiosk: Branch) -> list[dict[str, Any]]:
    return [p for n, p in kiosk.seen if n == "member" and p.get("refresh")]


def credit_spent_at_a(a: Branch, b: Branch) -> str:
    """Sara earned 30,000 rial at A and B imported her with it; then A spends 20,000 of it."""
    sara = sara_at(a)
    a.sync()
    b.tap()
    b.sync()
    a.tap()
    a.pay(20_000, "A-1", member_id=sara, use_points=False)
    a.sync()
    return sara


def test_credit_spent_at_branch_a_shows_on_b_first_as_held_then_as_the_chains_figure_without_another_tap(
        cloud, branches, page_of):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = credit_spent_at_a(a, b)
    page = page_of(b)
    assert b.store.balance(sara).credit_rial == 30_000  # B has not heard of the spend yet

    b.tap()
    first, = page.members(1)  # wallet_rial: the purchase credit (credit_rial is what the points are worth)
    assert (first["wallet_rial"], first.get("refresh")) == (30_000, None)
    b.sync()  # the tap's reconcile brings the chain's figure ...
    _, repainted = page.members(2)  # ... and the same screen shows it
    assert (repainted["wallet_rial"], repainted["refresh"]) == (10_000, True)
    assert repainted["card_label"] == first["card_label"] and repainted["first_name"] == "Sara"
    assert "draw_wins" not in repainted and "member_id" not in repainted  # sealed in the session token only

    b.sync()  # nothing new
    b.tap()
    b.sync()  # a reconcile that changes nothing sends nothing
    assert [p["wallet_rial"] for p in page.members(3)] == [30_000, 10_000, 10_000]
    assert len(page.heard) == 3 and refreshes(b) == []  # b.seen holds what came since the last tap
    assert a.store.verify() == [] and b.store.verify() == []


def test_nothing_is_repainted_for_a_member_who_is_no_longer_on_screen(cloud, branches, page_of):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = credit_spent_at_a(a, b)
    page = page_of(b)

    b.tap()
    b.service.handle(CardRead("FFEE0011", "rfid125", "counter"))  # an unknown card took the screen meanwhile
    b.sync()
    assert b.store.balance(sara).credit_rial == 10_000  # the reconcile did correct her ...
    assert refreshes(b) == []  # ... and painted nothing over the other screen

    a.pay(5_000, "A-2", member_id=sara, use_points=False)
    a.sync()
    b.tap()
    cloud.clock.advance(timedelta(seconds=b.service.settings.web.idle_timeout_s))  # the screen went idle
    b.sync()
    assert b.store.balance(sara).credit_rial == 5_000 and refreshes(b) == []

    a.pay(5_000, "A-3", member_id=sara, use_points=False)
    a.sync()
    b.tap()
    done = page.http.post(page.url + "api/reset", json={}, headers={"X-CSRFToken": page.csrf})  # the page cleared
    assert done.status_code == 200
    b.sync()
    assert b.store.balance(sara).credit_rial == 0 and refreshes(b) == []
    assert [p.get("refresh") for p in page.members(3)] == [None, None, None] and len(page.heard) == 3
    assert a.store.verify() == [] and b.store.verify() == []


def test_a_profile_edited_at_branch_a_repaints_bs_screen_in_the_members_new_language(cloud, branches, page_of):
    a, b = branches("kiosk-a", "tehran-01"), branches("kiosk-b", "shiraz-02")
    sara = sara_at(a)
    a.sync()
    b.tap()
    b.sync()
    cloud.clock.advance(timedelta(minutes=5))
    a.flows.enrollment.complete_profile(sara, "Ahmadi", "1995-03-21", language="ar")
    a.sync()
    page = page_of(b)

    b.tap()
    b.sync()
    first, repainted = page.members(2)
    assert (first["profile_complete"], first["language"]) == (False, "en")
    # The page moves into Arabic the way a tap does (web/static/member_language.js reads `language`).
    assert (repainted["refresh"], repainted["profile_complete"], repainted["language"]) == (True, True, "ar")
    assert a.store.verify() == [] and b.store.verify() == []


def test_a_running_kiosk_repaints_the_tap_with_the_profile_its_own_reconcile_took(cloud, tmp_path):
    """appliance/runtime.py's wiring: the sync thread's reconcile after a tap reaches the screen by itself."""
    rt, config = cloud.start_kiosk(tmp_path / "kiosk", {"chain_secret": "cd" * 32}, config=CONFIG)
    try:
        seen: list[dict[str, Any]] = []
        rt.service.subscribe(lambda n, p: seen.append(p) if n == "member" else None)
        sara = rt.service.enroll("+989121234567", "Sara", consent=True, language="en")
        rt.service.bind(sara.id, "rfid125", UID)
        wait_until(lambda: rt.store.outbox_depth() == 0, timeout_s=15, what="her enrolment to reach the cloud")
        edit = protocol.make_event("member_updated", sara.id, cloud.clock() + timedelta(minutes=1),
                                   name="Sara Karimi", birthday="1995-03-21", language="fa")
        with cloud.registered_client("shiraz-02") as elsewhere:  # edited at another branch
            assert elsewhere.send_batch([protocol.canonical_json(edit)]).delivered_ids() == [edit["event_id"]]

        rt.service.put(CardRead(UID, "rfid125", "counter"))
        wait_until(lambda: len(seen) == 2, timeout_s=15, what="the tap and its repaint")
        assert [(p.get("refresh"), p["language"]) for p in seen] == [(None, "en"), (True, "fa")]
        assert rt.store.member(sara.id).last_name == "Karimi"
    finally:
        rt.close()
    assert kioskctl(config, "verify").returncode == 0
