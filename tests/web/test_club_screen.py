"""What the shopper sees of the club on the balance screen (real browser): the campaigns running and what one
added to a purchase, the cashback credit, the next expiry date, the coupons held until used and the referral
code with its QR; and a profile completed later from the balance screen's session pays its bonus once."""
from __future__ import annotations

import json
import urllib.request

import pytest

from kiosk.flows import coupons
from tests.conftest import save_screenshot
from tests.web.conftest import ALI, POS_TOKEN, SARA, open_shop, ready, seed

pytestmark = pytest.mark.browser

CONFIG = {
    "rules": {"cashback_basis_points": 100},
    "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100},
              {"name": "silver", "min_points": 1000, "multiplier_percent": 110}],
    "rewards": [{"id": "coffee", "name": {"fa": "قهوه رایگان", "ar": "قهوة مجانية", "en": "Free coffee"},
                 "cost_points": 200}],
    "campaigns": [{"id": "double", "name": {"fa": "امتیاز دوبرابر", "ar": "نقاط مضاعفة", "en": "Double points"},
                   "starts_on": "2020-01-01", "ends_on": "2099-12-31", "earn_multiplier_percent": 200}],
}


@pytest.fixture
def club_shop(tmp_path):
    rt = open_shop(tmp_path / "shop")
    try:
        shop = seed(rt)
        rt.service.apply_config(json.loads(json.dumps(CONFIG)))  # what the sync worker does with the cloud's config
        yield shop
        assert rt.store.verify() == []
    finally:
        rt.close()


def till(shop, path: str, body: dict) -> dict:
    request = urllib.request.Request(shop.url.rstrip("/") + "/pos/v1" + path, method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Authorization": f"Bearer {POS_TOKEN}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def test_the_balance_screen_shows_campaigns_credit_expiry_coupons_and_the_referral_code(club_shop, page):
    shop = club_shop
    coupon = coupons.redeem(shop.rt.service, shop.sara, "coffee")
    ready(page, shop.url, "en")
    till(shop, "/purchases", {"receipt_id": "CLUB-1", "amount_rial": 1_000_000})
    page.locator("#stage h1", has_text="Tap your card to earn points").wait_for()
    shop.tap(SARA)
    page.locator("#stage .campaigns-applied li", has_text="Double points: +110").wait_for()  # silver: 110 doubled
    text = page.locator("#stage").inner_text()
    assert "Running for you now: Double points" in text
    assert "Cashback credit: 10,000 rial" in text
    assert "points expire on" in text
    assert coupon.code in page.locator("#stage .coupons-held").inner_text()
    assert "Free coffee" in page.locator("#stage .coupons-held").inner_text()
    referral = shop.rt.store.member(shop.sara).referral_code
    assert page.locator("#stage [data-field=referral_code]").inner_text() == referral
    assert page.locator("#stage img.referral-qr").get_attribute("src").startswith("data:image/svg+xml")
    save_screenshot(page, "flow-club-balance-en")


def test_in_persian_the_expiry_date_is_jalali_and_the_reward_and_campaign_are_named_in_persian(club_shop, page):
    shop = club_shop
    ready(page, shop.url, "fa")
    shop.tap(ALI)
    page.locator("#stage .campaigns-running").wait_for()
    assert "امتیاز دوبرابر" in page.locator("#stage .campaigns-running").inner_text()
    expiring = page.locator("#stage .expiring li").first.inner_text()
    assert "۱۴۰" in expiring and "منقضی" in expiring  # a Jalali year in Persian digits
    save_screenshot(page, "flow-club-balance-fa")


def test_a_profile_completed_from_the_balance_screen_pays_its_bonus_once_and_refuses_a_bad_birthday(club_shop, page):
    shop = club_shop
    ready(page, shop.url, "en")
    session = shop.rt.app.extensions["kiosk_flows"].tokens.seal("member", shop.ali)

    def send(body: dict) -> dict:
        return page.evaluate("""(body) => fetch("/api/profile", {method: "POST", credentials: "same-origin",
            headers: {"Content-Type": "application/json", "X-CSRFToken": document.getElementById("app").dataset.csrf},
            body: JSON.stringify(body)}).then(r => r.json().then(data => ({status: r.status, data})))""", body)

    before = shop.rt.store.balance(shop.ali).points
    bad = send({"session": session, "last_name": "Rezaei", "birthday": "1990-02-30"})
    assert bad["status"] == 422 and bad["data"]["field"] == "birthday"
    assert shop.rt.store.balance(shop.ali).points == before
    first = send({"session": session, "last_name": "Rezaei", "birthday_jalali": {"y": 1369, "m": 2, "d": 14}})
    assert (first["status"], first["data"]["bonus"], first["data"]["points"]) == (200, 50, before + 50)
    assert shop.rt.store.member(shop.ali).birthday == "1990-05-04"
    again = send({"session": session, "last_name": "Rezaei", "birthday": "1990-05-04"})
    assert (again["status"], again["data"]["bonus"]) == (200, 0)
    assert send({"session": "forged", "last_name": "X", "birthday": "1990-05-04"})["status"] == 403


def test_a_member_completes_their_profile_on_the_kiosk_screen_and_gets_the_bonus(club_shop, page):
    shop = club_shop
    ready(page, shop.url, "en")
    shop.tap(SARA)  # enrolled with a last name but no birthday
    page.locator("#stage [data-action=profile]").click()
    page.locator("#stage [data-action=profile-save]").wait_for()
    before = shop.rt.store.balance(shop.sara).points
    page.select_option('#stage [data-bd="d"]', "4")
    page.select_option('#stage [data-bd="m"]', "5")
    page.select_option('#stage [data-bd="y"]', "1990")
    page.locator("#stage [data-action=profile-save]").click()
    page.locator("#stage", has_text="your profile is complete").wait_for()
    assert "50 bonus points" in page.locator("#stage").inner_text()
    assert shop.rt.store.member(shop.sara).birthday == "1990-05-04"
    assert shop.rt.store.balance(shop.sara).points == before + 50
