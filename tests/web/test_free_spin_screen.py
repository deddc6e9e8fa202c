"""A spin earned by a purchase, in Debian chromium at 800x480 in Persian (issue 14): a till purchase over the
game's earn_over_rial makes "Free spins from your purchases" appear, the spin it gives costs no points, and
once used the button is gone while the paid spin stays."""
from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

from kiosk.clock import iso
from tests.conftest import save_screenshot
from tests.web.conftest import POS_TOKEN, SARA, open_shop, ready, seed
from tests.web.test_engagement_screens import small_buttons
from tests.web.test_shop_screens import hang_up, nothing_scrolls

EARN_OVER = 5_000_000


def till_purchase(rt, receipt_id: str, amount_rial: int) -> dict:
    request = urllib.request.Request(rt.url.rstrip("/") + "/pos/v1/purchases", method="POST",
                                     data=json.dumps({"receipt_id": receipt_id, "amount_rial": amount_rial}).encode(),
                                     headers={"Content-Type": "application/json",
                                              "Authorization": f"Bearer {POS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_a_purchase_over_the_games_amount_gives_a_free_spin_on_screen_that_costs_nothing_and_is_then_gone(
        tmp_path, browser):
    rt = open_shop(tmp_path / "free-spin", language="fa")
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    try:
        shop = seed(rt)
        store, now = rt.store, rt.service.now()
        # The game starts after the seeded purchases: only the till's purchase below earns a spin.
        store.replace_engagement(
            draws=[], wins=[],
            games=[{"game_id": "spin", "name": "Spin", "names": {"fa": "گردونه"}, "cost_points": 20,
                    "odds": [{"reward_id": "coffee", "chance": 10_000}], "budget_id": "game:spin",
                    "earn_over_rial": EARN_OVER, "since": iso(now)}],
            grants=[{"grant_id": "g1", "budget_id": "game:spin", "kind": "game_prizes", "units": 3,
                     "expires_at": iso(now + timedelta(hours=1))}])
        ready(page, rt.url, "fa")
        till_purchase(rt, "FREE-1", EARN_OVER + 1_000_000)
        page.locator("#stage h1").first.wait_for()
        shop.tap(SARA)  # the tap that earns the purchase
        page.locator("#stage .balance").wait_for()
        page.locator("[data-action=engage]").click()
        free = page.locator("#stage [data-action=game-open-free]")
        free.wait_for()
        assert free.is_visible() and free.locator("[data-field=free_plays]").inner_text() == "۱"
        assert nothing_scrolls(page) and small_buttons(page) == []
        save_screenshot(page, "game-free-spin-fa-800x480")
        before = store.balance(shop.sara).points
        free.click()
        page.locator("#stage[data-screen=t-game]").wait_for()
        assert page.locator("#stage .earned").is_visible() and not page.locator("#stage .paid").is_visible()
        page.locator("[data-action=game-spin]").click()
        page.locator("#stage[data-screen=t-game-result] h1.won").wait_for()
        assert store.balance(shop.sara).points == before  # the spin was free
        assert page.locator("#stage [data-field=balance]").inner_text() == page.evaluate(
            "(n) => new Intl.NumberFormat(window.Kiosk.locale).format(n)", before)
        assert store.coupon(page.locator(".coupon-code").inner_text())["member_id"] == shop.sara
        page.locator("#stage [data-action=engage]").first.click()  # back to the games
        page.locator("#stage [data-action=game-open]").wait_for()
        assert not page.locator("#stage [data-action=game-open-free]").is_visible()  # used: gone
        assert page.locator("#stage [data-action=game-open]").is_visible()  # the paid spin stays
        assert store.verify() == []
    finally:
        hang_up(page)
        context.close()
        rt.close()
