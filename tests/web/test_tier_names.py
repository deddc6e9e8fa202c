"""A tier the chain adds in the console ("diamond") is shown by the name the chain gave it in the screen's
language, in Debian chromium at 800x480 in Persian: the member's tier, the tier to reach next and a locked
reward's reason. A tier with no name in that language keeps the screen's word for the four standard tiers,
else its own name, never a message key."""
from __future__ import annotations

import json

from tests.conftest import save_screenshot
from tests.web.conftest import ALI, POS_TOKEN, SARA, open_shop, ready, seed
from tests.web.test_shop_screens import hang_up, nothing_scrolls

DIAMOND = {"fa": "الماس", "ar": "ماسي", "en": "Diamond"}
CONFIG = {
    "rules": {},
    "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
              {"name": "diamond", "min_points": 1000, "multiplier_percent": 150, "names": DIAMOND}],
    "rewards": [{"id": "coffee", "name": {"fa": "قهوه رایگان", "en": "Free coffee"}, "cost_points": 200},
                {"id": "lounge", "name": {"fa": "سالن ویژه", "en": "Lounge"}, "cost_points": 10,
                 "min_tier": "diamond"}],
    "campaigns": [],
}


def test_a_diamond_tier_is_shown_by_its_persian_name_on_the_7_inch_screen(tmp_path, browser):
    rt = open_shop(tmp_path / "tiers", language="fa")
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    try:
        shop = seed(rt)
        rt.service.apply_config(json.loads(json.dumps(CONFIG)))  # as the sync worker applies the cloud's
        ready(page, rt.url, "fa")
        shop.tap(SARA)  # her purchases put her in diamond
        page.locator("#stage .balance").wait_for()
        assert page.locator("#stage [data-field=tier_name]").inner_text() == "الماس"
        assert nothing_scrolls(page)
        save_screenshot(page, "tier-diamond-fa-800x480")

        ready(page, rt.url, "fa")
        shop.tap(ALI)  # no purchases: bronze, diamond next, and the lounge locked to diamond
        page.locator("#stage .balance").wait_for()
        assert page.locator("#stage [data-field=tier_name]").inner_text() == "برنزی"  # the screen's own word
        assert "الماس" in page.locator("#stage [data-field=to_next]").inner_text()
        page.locator("#stage .locked-rewards button[data-reward=lounge]").click()
        why = page.locator("#stage .why")
        why.wait_for()
        assert "الماس" in why.inner_text() and "tier_" not in why.inner_text()
    finally:
        hang_up(page)
        context.close()
        rt.close()


def test_a_tier_name_falls_back_to_the_screens_word_then_to_the_tiers_own_name(tmp_path, browser):
    rt = open_shop(tmp_path / "fallback", language="fa")
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    try:
        ready(page, rt.url, "fa")
        name = "(args) => window.Kiosk.tierName(args[0], args[1])"
        named = {"diamond": DIAMOND, "ruby": {"en": "Ruby"}, "gold": {"fa": "زرین"}}
        assert page.evaluate(name, ["diamond", named]) == "الماس"
        assert page.evaluate(name, ["gold", named]) == "زرین"  # the chain's name wins over the screen's word
        assert page.evaluate(name, ["gold", {}]) == "طلایی"
        assert page.evaluate(name, ["platinum", None]) == "پلاتینی"
        assert page.evaluate(name, ["ruby", named]) == "ruby"  # named only in English: its own name in fa
        assert page.evaluate(name, ["emerald", {}]) == "emerald"
        ready(page, rt.url, "en")
        assert page.evaluate(name, ["ruby", named]) == "Ruby"
        assert page.evaluate(name, ["diamond", {}]) == "diamond"
    finally:
        hang_up(page)
        context.close()
        rt.close()


def test_the_tills_quote_carries_the_members_tier_with_the_chains_names_for_it(counter):
    counter.service.apply_config(json.loads(json.dumps(CONFIG)))
    till = {"Authorization": f"Bearer {POS_TOKEN}"}
    quote = counter.client.post("/pos/v1/quotes", json={"bill_rial": 100_000, "member_id": counter.sara},
                                headers=till).get_json()
    assert (quote["tier"], quote["tier_names"]) == ("diamond", DIAMOND)
    bronze = counter.client.post("/pos/v1/quotes", json={"bill_rial": 100_000, "member_id": counter.ali},
                                 headers=till).get_json()
    assert (bronze["tier"], bronze["tier_names"]) == ("bronze", {})  # unnamed: the till words it itself
