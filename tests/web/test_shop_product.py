"""The shopper's screen as a product (issue 15, second round): what an idle page costs, configurable time-outs,
the lights matching the words, staff tasks, and the card bound when it is tapped a moment early."""
from __future__ import annotations

import secrets
from datetime import datetime, timezone

import pytest

from kiosk.sync.policy import LinkState
from kiosk.sync.worker import SyncStatus
from kiosk import protocol
from kiosk.receipts import Receipt, sign_receipt
from kiosk.ui_events import Feedback, UiEvent, feedback_for
from tests.conftest import save_screenshot, socket_connected, wait_until
from tests.web.conftest import ALI, BRANCH_KEY, LOST, SARA, STAFF_PIN, open_shop, ready, seed, tap_unique
from tests.web.test_shop_screens import hang_up
from tests.web.test_staff_and_pos import sign_in
from tests.web.test_shopper_flows import type_on_keyboard, type_on_keypad

pytestmark = pytest.mark.browser

COUNT_LINK_STATES = """() => { window.__links = [];
  window.Kiosk.socket.on('link_state', d => window.__links.push(d)); }"""


def report(shop, link: LinkState, second: int) -> None:
    """What the runtime's on_status does with each report of the sync worker."""
    at = datetime(2026, 5, 1, 10, 0, second, tzinfo=timezone.utc)
    status = SyncStatus(link=link, last_attempt_at=at, last_success_at=at)
    shop.rt.service.link = link.value
    shop.rt.service.emit(UiEvent.LINK_STATE, status.to_json())


def test_the_page_hears_the_link_only_when_it_changes_not_at_every_sync_report(shop, page):
    ready(page, shop.url, "en")
    page.evaluate(COUNT_LINK_STATES)
    for second in range(5):
        report(shop, LinkState.OFFLINE, second)
    page.locator("#offline:not([hidden])").wait_for()
    for second in range(5, 10):
        report(shop, LinkState.ONLINE, second)
    page.locator("#offline[hidden]").wait_for(state="attached")
    report(shop, LinkState.OFFLINE, 11)
    page.locator("#offline:not([hidden])").wait_for()
    # Exactly three changes reached the page, each only the link (no attempt times, no error texts).
    assert page.evaluate("window.__links") == [{"link": "offline"}, {"link": "online"}, {"link": "offline"}]
    # The staff screen still has the worker's latest full report, kept on the server.
    assert shop.rt.app.extensions["kiosk_flows"].link_status["last_attempt_at"].startswith("2026-05-01T10:00:11")
    report(shop, LinkState.ONLINE, 12)


def test_a_page_that_connects_hears_the_link_as_it_is_now(shop, page):
    report(shop, LinkState.OFFLINE, 20)
    page.goto(shop.url + "?lang=en")
    page.locator("#offline:not([hidden])").wait_for()
    # The page was rendered offline; the link came back before its socket connected.
    page.goto(shop.url + "?lang=en")
    report(shop, LinkState.ONLINE, 21)
    socket_connected(page)
    page.locator("#offline[hidden]").wait_for(state="attached")


def test_sign_up_screens_keep_the_chains_longer_time_out_while_a_balance_keeps_the_short_one(tmp_path, page):
    # A 4 s idle time-out clears without a warning (too short for one); the sign-up's 14 s warns in its last 5 s.
    rt = open_shop(tmp_path / "timeouts", idle_timeout_s=4, language="en", extra="[enrollment]\ntimeout_s = 14\n")
    try:
        shop = seed(rt)
        ready(page, rt.url, "en")
        shop.tap(SARA)
        page.locator("#stage .balance").wait_for()
        page.locator("#attract.active").wait_for(timeout=10000)
        assert page.locator("#still-there").is_hidden()
        page.locator("[data-action=join]").click()
        type_on_keypad(page, "0912")  # each key restarts the sign-up's own time-out, not the idle one
        page.locator("#still-there:not([hidden])").wait_for(timeout=16000)
        assert page.locator("#stage").get_attribute("data-screen") == "t-phone"
        page.locator("[data-action=still-here]").click()
        page.locator("#stage [data-field=phone]").click()  # a touch anywhere: still the sign-up's 14 s
        page.locator("#still-there:not([hidden])").wait_for(timeout=16000)
        assert page.locator("#stage").get_attribute("data-screen") == "t-phone"
    finally:
        rt.close()


