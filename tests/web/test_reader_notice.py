"""A card reader that is unplugged tells the shopper so, calmly, and what still works; replugged, the notice goes.

Real serial bytes over a pty: the emulator's pty is closed (unplugged) and reopened (replugged) under the real
RDM6300 driver, whose status travels through the service's ui events and the page's own Socket.IO session.
"""
from __future__ import annotations

import urllib.request
from contextlib import closing

import pytest

from drivers import rdm6300
from drivers.events import ReaderState
from drivers.misreads import GARBAGE_ERROR_AFTER
from tests.conftest import save_screenshot, wait_until
from tests.web.conftest import SARA, open_shop, ready, seed

pytestmark = pytest.mark.browser

NOTICE = {"fa": "کارت‌خوان کار نمی‌کند", "ar": "قارئ البطاقات لا يعمل", "en": "The card reader is not working"}
TAP_AGAIN = {"fa": "کارت خوانده نشد", "ar": "لم تُقرأ البطاقة", "en": "The card was not read"}
# A real RDM6300 frame of SARA's card with its checksum byte changed: the shape of a misread.
GARBLED = b"\x02" + SARA.encode() + b"00\x03"
assert GARBLED != rdm6300.encode_frame(SARA) and len(GARBLED) == rdm6300.FRAME_LEN
DIGITAL = {"fa": "کارت دیجیتال", "ar": "ببطاقة رقمية", "en": "digital card"}


def reader_state(rt) -> ReaderState:
    return rt.service.reader_status["counter"].state


def test_unplugging_the_reader_shows_the_notice_with_what_still_works_and_replugging_takes_it_away(tmp_path, page):
    with closing(open_shop(tmp_path / "k")) as rt:
        shop = seed(rt)
        page.set_viewport_size({"width": 800, "height": 480})
        ready(page, rt.url, "fa")
        notice = page.locator("#reader-down")
        assert notice.is_hidden()

        rt.emulators["counter"].unplug()
        wait_until(lambda: reader_state(rt) is ReaderState.DISCONNECTED, what="the driver to see the unplug")
        notice.wait_for(state="visible", timeout=10_000)
        text = notice.inner_text()
        assert NOTICE["fa"] in text and DIGITAL["fa"] in text and "ask staff" not in text
        # The notice does not take the screen: the attract loop, its join and receipt buttons stay on screen.
        assert page.locator("#attract.active [data-action=receipt]").is_visible()
        assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
        save_screenshot(page, "reader-down-fa-800x480")
        # What still works stays usable beside the banner: the sign-up's phone keypad fits without scrolling.
        page.click("#attract [data-action=join]")
        page.locator("#stage.active[data-screen=t-phone]").wait_for()
        assert notice.is_visible()
        assert page.evaluate("(() => { const s = document.getElementById('stage');"
                             " return s.scrollHeight <= s.clientHeight + 1; })()")
        save_screenshot(page, "reader-down-join-fa-800x480")
        page.click("#stage [data-action=done]")

        rt.emulators["counter"].replug()
        # The reader's retries are 5 s apart by now (its backoff's cap), so 15 s leaves room for a slow reopen.
        wait_until(lambda: reader_state(rt) is ReaderState.CONNECTED, timeout_s=15, what="the driver to reopen the pty")
        notice.wait_for(state="hidden", timeout=10_000)
        # Truly back: a tap on the replugged reader paints the balance.
        shop.tap(SARA)
        page.locator("#stage.active .balance").wait_for(timeout=10_000)


def test_a_page_loaded_while_the_reader_is_unplugged_shows_the_notice_at_once_in_arabic(tmp_path, page):
    with closing(open_shop(tmp_path / "k")) as rt:
        seed(rt)
        rt.emulators["counter"].unplug()
        wait_until(lambda: reader_state(rt) is ReaderState.DISCONNECTED, what="the driver to see the unplug")
        page.set_viewport_size({"width": 1920, "height": 1080})
        ready(page, rt.url, "ar")
        notice = page.locator("#reader-down")
        notice.wait_for(state="visible", timeout=10_000)
        assert NOTICE["ar"] in notice.inner_text()
        assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
        save_screenshot(page, "reader-down-ar-1920x1080")


def test_with_digital_cards_off_the_notice_offers_only_the_receipt_by_phone(tmp_path):
    with closing(open_shop(tmp_path / "k", language="en", extra="[cards]\ndigital_cards = false\n")) as rt:
        with urllib.request.urlopen(rt.url + "?lang=en", timeout=10) as reply:
            html = reply.read().decode()
    start = html.index('id="reader-down"')
    notice = html[start:html.index("</div>", start)]
    assert NOTICE["en"] in notice and "mobile number" in notice and DIGITAL["en"] not in notice


def test_one_garbled_frame_then_a_good_one_asks_to_tap_again_then_paints_the_balance_without_the_banner(tmp_path, page):
    with closing(open_shop(tmp_path / "k")) as rt:
        shop = seed(rt)
        page.set_viewport_size({"width": 800, "height": 480})
        ready(page, rt.url, "fa")
        page.evaluate("""() => { window.__banner = false; const b = document.getElementById('reader-down');
          new MutationObserver(() => { if (!b.hidden) window.__banner = true; }).observe(b, {attributes: true}); }""")
        rt.emulators["counter"].write(GARBLED)
        hint = page.locator("#tap-again")
        hint.wait_for(state="visible", timeout=10_000)
        assert TAP_AGAIN["fa"] in hint.inner_text()
        assert page.evaluate("document.scrollingElement.scrollHeight <= window.innerHeight")
        save_screenshot(page, "tap-again-fa-800x480")
        assert reader_state(rt) is ReaderState.CONNECTED
        shop.tap(SARA)
        page.locator("#stage.active .balance").wait_for(timeout=10_000)
        hint.wait_for(state="hidden", timeout=10_000)
        assert page.locator("#reader-down").is_hidden() and page.evaluate("window.__banner") is False
        assert reader_state(rt) is ReaderState.CONNECTED


def test_a_run_of_garbage_past_the_threshold_shows_the_banner_and_a_good_read_takes_it_away(tmp_path, page):
    with closing(open_shop(tmp_path / "k", language="en")) as rt:
        shop = seed(rt)
        ready(page, rt.url, "en")
        rt.emulators["counter"].write(GARBLED * GARBAGE_ERROR_AFTER)
        wait_until(lambda: reader_state(rt) is ReaderState.ERROR, what="the driver to call the reader failed")
        notice = page.locator("#reader-down")
        notice.wait_for(state="visible", timeout=10_000)
        assert NOTICE["en"] in notice.inner_text()
        shop.tap(SARA)
        page.locator("#stage.active .balance").wait_for(timeout=10_000)
        notice.wait_for(state="hidden", timeout=10_000)
