"""Staff mode (PIN, lockout across a restart, card swap, adjustments), the POS API, and the idle clear."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tests.conftest import save_screenshot, wait_until
from tests.web.conftest import ALI, POS_TOKEN, SARA, STAFF_CARD, STAFF_PIN, open_shop, ready, seed, tap_unique
from tests.web.test_shopper_flows import type_on_keyboard, type_on_keypad

pytestmark = pytest.mark.browser


def pos(shop, method: str, path: str, body: dict | None = None, token: str | None = POS_TOKEN):
    request = urllib.request.Request(shop.url.rstrip("/") + "/pos/v1" + path, method=method,
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_a_till_purchase_is_earned_by_the_next_tap_and_the_same_receipt_posted_twice_earns_once(shop, page):
    ready(page, shop.url, "en")
    before = shop.rt.store.balance(shop.ali).points
    status, body = pos(shop, "POST", "/purchases", {"receipt_id": "POS-77", "amount_rial": 5_000_000})
    assert (status, body["state"]) == (201, "pending")
    page.locator("#stage h1", has_text="Tap your card to earn points").wait_for()
    assert page.locator("#stage [data-field=points]").inner_text() == "500"
    save_screenshot(page, "flow-pos-pending-en")
    assert pos(shop, "POST", "/purchases", {"receipt_id": "POS-77", "amount_rial": 5_000_000})[0] == 200
    tap_unique(shop, page)  # not a member card: the purchase keeps waiting
    page.locator("#stage .error", has_text="not in the club").wait_for()
    shop.tap(ALI)
    page.locator("#stage .earned-now").wait_for()
    status, body = pos(shop, "GET", "/purchases/POS-77")
    assert body["state"] == "earned" and body["points"] == 500 and body["balance"] == before + 500
    status, body = pos(shop, "POST", "/purchases", {"receipt_id": "POS-77", "amount_rial": 5_000_000})
    assert (status, body["state"]) == (200, "earned")
    assert shop.rt.store.balance(shop.ali).points == before + 500
    assert sum(1 for r in shop.rt.store.history(shop.ali) if r.receipt_id == "POS-77") == 1
    assert pos(shop, "POST", "/purchases", {"receipt_id": "POS-77", "amount_rial": 9})[0] == 409


def test_a_staff_card_opens_staff_mode_with_the_device_status(shop, page):
    ready(page, shop.url, "en")
    shop.tap(STAFF_CARD)
    status = page.locator("#stage .status")
    status.wait_for()
    wait_until(lambda: page.locator("[data-field=device_id]").inner_text() == "test-kiosk", what="status")
    assert page.locator("[data-field=branch]").inner_text() == "test-branch"
    assert "counter: connected" in page.locator("[data-field=readers]").inner_text()
    page.locator("[data-action=staff-leave]").click()
    page.wait_for_url(shop.url)


def sign_in(page, pin: str) -> None:
    page.locator("[data-action=staff]").click()
    type_on_keypad(page, pin)
    page.locator("[data-action=pin-ok]").click()


def test_staff_blocks_a_lost_card_moves_the_member_to_a_new_one_and_adjusts_points_with_a_reason(shop, page):
    ready(page, shop.url, "en")
    sign_in(page, STAFF_PIN)
    page.locator("#stage .status").wait_for()
    page.locator("[data-action=staff-search]").click()
    type_on_keypad(page, "09121234567")  # Sara
    page.locator("[data-action=staff-find]").click()
    page.locator("#stage[data-screen=t-staff-member]").wait_for()
    old = shop.rt.service.card_ref_for("rfid125", SARA)
    page.locator("[data-action=staff-block]").first.click()
    page.locator("#stage h1", has_text="Block this card?").wait_for()  # nothing blocked before the confirmation
    assert shop.rt.store.card(old).state == "active"
    page.locator("[data-action=staff-block-confirm]").click()
    page.locator("#stage h1", has_text="Tap the member's new card").wait_for()
    assert shop.rt.store.card(old).state == "lost"
    new_uid = tap_unique(shop, page)
    page.locator("#stage .ok", has_text="now belongs").wait_for()
    assert shop.rt.store.card(shop.rt.service.card_ref_for("rfid125", new_uid)).member_id == shop.sara
    # The card list is painted again from the store: the old card now says lost, the new one is listed.
    states = page.locator("#stage .cards li .card-state").all_inner_texts()
    assert "lost, blocked" in states and len(states) == len(shop.rt.store.cards_of(shop.sara))
    before = shop.rt.store.balance(shop.sara).points
    page.locator("[data-action=staff-adjust-open]").click()
    type_on_keyboard(page, "-25")
    page.locator("[data-input=adjust_reason]").click()
    type_on_keyboard(page, "Damaged cup")
    page.locator("[data-action=staff-adjust]").click()
    page.locator("#stage .ok", has_text="New balance").wait_for()
    row = shop.rt.store.history(shop.sara, limit=1)[0]
    assert (row.kind, row.points, row.reason, row.staff_id) == ("adjust", -25, "Damaged cup", "pin")
    assert shop.rt.store.balance(shop.sara).points == before - 25
    save_screenshot(page, "flow-staff-en")
    shop.rt.store.set_card_state(old, "active", staff_id="test")  # leave the shop as the other tests expect it


def test_five_wrong_pins_lock_staff_mode_and_the_lock_holds_after_a_restart(tmp_path, page):
    rt = open_shop(tmp_path / "k", language="en")
    try:
        seed(rt)
        ready(page, rt.url, "en")
        for attempt in range(5):
            if attempt:
                page.locator("[data-action=done]").click()
            sign_in(page, "0000")
            page.locator("#stage .error", has_text="PIN").wait_for()
        assert "locked" in page.locator("#stage .error").inner_text()
    finally:
        rt.close()
    rt = open_shop(tmp_path / "k", language="en")  # a new process over the same data dir
    try:
        ready(page, rt.url, "en")
        sign_in(page, STAFF_PIN)  # even the right PIN waits out the lock
        page.locator("#stage .error", has_text="locked").wait_for()
        assert page.locator("#stage .status").count() == 0
    finally:
        rt.close()


def test_after_the_idle_timeout_nothing_of_the_shopper_is_left_in_dom_history_or_storage(tmp_path, page):
    rt = open_shop(tmp_path / "idle", idle_timeout_s=3, language="en")
    try:
        shop = seed(rt)
        ready(page, rt.url, "en")
        entries = page.evaluate("history.length")  # about:blank + the kiosk page
        shop.tap(SARA)
        page.locator("#stage .balance").wait_for()
        assert "Sara" in page.content()
        page.locator("#attract.active").wait_for(timeout=6000)
        html = page.content()
        assert "Sara" not in html and "Ahmadi" not in html and "session" not in page.locator("#stage").inner_html()
        assert page.evaluate("history.length") == entries  # the shopper's screens never became history entries
        assert page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert page.evaluate("document.cookie") == ""  # the session cookie is HttpOnly and holds only the CSRF token
    finally:
        rt.close()


def test_staff_actions_need_both_the_csrf_token_and_a_staff_token(shop, page):
    ready(page, shop.url, "en")
    call = """([token, staff]) => fetch('/staff/api/adjust', {method: 'POST', headers: Object.assign(
        {'Content-Type': 'application/json'}, token ? {'X-CSRFToken': document.getElementById('app').dataset.csrf} : {},
        staff ? {'X-Staff-Token': staff} : {}), body: JSON.stringify({member_id: 'x', points: 5, reason: 'because'})})
        .then(r => r.status)"""
    assert page.evaluate(call, [False, None]) == 400  # no CSRF token
    assert page.evaluate(call, [True, None]) == 401  # no staff sign-in
    assert page.evaluate(call, [True, "forged.token.value"]) == 401