def test_a_card_tapped_while_the_sign_up_is_being_sent_becomes_the_new_members_card(shop, page):
    """The tap lands after the server checked the answers and before the page heard back: it binds, and the
    page shows the welcome, neither "not in the club" nor a balance nor "tap your card"."""
    ready(page, shop.url, "en")
    uid = "C1" + secrets.token_hex(4).upper()
    ref = shop.rt.service.card_ref_for("rfid125", uid)

    def tap_before_the_answer_arrives(route):
        answer = route.fetch()
        shop.tap(uid)
        wait_until(lambda: shop.rt.store.card(ref) is not None, what="the early tap to be bound")
        route.fulfill(response=answer)

    page.route("**/api/enroll", tap_before_the_answer_arrives)
    to_consent(page, "09125550123", "Nima")
    page.locator("[data-action=consent-yes]").click()
    page.locator("#stage[data-screen=t-enrolled]").wait_for()
    assert page.locator("#ask").is_hidden()
    assert shop.rt.store.card(ref).member_id == shop.rt.store.member_by_phone("+989125550123").id


def to_consent(page, phone: str, name: str) -> None:
    page.locator("[data-action=join]").click()
    type_on_keypad(page, phone)
    page.locator("[data-action=phone-next]").click()
    page.locator(".keyboard").wait_for()
    type_on_keyboard(page, name)
    page.locator("[data-action=names-next]").click()
    page.locator("[data-action=extras-next]").click()
    page.locator("[data-action=consent-yes]").wait_for()


# What the shopper sees (the stage's screen and tone) and what the lights and buzzer play for it. A refusal is
# never the success pattern, a welcome never the error one: someone who looks away still knows.
TONE_PATTERNS = {"ok": {Feedback.SUCCESS}, "": {Feedback.SUCCESS},
                 "warn": {Feedback.UNKNOWN_CARD, Feedback.REFUSED_CARD}, "error": {Feedback.REFUSED_CARD, Feedback.ERROR}}


@pytest.fixture
def played(shop):
    heard: list[Feedback] = []
    active = [True]

    def record(name, payload):
        pattern = feedback_for(name, payload)
        if active[0] and pattern is not None:
            heard.append(pattern)

    shop.rt.service.subscribe(record)
    yield heard
    active[0] = False


def outcome(page, played, expected: Feedback) -> tuple[str, str]:
    wait_until(lambda: played, what="a light-and-sound pattern")
    screen = page.locator("#stage").get_attribute("data-screen")
    tone = page.locator("#stage").get_attribute("data-tone") or ""
    assert played == [expected], (screen, played)
    assert expected in TONE_PATTERNS[tone], (screen, tone, expected)
    played.clear()
    return screen, tone


