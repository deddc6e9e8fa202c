"""A shopper buys a draw entry and spins the wheel in Debian chromium at 800x480 in Persian (issue 14).

The kiosk holds what the cloud's engagement exchange would have sent (a draw with its seed hash, a game and a
grant of two prizes); the points are spent in the real ledger, the prize is a coupon of the catalogue, and the
idle timeout clears the game's screens like every other.
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from kiosk.clock import iso
from tests.conftest import save_screenshot, wait_until
from tests.web.conftest import SARA, open_shop, ready, seed
from tests.web.test_shop_screens import hang_up, nothing_scrolls, on_screen

SEED_HASH = hashlib.sha256(b"\x07" * 32).hexdigest()


def small_buttons(page) -> list[str]:
    return page.evaluate("""[...document.querySelectorAll('#stage button')].filter(b => b.offsetParent)
        .filter(b => { const r = b.getBoundingClientRect(); return r.height < 48 || r.width < 48; })
        .map(b => b.textContent.trim())""")


def test_a_shopper_buys_a_draw_entry_and_wins_at_the_wheel_in_persian_on_the_7_inch_screen(tmp_path, browser):
    rt = open_shop(tmp_path / "games", idle_timeout_s=11, language="fa")
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    try:
        shop = seed(rt)
        store, now = rt.store, rt.service.now()
        store.replace_engagement(
            draws=[{"draw_id": "spring", "name": "Spring", "names": {"fa": "قرعه‌کشی بهار"}, "prizes": ["دوچرخه"],
                    "price_points": 50, "starts_at": iso(now - timedelta(hours=1)),
                    "ends_at": iso(now + timedelta(hours=1)), "seed_hash": SEED_HASH, "seed": None}],
            games=[{"game_id": "spin", "name": "Spin", "names": {"fa": "گردونه"}, "cost_points": 20,
                    "odds": [{"reward_id": "coffee", "chance": 10_000}], "budget_id": "game:spin"}],
            wins=[], grants=[{"grant_id": "g1", "budget_id": "game:spin", "kind": "game_prizes", "units": 2,
                              "expires_at": iso(now + timedelta(hours=1))}])
        before = store.balance(shop.sara).points
        ready(page, rt.url, "fa")
        shop.tap(SARA)
        page.locator("#stage .balance").wait_for()
        assert page.locator(".badges [data-badge=first_purchase]").inner_text() == "اولین خرید"
        assert on_screen(page, "[data-action=engage]")
        page.locator("[data-action=engage]").click()
        page.locator("#stage .engage .draw").wait_for()
        assert "قرعه‌کشی بهار" in page.locator(".draw").inner_text()
        assert SEED_HASH[:16] in page.locator(".draw .commit").inner_text()  # the commitment, before the draw closes
        assert nothing_scrolls(page) and small_buttons(page) == []
        save_screenshot(page, "engage-fa-800x480")
        page.locator("[data-action=draw-buy]").click()
        page.locator("[data-action=draw-confirm]").click()
        page.locator("#stage[data-screen=t-draw-bought]").wait_for()
        assert page.locator("[data-field=total]").inner_text() == "۱"
        assert store.draw_entries_of(shop.sara) == {"spring": 1}
        assert store.balance(shop.sara).points == before - 50
        page.locator("[data-action=engage]").first.click()
        page.locator("[data-action=game-open]").click()
        page.locator("#stage[data-screen=t-game]").wait_for()
        assert nothing_scrolls(page) and small_buttons(page) == []
        page.locator("[data-action=game-spin]").click()
        page.locator("#stage[data-screen=t-game-result] h1.won").wait_for()
        code = page.locator(".coupon-code").inner_text()
        assert store.coupon(code)["member_id"] == shop.sara and store.coupon(code)["reward_id"] == "coffee"
        assert store.balance(shop.sara).points == before - 50 - 20
        assert store.grants()[0].used == 1
        assert nothing_scrolls(page) and small_buttons(page) == []
        save_screenshot(page, "game-won-fa-800x480")
        assert store.verify() == []
        # Walking away: the idle timeout takes the coupon off the screen like every other screen.
        page.locator("#attract.active").wait_for(timeout=15_000)
        assert page.locator("#stage").inner_html() == ""
        wait_until(lambda: rt.store.outbox_depth() >= 1, what="the entry to wait in the outbox for the cloud")
        kinds = {r[0] for r in store.query("SELECT json_extract(payload, '$.kind') FROM outbox")}
        assert "draw_entry" in kinds
    finally:
        hang_up(page)
        context.close()
        rt.close()
