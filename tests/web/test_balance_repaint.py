"""The balance a tap painted is painted again when that tap's reconcile changed the member (kiosk.flows.on_screen),
in Debian chromium at 800x480: the chain's credit shows on the same screen, a profile in another language moves
the page into it the way a tap does, and a repaint never takes a screen the member already left."""
from __future__ import annotations

from datetime import timedelta

import pytest

from kiosk.chain_card import ChainProfile
from kiosk.store.profiles import take_chain_profile
from kiosk.ui_events import REFRESH, UiEvent
from tests.conftest import save_screenshot, wait_until
from tests.web.conftest import SARA, open_shop, ready, seed
from tests.web.test_shop_screens import nothing_scrolls

pytestmark = pytest.mark.browser

COUNT_MEMBER_EVENTS = "window.__members = 0; window.Kiosk.socket.on('member', function () { window.__members += 1; })"


def test_what_the_reconcile_learns_repaints_the_balance_on_screen_and_nothing_once_it_is_gone(tmp_path, browser):
    rt = open_shop(tmp_path / "repaint", language="en")
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    try:
        shop = seed(rt)
        on_screen = rt.flows.on_screen
        ready(page, rt.url, "en")
        shop.tap(SARA)
        page.locator("#stage .balance").wait_for()
        assert page.locator("#stage .wallet").is_hidden()  # no purchase credit here yet
        wait_until(lambda: on_screen.showing(shop.sara), what="her balance counted as shown")

        # What the reconcile does when the chain holds credit she earned elsewhere; then it tells the core.
        rt.store.correct_credit(shop.sara, 25_000, "cloud_correction: chain credit 25000")
        assert on_screen.reconciled(shop.sara) is True
        page.locator("#stage .wallet [data-field=wallet_rial]:text-is('25,000')").wait_for()
        assert page.locator("#stage").get_attribute("data-screen") == "t-balance"
        assert page.locator("#stage [data-field=first_name]").inner_text() == "Sara"
        assert nothing_scrolls(page)
        save_screenshot(page, "balance-repainted-en-800x480")

        # Another branch's profile edit in Arabic: the page moves into her language, as at a tap.
        later = rt.service.now() + timedelta(minutes=1)
        assert take_chain_profile(rt.store, ChainProfile(shop.sara, "Sara", "Ahmadi", None, "ar", later))
        assert on_screen.reconciled(shop.sara) is True
        page.locator("html[lang=ar][dir=rtl]").wait_for(state="attached")
        page.locator("#stage .balance").wait_for()
        assert "Sara" in page.locator("#stage").inner_text()

        page.locator("#stage [data-action=done]").click()  # back to the shop's language and its attract loop
        page.locator("html[lang=en]").wait_for(state="attached")
        page.locator("#attract").wait_for()
        wait_until(lambda: on_screen.showing(shop.sara) is None, what="the page's reset to reach the server")
        rt.store.correct_credit(shop.sara, 5_000, "cloud_correction: chain credit 30000")
        assert on_screen.reconciled(shop.sara) is False  # nobody's balance is shown: nothing is sent

        # And should a repaint arrive late all the same, the page does not let it take the screen.
        ready(page, rt.url, "en")
        page.evaluate(COUNT_MEMBER_EVENTS)
        rt.service.emit(UiEvent.MEMBER, {**rt.service.summary(shop.sara), "card_label": "…0001", REFRESH: True})
        wait_until(lambda: page.evaluate("window.__members") == 1, what="the late repaint to arrive")
        assert page.locator("#stage").get_attribute("data-screen") is None
        assert page.locator("#attract").is_visible()
        assert rt.store.verify() == []
    finally:
        context.close()
        rt.close()