def test_every_screen_outcome_plays_the_pattern_that_matches_what_the_screen_says(shop, page, played):
    seen = []
    ready(page, shop.url, "fa")  # the shop's language: Done does not reload the page
    shop.tap(SARA)
    page.locator("#stage .balance").wait_for()
    seen.append(outcome(page, played, Feedback.SUCCESS))
    page.locator("[data-action=done]").click()
    shop.tap(LOST)
    page.locator("#stage[data-screen=t-blocked]").wait_for()
    seen.append(outcome(page, played, Feedback.REFUSED_CARD))
    page.locator("[data-action=done]").click()
    shop.rt.service.emit(UiEvent.CARD_REFUSED, {"reason": "ISO 14443-4 (bank card?)"})
    page.locator("#stage[data-screen=t-notice]").wait_for()
    seen.append(outcome(page, played, Feedback.REFUSED_CARD))
    page.locator("[data-action=done]").click()
    tap_unique(shop, page)
    page.locator("#stage[data-screen=t-unknown]").wait_for()
    seen.append(outcome(page, played, Feedback.UNKNOWN_CARD))
    # Joining with the card just tapped: the welcome comes in the HTTP reply, and the lights still hear it.
    page.locator("[data-action=join-with-card]").click()
    type_on_keypad(page, "09125550190")
    page.locator("[data-action=phone-next]").click()
    page.locator(".keyboard").wait_for()
    type_on_keyboard(page, "نیما")
    page.locator("[data-action=names-next]").click()
    page.locator("[data-action=extras-next]").click()
    page.locator("[data-action=consent-no]").click()
    page.locator("#stage[data-screen=t-enrolled]").wait_for()
    seen.append(outcome(page, played, Feedback.SUCCESS))
    page.locator("[data-action=done]").click()
    # "Forgot your card?": a receipt claimed by a typed number, refused for nobody's number, then added.
    now = int(datetime.now(timezone.utc).timestamp())
    code = sign_receipt(BRANCH_KEY, Receipt("test-branch", "R-LIGHTS-1", 1_000_000, now - 60))
    page.locator("#attract [data-action=receipt]").click()
    page.locator("#stage .scan-input").fill(code)
    page.locator("#stage .scan-input").press("Enter")
    page.locator("[data-action=receipt-phone]").click()
    type_on_keypad(page, "09120000000")
    page.locator("[data-action=receipt-phone-ok]").click()
    page.locator("#stage .error:not(:empty)").wait_for()
    wait_until(lambda: played, what="the refusal's pattern")
    assert played == [Feedback.REFUSED_CARD]
    played.clear()
    page.locator(".keypad .key[data-key=back]").click(click_count=11)
    type_on_keypad(page, "09353334455")
    page.locator("[data-action=receipt-phone-ok]").click()
    page.locator("#stage[data-tone=ok]").wait_for()
    seen.append(outcome(page, played, Feedback.SUCCESS))
    assert [s for s, _ in seen] == ["t-balance", "t-blocked", "t-notice", "t-unknown", "t-enrolled", "t-notice"]


def test_staff_see_todays_activity_and_stop_a_members_text_messages_after_confirming(shop, page):
    service = shop.rt.service
    member = service.enroll("+989125550177", "Parisa", "Karimi", consent=True)
    service.earn(member.id, 4_000_000)
    ready(page, shop.url, "en")
    sign_in(page, STAFF_PIN)
    page.locator("[data-action=staff-today]").click()
    page.locator("#stage .today li", has_text="Parisa").first.wait_for()
    assert page.locator("#stage .today li", has_text="Parisa").first.inner_text().endswith("+400")
    page.locator("[data-action=staff-home]").click()
    page.locator("[data-action=staff-search]").click()
    type_on_keypad(page, "09125550177")
    page.locator("[data-action=staff-find]").click()
    page.locator("[data-action=staff-consent-open]").click()
    page.locator("#stage[data-screen=t-staff-confirm-consent]").wait_for()
    page.locator("#stage [data-action=staff-member]").click()  # Cancel: nothing changed
    page.locator("#stage[data-screen=t-staff-member]").wait_for()
    assert service.store.member(member.id).consent_version is not None
    page.locator("[data-action=staff-consent-open]").click()
    page.locator("[data-action=staff-consent-confirm]").click()
    page.locator("#stage .ok", has_text="stopped").wait_for()
    assert page.locator("[data-action=staff-consent-open]").is_hidden()  # nothing left to stop
    assert service.store.member(member.id).consent_version is None
    sent = [protocol.event_from_outbox(item.payload) for item in
            service.store.outbox_batch(1000, 10_000_000, datetime(2100, 1, 1, tzinfo=timezone.utc))]
    assert {"kind": "consent_withdrawn", "member_id": member.id, "staff_id": "pin"}.items() <= [
        e for e in sent if e["kind"] == "consent_withdrawn"][0].items()
    # A language button in staff mode asks nothing (staff are not a shopper mid-way).
    page.locator("a.lang[data-lang=fa]").click()
    page.wait_for_url("**/?lang=fa")
    assert page.locator("#ask").is_hidden()


