"""One-time SMS codes in the enrolment wizard, against a real reference cloud on loopback.

The code is read where a pilot reads it: the cloud's SMS outbox. Every tap is a real RDM6300 frame.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Callable, Iterator

import pytest

from cloud.app import create_app
from cloud.otp import OutboxSender
from appliance.web_server import WebServer
from kiosk.config import load, load_secrets
from appliance.runtime import Runtime
from kiosk.sync.client import CloudClient
from kiosk.sync.files import Credentials, save_credentials
from kiosk.sync.setup import credentials_path
from tests.conftest import wait_until
from tests.support.ports import refusing_port
from tests.web.conftest import Shop, ready, seed, shop_config, tap_unique
from tests.web.test_screenshot_tour import SIZES, shot
from tests.web.test_shopper_flows import type_on_keyboard, type_on_keypad

pytestmark = pytest.mark.browser
ALI_LOCAL, ALI_E164 = "09353334455", "+989353334455"
SARA_LOCAL, SARA_E164 = "09121234567", "+989121234567"


class CloudShop(Shop):
    outbox: OutboxSender

    def code_for(self, phone: str, seen: int = 0) -> str:
        """The newest code texted to ``phone``, waiting until more than ``seen`` messages went to it."""
        def texts() -> list[str] | None:
            found = [m.text for m in self.outbox.pending() if m.phone == phone]
            return found if len(found) > seen else None

        return re.search(r"\b(\d{6})\b", wait_until(texts, what=f"an SMS to {phone}")[-1]).group(1)

    def texts_to(self, phone: str) -> int:
        return sum(m.phone == phone for m in self.outbox.pending())


def open_kiosk(directory: Path, cloud_url: str, register: Callable | None) -> Runtime:
    settings = load(shop_config(directory, extra=f'[cloud]\nurl = "{cloud_url}"\n\n[enrollment]\nsms_otp = true\n'))
    device_id, device_key = register() if register else ("00000000-0000-4000-8000-000000000000", "ab" * 32)
    save_credentials(credentials_path(settings), Credentials(cloud_url, device_id, device_key, "test-branch"))
    return Runtime(settings, load_secrets(settings.device.secrets_file), port=0).start()


@pytest.fixture(scope="module")
def cloud_shop(tmp_path_factory) -> Iterator[CloudShop]:
    base = tmp_path_factory.mktemp("otp")
    app = create_app(base / "cloud.sqlite")
    store = app.extensions["cloud_store"]
    with WebServer(app) as server:
        def register() -> tuple[str, str]:
            with CloudClient(server.url) as client:
                client.register(store.create_token("test-branch"), name="otp-kiosk")
                return client.device_id, client.device_key

        rt = open_kiosk(base / "kiosk", server.url, register)
        try:
            shop = seed(rt)
            with_cloud = CloudShop(shop.rt, shop.sara, shop.ali)
            with_cloud.outbox = OutboxSender(store)
            yield with_cloud
        finally:
            rt.close()
    store.close()


def cards_and_ledger(shop: Shop, member_id: str) -> tuple[list, list]:
    store = shop.rt.store
    return ([(c.card_ref, c.state) for c in store.cards_of(member_id)],
            [(r.kind, r.points) for r in store.history(member_id, limit=1000)])


def test_a_member_adds_a_card_after_typing_the_code_from_the_sms_and_a_wrong_code_says_attempts_left(cloud_shop, page):
    shop, store, service = cloud_shop, cloud_shop.rt.store, cloud_shop.rt.service
    cards_before, ledger_before = cards_and_ledger(shop, shop.ali)
    seen = shop.texts_to(ALI_E164)
    ready(page, shop.url, "en")
    page.locator("[data-action=join]").click()
    type_on_keypad(page, ALI_LOCAL)
    page.locator("[data-action=phone-next]").click()
    page.locator("#stage h1", has_text="Enter the code").wait_for()
    code = shop.code_for(ALI_E164, seen)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    type_on_keypad(page, wrong)
    page.locator("[data-action=code-next]").click()
    page.locator("#stage .error", has_text="4 attempts left").wait_for()
    assert page.locator("#stage [data-field=code]").inner_text() == ""
    type_on_keypad(page, code)
    page.locator("[data-action=code-next]").click()
    page.locator("#stage h1", has_text="already a member").wait_for()
    assert "Ali" not in page.locator("#stage").inner_text() and "علی" not in page.locator("#stage").inner_text()
    uid = tap_unique(shop, page)
    page.locator("#stage h1", has_text="now part of your membership").wait_for()
    card = store.card(service.card_ref_for("rfid125", uid))
    assert card.member_id == shop.ali and card.state == "active"
    cards_after, ledger_after = cards_and_ledger(shop, shop.ali)
    assert len(cards_after) == len(cards_before) + 1 and ledger_after == ledger_before


def test_join_with_this_card_on_a_members_number_binds_the_tapped_card_once_the_code_is_verified(cloud_shop, page):
    shop, store, service = cloud_shop, cloud_shop.rt.store, cloud_shop.rt.service
    seen = shop.texts_to(ALI_E164)
    ready(page, shop.url, "en")
    uid = tap_unique(shop, page)
    page.locator("[data-action=join-with-card]").click()
    type_on_keypad(page, ALI_LOCAL)
    page.locator("[data-action=phone-next]").click()
    page.locator("#stage [data-action=code-next]").wait_for()
    assert store.card(service.card_ref_for("rfid125", uid)) is None
    type_on_keypad(page, shop.code_for(ALI_E164, seen))
    page.locator("[data-action=code-next]").click()
    page.locator("#stage h1", has_text="now part of your membership").wait_for()
    assert store.card(service.card_ref_for("rfid125", uid)).member_id == shop.ali


def test_without_the_code_a_members_number_binds_nothing(cloud_shop, page):
    shop, store, service = cloud_shop, cloud_shop.rt.store, cloud_shop.rt.service
    before = cards_and_ledger(shop, shop.sara)
    ready(page, shop.url, "en")
    page.locator("[data-action=join]").click()
    type_on_keypad(page, SARA_LOCAL)
    page.locator("[data-action=phone-next]").click()
    page.locator("#stage h1", has_text="Enter the code").wait_for()
    page.locator("[data-action=code-next]").click()  # nothing typed
    page.locator("#stage .error", has_text="6 digits").wait_for()
    uid = tap_unique(shop, page)  # a tap on the code screen is just an unknown card (after asking)
    page.locator("#ask:not([hidden])").wait_for()
    page.locator("[data-action=ask-go]").click()
    page.locator("#stage h1", has_text="not in the club").wait_for()
    refused = page.evaluate("""fetch('/api/enroll/await-card', {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.getElementById('app').dataset.csrf},
        body: JSON.stringify({add_card: 'forged', member: null})}).then(r => r.status)""")
    assert refused == 403
    assert store.card(service.card_ref_for("rfid125", uid)) is None
    assert cards_and_ledger(shop, shop.sara) == before


def test_a_new_member_confirms_the_number_with_the_code_before_the_wizard_goes_on(cloud_shop, page):
    shop, store = cloud_shop, cloud_shop.rt.store
    ready(page, shop.url, "fa")
    page.locator("[data-action=join]").click()
    type_on_keypad(page, "09125557777")
    page.locator("[data-action=phone-next]").click()
    page.locator("#stage [data-action=code-next]").wait_for()
    assert page.locator("html").get_attribute("dir") == "rtl"
    # Skipping the code step is refused by the server too, and saves nothing.
    skipped = page.evaluate("""fetch('/api/enroll', {method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.getElementById('app').dataset.csrf},
        body: JSON.stringify({phone: '09125557777', first_name: 'Nima', consent: false})}).then(r => r.json())""")
    assert skipped["error"] == "otp_required" and store.member_by_phone("+989125557777") is None
    type_on_keypad(page, shop.code_for("+989125557777"))
    page.locator("[data-action=code-next]").click()
    page.locator(".keyboard").wait_for()
    type_on_keyboard(page, "نیما")
    page.locator("[data-action=names-next]").click()
    page.locator("[data-action=extras-next]").click()
    page.locator("[data-action=consent-no]").click()
    page.locator("#stage [data-action=no-card]").wait_for()
    assert store.member_by_phone("+989125557777") is None  # written only together with its first card
    page.locator("#stage [data-action=no-card]").click()
    page.locator("#stage img.qr:not([hidden])").wait_for()
    assert store.member_by_phone("+989125557777").first_name == "نیما"


def test_asking_for_too_many_codes_for_one_number_is_refused_with_a_clear_message(cloud_shop, page):
    ready(page, cloud_shop.url, "en")
    page.locator("[data-action=join]").click()
    type_on_keypad(page, "09125554444")
    page.locator("[data-action=phone-next]").click()
    page.locator("#stage [data-action=code-next]").wait_for()
    for _ in range(2):
        page.locator("[data-action=code-resend]").click()
        page.locator("#stage .error", has_text="new code is on its way").wait_for()
        page.evaluate("document.querySelector('#stage .error').textContent = ''")
    page.locator("[data-action=code-resend]").click()
    page.locator("#stage .error", has_text="Too many codes").wait_for()
    assert cloud_shop.texts_to("+989125554444") == 3


@pytest.fixture
def unreachable_shop(tmp_path) -> Iterator[Shop]:
    with refusing_port() as port:  # held, never listening, for the whole test
        rt = open_kiosk(tmp_path / "kiosk", f"http://127.0.0.1:{port}", None)
        try:
            yield seed(rt)
        finally:
            rt.close()


def test_with_the_cloud_unreachable_the_screen_says_codes_cannot_be_sent_and_to_ask_staff_for_a_card(unreachable_shop, page):
    shop = unreachable_shop
    before = cards_and_ledger(shop, shop.ali)
    ready(page, shop.url, "en")
    page.locator("[data-action=join]").click()
    type_on_keypad(page, ALI_LOCAL)
    page.locator("[data-action=phone-next]").click()
    page.locator("#stage h1", has_text="No code can be sent right now").wait_for()
    assert "ask staff at the counter" in page.locator("#stage").inner_text()
    page.locator("[data-action=done]").click()
    page.wait_for_url(shop.url)  # back to the shop's language (fa) for the next shopper
    ready(page, shop.url, "en")
    page.locator("[data-action=join]").click()
    type_on_keypad(page, "09125558888")
    page.locator("[data-action=phone-next]").click()
    page.locator("#stage h1", has_text="No code can be sent right now").wait_for()
    assert "try again later" in page.locator("#stage").inner_text()
    assert shop.rt.store.member_by_phone("+989125558888") is None
    assert cards_and_ledger(shop, shop.ali) == before


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_the_code_screen_fits_every_size_in_three_languages(cloud_shop, browser, size):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    try:
        for i, lang in enumerate(("fa", "ar", "en")):
            phone = f"0912{size[0] % 1000:03d}{i:04d}"  # a fresh number per shot: the cloud limits codes per phone
            ready(page, cloud_shop.url, lang)
            page.locator("[data-action=join]").click()
            type_on_keypad(page, phone)
            page.locator("[data-action=phone-next]").click()
            page.locator("#stage [data-action=code-next]").wait_for()
            type_on_keypad(page, "000")
            page.locator("[data-action=code-next]").click()  # too short: the error line is on screen too
            page.locator("#stage .error:not(:empty)").wait_for()
            shot(page, "enrol-code", lang, size)
    finally:
        context.close()


CODE_API = """([path, body]) => fetch(path, {method: 'POST', credentials: 'same-origin',
    headers: {'Content-Type': 'application/json', 'X-CSRFToken': document.getElementById('app').dataset.csrf},
    body: JSON.stringify(body)}).then(r => r.json().then(j => [r.status, j.error]))"""


def test_the_code_endpoints_refuse_a_bad_phone_number_and_say_when_codes_are_off(cloud_shop, page, tmp_path):
    ready(page, cloud_shop.url, "en")
    for path in ("/api/enroll/code/send", "/api/enroll/code/verify"):
        assert page.evaluate(CODE_API, [path, {"phone": "12", "code": "123456"}]) == [422, "invalid_phone"]
    texts_before = cloud_shop.texts_to("+989125550000")
    rt = Runtime(load(shop_config(tmp_path / "no-codes")), load_secrets(tmp_path / "no-codes" / "secrets.toml"),
                 port=0).start()
    try:
        ready(page, rt.url, "en")
        for path in ("/api/enroll/code/send", "/api/enroll/code/verify"):
            assert page.evaluate(CODE_API, [path, {"phone": "09125550000", "code": "123456"}]) == [409, "otp_off"]
    finally:
        rt.close()
    assert cloud_shop.texts_to("+989125550000") == texts_before
