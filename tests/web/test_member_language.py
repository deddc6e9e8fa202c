"""The member's own language: chosen on the profile screen, saved with the profile (and sent to the chain), and
the screen their next tap shows is in it. The API over Flask's test client, the screens in Debian chromium at
800x480 (the 7-inch panel)."""
from __future__ import annotations

import json

import pytest

from tests.conftest import save_screenshot
from tests.web.conftest import SARA, open_shop, ready, seed
from tests.web.test_engagement_screens import small_buttons
from tests.web.test_shop_screens import nothing_scrolls


def member_updates(store, member_id: str) -> list[dict]:
    rows = store.query("SELECT payload FROM outbox WHERE json_extract(payload, '$.kind') = 'member_updated'")
    return [json.loads(r["payload"]) for r in rows if json.loads(r["payload"])["member"]["id"] == member_id]


def test_the_profile_saves_the_language_chosen_and_refuses_one_the_kiosk_does_not_speak(counter):
    session = counter.app.extensions["kiosk_flows"].tokens.seal("member", counter.sara)
    bad = counter.post("/api/profile", {"session": session, "birthday": "1990-05-04", "language": "de"})
    assert (bad.status_code, bad.get_json()["error"]) == (422, "invalid_language")
    assert counter.service.store.member(counter.sara).language is None and member_updates(counter.service.store,
                                                                                            counter.sara) == []
    saved = counter.post("/api/profile", {"session": session, "birthday": "1990-05-04", "language": "ar"})
    assert saved.status_code == 200 and saved.get_json()["bonus"] == 50
    assert counter.service.store.member(counter.sara).language == "ar"
    [sent] = member_updates(counter.service.store, counter.sara)
    assert sent["member"]["language"] == "ar" and sent["member"]["profile_at"] == sent["created_at"]
    # A complete profile changes only what is given: the language again, the birthday kept, no second bonus.
    again = counter.post("/api/profile", {"session": session, "language": "en"})
    assert (again.status_code, again.get_json()["bonus"]) == (200, 0)
    member = counter.service.store.member(counter.sara)
    assert (member.language, member.birthday, member.last_name) == ("en", "1990-05-04", "Ahmadi")


def test_a_balance_moved_to_the_members_language_is_fetched_once_and_only_with_a_real_token(counter):
    tokens = counter.app.extensions["kiosk_flows"].tokens
    session = tokens.seal("member", counter.sara)
    assert counter.post("/api/member/again").get_json() == {"member": None}  # nothing waits
    refused = counter.post("/api/member/language", {"session": session})
    assert (refused.status_code, refused.get_json()["error"]) == (409, "no_language")  # she never chose one
    assert counter.post("/api/member/language", {"session": "forged"}).status_code == 403
    assert counter.post("/api/member/language", {"session": session}, csrf=False).status_code == 400
    counter.post("/api/profile", {"session": session, "birthday": "1990-05-04", "language": "ar"})
    too_big = counter.post("/api/member/language", {"session": session, "draw_wins": [{"x": "y" * 3000}]})
    assert (too_big.status_code, too_big.get_json()["error"]) == (400, "bad_request")

    wins = [{"draw_id": "yalda", "name": "Yalda draw"}]
    moved = counter.post("/api/member/language", {"session": session, "card_label": "…3D4E", "draw_wins": wins})
    assert moved.get_json() == {"lang": "ar"}
    screen = counter.post("/api/member/again").get_json()["member"]
    assert (screen["first_name"], screen["language"], screen["card_label"], screen["draw_wins"]) == (
        "Sara", "ar", "…3D4E", wins)
    assert "member_id" not in screen and tokens.open("member", screen["session"], 60) == counter.sara
    assert counter.post("/api/member/again").get_json() == {"member": None}  # once


@pytest.mark.browser
def test_a_member_picks_arabic_on_the_profile_screen_and_the_next_tap_shows_her_balance_in_arabic(tmp_path, browser):
    rt = open_shop(tmp_path / "languages", language="fa")
    context = browser.new_context(viewport={"width": 800, "height": 480})
    page = context.new_page()
    try:
        shop = seed(rt)
        ready(page, rt.url, "fa")
        shop.tap(SARA)  # enrolled with a last name, no birthday and no language: the shop's Persian
        page.locator("#stage .balance").wait_for()
        page.locator("#stage [data-action=profile]").click()
        chooser = page.locator("#stage .profile-language")
        chooser.wait_for()
        assert [b.inner_text() for b in chooser.locator("button").all()] == ["فارسی", "العربية", "English"]
        assert chooser.locator("[aria-pressed=true]").inner_text() == "فارسی"  # what the screen shows now
        page.select_option('#stage [data-bd="y"]', "1369")  # the Jalali picker of a Persian screen
        page.select_option('#stage [data-bd="m"]', "2")
        page.select_option('#stage [data-bd="d"]', "14")
        chooser.locator("[data-lang=ar]").click()
        assert chooser.locator("[aria-pressed=true]").inner_text() == "العربية"
        save_screenshot(page, "profile-language-fa-800x480")
        assert nothing_scrolls(page) and small_buttons(page) == []
        page.locator("#stage [data-action=profile-save]").click()
        page.locator("#stage[data-screen=t-notice]").wait_for()
        member = rt.store.member(shop.sara)
        assert (member.language, member.birthday) == ("ar", "1990-05-04")
        assert member_updates(rt.store, shop.sara)[-1]["member"]["language"] == "ar"  # to the chain
        page.locator("#stage [data-action=done]").click()
        page.locator("#attract").wait_for()
        assert page.locator("html").get_attribute("lang") == "fa"

        shop.tap(SARA)
        page.locator("html[lang=ar][dir=rtl]").wait_for(state="attached")
        page.locator("#stage .balance").wait_for()
        assert page.locator("#stage .balance").evaluate("e => getComputedStyle(e).direction") == "rtl"
        text = page.locator("#stage").inner_text()
        assert "Sara" in text and "نقطة" in text  # her balance, in Arabic
        assert page.locator("#stage [data-action=profile]").inner_text() == "ملفك الشخصي ولغتك"
        assert nothing_scrolls(page)
        save_screenshot(page, "member-language-ar-800x480")
        page.locator("#stage [data-action=done]").click()  # and back to the shop's language for the next one
        page.locator("html[lang=fa]").wait_for(state="attached")
        assert rt.store.verify() == []
    finally:
        context.close()
        rt.close()