def attract_shop(directory, reader_position: str):
    from dataclasses import replace as _replace

    from appliance.runtime import Runtime
    from kiosk.config import load, load_secrets
    from tests.web.conftest import shop_config

    settings = load(shop_config(directory, language="fa"))
    settings = _replace(settings, web=_replace(settings.web, reader_position=reader_position))
    return Runtime(settings, load_secrets(settings.device.secrets_file), port=0).start()


@pytest.mark.parametrize("reader", ["left", "right", "below"])
def test_the_idle_screen_points_at_the_reader_and_shows_the_chains_campaigns_and_rewards_in_turn(tmp_path, page, reader):
    from kiosk.rules.campaigns import Campaign

    rt = attract_shop(tmp_path / reader, reader)
    try:
        seed(rt)
        today = rt.service.local_today()
        rt.service.campaigns = (
            Campaign("double", "Double points", today, today, earn_multiplier_percent=200,
                     names={"fa": "امتیاز دوبرابر", "en": "Double points"}),
            Campaign("gold-only", "Gold week", today, today, target_tiers=frozenset({"gold"})),
            Campaign("later", "Next year", today.replace(year=today.year + 1), today.replace(year=today.year + 1)),
        )
        ready(page, rt.url, "fa")
        offers = page.locator("#attract .offer")
        texts = [offers.nth(i).text_content().strip() for i in range(offers.count())]
        assert "امتیاز دوبرابر" in texts[1] and "Free coffee" in texts[2] and "۲۰۰" in texts[2], texts
        assert not any("Gold week" in t or "Next year" in t for t in texts)  # not for everyone, or not today
        # In turn: the next one shows after the first, one at a time.
        # Slides turn every 5 s from the page's load: a slow start may have passed slide 1, back after a cycle.
        page.locator("#attract .offer[data-slide='1']:not([hidden])").wait_for(timeout=30_000)
        assert page.locator("#attract .offer:not([hidden])").count() == 1
        assert page.locator("#attract .tap-hint").is_visible() and page.locator("[data-action=join]").is_visible()
        arrow = page.locator("#attract .reader-pointer").bounding_box()
        width, height = page.viewport_size["width"], page.viewport_size["height"]
        where = {"left": arrow["x"] < width * 0.1, "right": arrow["x"] + arrow["width"] > width * 0.9,
                 "below": arrow["y"] + arrow["height"] > height * 0.85}
        assert where[reader], (reader, arrow)  # the physical side, in a right-to-left page too
        save_screenshot(page, f"attract-reader-{reader}-fa")
    finally:
        rt.close()


BRAND_CONFIG = {"rules": {}, "tiers": [{"name": "bronze", "min_points": 0, "multiplier_percent": 100}],
                "rewards": [{"id": "coffee", "name": "Free coffee", "cost_points": 200}], "campaigns": []}


def test_the_chains_brand_from_the_cloud_is_on_every_screen_in_each_language_and_served_by_the_kiosk(tmp_path, page):
    from tests.support.brand_kit import branding, png

    rt = open_shop(tmp_path / "brand", language="fa")
    try:
        shop = seed(rt)
        rt.service.apply_config({**BRAND_CONFIG, "branding": branding()})  # what the sync worker's pull does
        for lang, name, welcome in (("fa", "فروشگاه گلستان", "به باشگاه گلستان خوش آمدید"),
                                    ("ar", "متجر كلستان", "أهلاً بكم في نادي كلستان"),
                                    ("en", "Golestan Market", "Welcome to the Golestan club")):
            ready(page, rt.url, lang)
            assert page.locator("#attract h1").inner_text() == welcome
            screens = []
            for step in ("attract", "balance", "staff"):
                if step == "balance":
                    shop.tap(SARA if lang != "ar" else ALI)
                    page.locator("#stage .balance").wait_for()
                if step == "staff":
                    page.locator("[data-action=done]").click()
                    ready(page, rt.url, lang)
                    sign_in(page, STAFF_PIN)
                    page.locator("#stage .status").wait_for()
                assert page.locator(".topbar .brand").inner_text() == name, (lang, step)
                assert page.locator(".topbar .brand img.logo").evaluate("img => img.complete && img.naturalWidth") == 4
                accent = page.locator("button.primary:visible").first.evaluate("b => getComputedStyle(b).backgroundColor")
                assert accent == "rgb(46, 157, 91)", (lang, step, accent)
                assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(27, 27, 47)"
                screens.append(step)
            save_screenshot(page, f"brand-staff-{lang}")
            hang_up(page)
        logo = page.request.get(rt.url.rstrip("/") + "/brand/logo")
        assert logo.status == 200 and logo.headers["content-type"] == "image/png" and logo.body() == png()
        # A chain that named itself only in English has no English name on the Persian screen.
        rt.service.apply_config({**BRAND_CONFIG, "branding": {"name": {"en": "Golestan Market"}}})
        ready(page, rt.url, "fa")
        assert page.locator(".topbar .brand").inner_text() == page.locator("title").inner_text() == "باشگاه مشتریان"
        assert page.request.get(rt.url.rstrip("/") + "/brand/logo").status == 404
        ready(page, rt.url, "en")
        assert page.locator(".topbar .brand").inner_text() == "Golestan Market"
    finally:
        hang_up(page)
        rt.close()


PRESSED = """el => { const s = getComputedStyle(el); return [s.transform, s.filter].join(' '); }"""
SLOW_TRANSITIONS = """[...document.querySelectorAll('*')].filter(e => e.getClientRects().length)
    .flatMap(e => getComputedStyle(e).transitionDuration.split(',').map(parseFloat)).filter(s => s > 0.15).length"""


def pressed_look_differs(page, locator) -> bool:
    """Hold the pointer down on the control and compare; leave it before letting go, so nothing is clicked."""
    locator.scroll_into_view_if_needed()
    before = locator.evaluate(PRESSED)
    box = locator.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    try:
        wait_until(lambda: locator.evaluate(PRESSED) != before, what="the pressed look", timeout_s=2)
        return True
    finally:
        page.mouse.move(1, page.viewport_size["height"] - 1)
        page.mouse.up()


def test_every_kind_of_control_shows_it_is_pressed_transitions_are_quick_and_points_are_the_largest_figure(shop, page):
    ready(page, shop.url, "fa")
    assert page.evaluate(SLOW_TRANSITIONS) == 0
    for selector in ("[data-action=join]", "[data-action=receipt]", "a.lang:not(.current)", "[data-action=staff]"):
        assert pressed_look_differs(page, page.locator(selector).first), selector
    page.locator("[data-action=join]").click()
    page.locator("#stage .keypad .key").first.wait_for()
    assert pressed_look_differs(page, page.locator("#stage .keypad .key").first)
    assert page.evaluate(SLOW_TRANSITIONS) == 0
    page.locator("#stage [data-action=done]").click()
    shop.tap(SARA)
    page.locator("#stage .balance").wait_for()
    assert page.evaluate(SLOW_TRANSITIONS) == 0
    sizes = page.evaluate("""[...document.querySelectorAll('#stage *')].filter(e => e.getClientRects().length
        && [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
        .map(e => [e.dataset.field || e.tagName, parseFloat(getComputedStyle(e).fontSize)])""")
    largest = max(size for _, size in sizes)
    assert dict(sizes)["points"] == largest, sizes
    page.locator("#stage [data-action=done]").click()
